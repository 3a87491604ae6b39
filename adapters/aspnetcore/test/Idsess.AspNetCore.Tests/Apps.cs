using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Idsess.AspNetCore.Tests;

/// <summary>OpenIddict's applications, authorizations and tokens: in memory (idsess holds only sessions).</summary>
public sealed class OidcDb(DbContextOptions<OidcDb> options) : DbContext(options);

/// <summary>Holds a relying party's <c>/slow</c> request until the test lets it go.</summary>
public sealed class Gate
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The identity server and relying parties of the end-to-end test, each on Kestrel over loopback.</summary>
public static class Apps
{
    public const string ServerScheme = "idsrv";
    public const string Password = "correct horse";
    public const string Tenant = "e2e-tenant";

    private static WebApplicationBuilder Builder(Logs logs)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Information);
        return builder;
    }

    /// <summary>An OpenIddict 7 server whose login cookie lives in idsess; clients join the session.</summary>
    public static async Task<WebApplication> StartServerAsync(string connectionString, Logs logs)
    {
        var builder = Builder(logs);
        var database = "oidc-" + Guid.NewGuid().ToString("N");
        builder.Services.AddDbContext<OidcDb>(o => o.UseInMemoryDatabase(database).UseOpenIddict());
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<OidcDb>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/logout");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile);
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
                o.AddIdsessClients();
            });
        builder.Services.AddAuthentication(ServerScheme).AddCookie(ServerScheme, o =>
        {
            o.LoginPath = "/login";
            o.ExpireTimeSpan = TimeSpan.FromHours(1);
        });
        builder.Services.AddAuthorization();
        builder.Services.AddIdsessTicketStore(connectionString, ServerScheme, o =>
        {
            o.Issuer = "e2e-server";
            // As a multi-tenant server resolves it: from the host the request came to.
            o.TenantResolver = ctx => ctx.Request.Host.Host == "127.0.0.1" ? Tenant : null;
            o.MaxLifetime = TimeSpan.FromHours(8);
            o.DeviceLabel = ctx => "agent " + ctx.Request.Headers.UserAgent.ToString().Split('/')[0];
        });

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/login", (HttpContext ctx) => Results.Content($"""
            <!doctype html><title>Sign in</title>
            <form method="post" action="/login">
              <input type="hidden" name="ReturnUrl" value="{WebUtility.HtmlEncode(ctx.Request.Query["ReturnUrl"].ToString())}">
              <input name="username"> <input name="password" type="password"> <button>Sign in</button>
            </form>
            """, "text/html"));
        app.MapPost("/login", async (HttpContext ctx) =>
        {
            var form = await ctx.Request.ReadFormAsync();
            var user = form["username"].ToString();
            if (form["password"] != Password || user.Length == 0)
            {
                return Results.Unauthorized();
            }
            var identity = new ClaimsIdentity([new Claim("sub", user), new Claim("name", "User " + user), new Claim("acr", "urn:e2e:password"),
                new Claim("amr", "pwd"), new Claim("auth_time", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))],
                "pwd", "name", "role");
            await ctx.SignInAsync(ServerScheme, new ClaimsPrincipal(identity));
            var returnUrl = form["ReturnUrl"].ToString();
            return Results.LocalRedirect(returnUrl.Length > 0 ? returnUrl : "/");
        });
        app.MapGet("/me", (ClaimsPrincipal user) => user.FindFirst("sub")!.Value).RequireAuthorization();
        app.MapMethods("/connect/authorize", ["GET", "POST"], async (HttpContext ctx) =>
        {
            var request = ctx.GetOpenIddictServerRequest()!;
            var session = await ctx.AuthenticateAsync(ServerScheme);
            if (!session.Succeeded)
            {
                if (request.HasPromptValue(PromptValues.None))
                {
                    return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
                    {
                        [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.LoginRequired,
                    }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
                }
                return Results.Challenge(new AuthenticationProperties { RedirectUri = ctx.Request.PathBase + ctx.Request.Path + ctx.Request.QueryString }, [ServerScheme]);
            }
            var identity = new ClaimsIdentity("e2e", Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, session.Principal!.FindFirst("sub")!.Value)
                .SetClaim(Claims.Name, session.Principal.FindFirst("name")!.Value);
            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("/connect/token", async (HttpContext ctx) =>
        {
            var code = await ctx.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return Results.SignIn(code.Principal!, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapMethods("/connect/logout", ["GET", "POST"], async (HttpContext ctx) =>
        {
            await ctx.SignOutAsync(ServerScheme);
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>Registers a relying party with the server: confidential, code flow with PKCE.</summary>
    public static async Task RegisterClientAsync(WebApplication server, string clientId, Uri rp)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = clientId + "-secret",
            ClientType = ClientTypes.Confidential,
            ConsentType = ConsentTypes.Implicit,
            RedirectUris = { new Uri(rp, "/signin-" + clientId) },
            PostLogoutRedirectUris = { new Uri(rp, "/signout-callback-" + clientId) },
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode, Permissions.ResponseTypes.Code, Permissions.Scopes.Profile,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        await manager.CreateAsync(descriptor);
    }

    /// <summary>
    /// A relying party: ASP.NET Core's OpenID Connect handler, its own cookie (scheme = client id) in idsess.
    /// <c>/slow</c> renews its cookie and waits for <paramref name="gate"/> before it answers.
    /// </summary>
    public static async Task<WebApplication> StartRelyingPartyAsync(string clientId, Uri server, string connectionString, Logs logs, Gate gate)
    {
        var builder = Builder(logs);
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = clientId;
                o.DefaultChallengeScheme = "oidc";
            })
            .AddCookie(clientId, o => o.Events.OnValidatePrincipal = c =>
            {
                c.ShouldRenew = c.Request.Path == "/slow";
                return Task.CompletedTask;
            })
            .AddOpenIdConnect("oidc", o =>
            {
                o.Authority = server.ToString();
                o.RequireHttpsMetadata = false;
                o.ClientId = clientId;
                o.ClientSecret = clientId + "-secret";
                o.ResponseType = "code";
                o.ResponseMode = "query";
                o.UsePkce = true;
                o.SaveTokens = true;
                o.MapInboundClaims = false;
                o.CallbackPath = "/signin-" + clientId;
                o.SignedOutCallbackPath = "/signout-callback-" + clientId;
                o.Scope.Clear();
                o.Scope.Add(Scopes.OpenId);
                o.Scope.Add(Scopes.Profile);
                o.CorrelationCookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.TokenValidationParameters.NameClaimType = "name";
            });
        builder.Services.AddAuthorization();
        builder.Services.AddIdsessTicketStore(connectionString);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/", (ClaimsPrincipal user) => "hello " + user.FindFirst("sub")!.Value).RequireAuthorization();
        app.MapGet("/slow", async (ClaimsPrincipal user) =>
        {
            gate.Entered.TrySetResult();
            await gate.Release.Task;
            return "slow " + user.FindFirst("sub")!.Value;
        }).RequireAuthorization();
        app.MapGet("/logout", () => Results.SignOut(new AuthenticationProperties { RedirectUri = "/bye" }, [clientId, "oidc"]));
        app.MapGet("/bye", () => "signed out");
        await app.StartAsync();
        return app;
    }

    public static Uri BaseUri(this WebApplication app) => new(app.Urls.First() + "/");
}
