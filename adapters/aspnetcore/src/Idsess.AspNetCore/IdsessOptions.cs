using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Idsess.AspNetCore;

/// <summary>
/// Settings of the idsess ticket store and session management service.
/// </summary>
public sealed class IdsessOptions
{
    /// <summary>
    /// The schema the idsess extension is installed in (<c>SELECT extnamespace::regnamespace FROM pg_extension
    /// WHERE extname = 'idsess'</c>). Every call names it, so a function planted earlier on the login role's
    /// search_path is never called. Default <c>public</c>.
    /// </summary>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Claim types tried in order for the session's subject. Default: <c>sub</c>, then the name identifier.
    /// </summary>
    public IList<string> SubjectClaimTypes { get; } = new List<string> { "sub", ClaimTypes.NameIdentifier };

    /// <summary>
    /// Claim types tried in order for the session id (<c>sid</c>). When none is present idsess generates one.
    /// </summary>
    public IList<string> SessionIdClaimTypes { get; } = new List<string> { "sid" };

    /// <summary>
    /// Claim types tried in order for the searchable display name. Default: <c>name</c>, then
    /// <see cref="ClaimTypes.Name"/>. Clear the list to store no display name.
    /// </summary>
    public IList<string> DisplayNameClaimTypes { get; } = new List<string> { "name", ClaimTypes.Name };

    /// <summary>
    /// The issuer stored with each session (idsess returns it with revoked and expired sessions, for logout
    /// tokens). Null: none.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// The inactivity timeout given to new sessions. Null: the server's <c>idsess.idle_timeout</c> setting;
    /// <see cref="TimeSpan.Zero"/>: none. Only a renewal counts as activity, so keep it longer than the
    /// cookie's sliding renewal interval (half its <c>ExpireTimeSpan</c>).
    /// </summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// The cookie scheme whose session an OpenIddict sign-in adds its client to. Null: the session the request
    /// was authenticated with (the only one, or the first one read).
    /// </summary>
    public string? ClientSessionScheme { get; set; }

    /// <summary>
    /// The tenant of the sessions this store creates (idsess 1.2), when <see cref="TenantResolver"/> gives none.
    /// Null: idsess's default tenant. A session's tenant never changes; a tenant admin sees its tenants' sessions.
    /// </summary>
    public string? Tenant { get; set; }

    /// <summary>
    /// The tenant of the request being served, for a server that resolves tenants per request (host name, path):
    /// used for new sessions, renewals and <see cref="IIdsessSessionManager.SignOutOtherSessionsAsync"/>. Null, or
    /// a null result: <see cref="Tenant"/>.
    /// </summary>
    public Func<HttpContext, string?>? TenantResolver { get; set; }

    /// <summary>
    /// The absolute lifetime of new sessions (idsess 1.2): however often renewed, a session ends at its creation
    /// plus this. Null: the server's <c>idsess.max_lifetime</c> setting; <see cref="TimeSpan.Zero"/>: none.
    /// </summary>
    public TimeSpan? MaxLifetime { get; set; }

    /// <summary>
    /// Claim types tried in order for the sign-in's authentication context class (idsess 1.2 records it, and a
    /// renewal carrying a new one records a step-up). Default: <c>acr</c>.
    /// </summary>
    public IList<string> AcrClaimTypes { get; } = new List<string> { "acr" };

    /// <summary>
    /// Claim types tried in order for the authentication methods: every value of the first type present
    /// (<c>pwd</c>, <c>otp</c>, <c>hwk</c> ...). Default: <c>amr</c>.
    /// </summary>
    public IList<string> AmrClaimTypes { get; } = new List<string> { "amr" };

    /// <summary>
    /// Claim types tried in order for when the user authenticated, in seconds since 1970 as OpenID Connect
    /// writes it. Default: <c>auth_time</c>.
    /// </summary>
    public IList<string> AuthTimeClaimTypes { get; } = new List<string> { "auth_time" };

    /// <summary>
    /// A device label for the request's session ("Firefox on Linux", a device cookie's name), shown on a "your
    /// sessions" page. Null: none. With the client's IP address and user agent, which the store takes from the
    /// request, it is kept only as far as the server's <c>idsess.record_client</c> allows.
    /// </summary>
    public Func<HttpContext, string?>? DeviceLabel { get; set; }
}
