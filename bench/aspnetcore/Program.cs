// Authenticated requests per second of a minimal ASP.NET Core endpoint whose cookie's ticket is kept by
// (a) idsess (Idsess.AspNetCore), (b) an EF Core (Npgsql) table holding the Data-Protection-protected ticket,
// as Duende's EF store holds it, (c) an in-memory ticket store (the MemoryCacheTicketStore pattern); same
// process, same machine, interleaved rounds. Also: the sign-in's time in the store and the ticket bytes kept
// per session. Run by run.sh, which starts the cluster.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Idsess.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

var cs = Environment.GetEnvironmentVariable("IDSESS_BENCH_CS") ?? throw new InvalidOperationException("IDSESS_BENCH_CS is not set");
var adminCs = Environment.GetEnvironmentVariable("IDSESS_BENCH_ADMIN_CS") ?? throw new InvalidOperationException("IDSESS_BENCH_ADMIN_CS is not set");
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var users = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 500;
// "login": an identity server's login cookie; "tokens": a relying party's cookie that also saves its
// id and access tokens (SaveTokens), as OpenID Connect clients often do.
var withTokens = args.Length > 3 && args[3] == "tokens";
const int Concurrency = 8;

var dataProtection = new EphemeralDataProtectionProvider();
await using var dataSource = NpgsqlDataSource.Create(cs);
await using var admin = NpgsqlDataSource.Create(adminCs);

var efOptions = new DbContextOptionsBuilder<SessionsDb>().UseNpgsql(dataSource).Options;
var efFactory = new PooledDbContextFactory<SessionsDb>(efOptions);
await using (var db = await efFactory.CreateDbContextAsync())
{
    await db.Database.EnsureCreatedAsync();
}

var stores = new (string Name, ITicketStore Store)[]
{
    ("idsess (Idsess.AspNetCore)", new IdsessTicketStore(dataSource, "Cookies")),
    ("EF Core table, DP-protected ticket", new EfTicketStore(efFactory, dataProtection.CreateProtector("bench.ServerSideTicketStore"))),
    ("in memory (MemoryCache)", new MemoryTicketStore()),
};

var apps = new List<(string Name, TimedStore Store, WebApplication App, List<string> Cookies)>();
foreach (var (name, store) in stores)
{
    var timed = new TimedStore(store);
    var app = await StartAsync(timed, dataProtection, withTokens);
    apps.Add((name, timed, app, []));
}

// Sign-ins: each user through /login, its cookie kept for the load.
using (var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }))
{
    for (var u = 0; u < users; u++)
    {
        foreach (var a in apps)
        {
            using var response = await client.GetAsync(new Uri(Base(a.App), "/login?user=user" + u.ToString("D5", CultureInfo.InvariantCulture)));
            var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Cookies=", StringComparison.Ordinal));
            a.Cookies.Add(cookie[..cookie.IndexOf(';', StringComparison.Ordinal)]);
        }
    }
}

// Load: interleaved rounds, the order of the stores rotated each round.
var results = apps.ToDictionary(a => a.Name, _ => new List<double>());
using (var load = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = Concurrency }))
{
    foreach (var a in apps)
    {
        await RunAsync(load, a.App, a.Cookies, TimeSpan.FromSeconds(1)); // warm-up: JIT, pools, prepared statements
    }
    for (var r = 0; r < rounds; r++)
    {
        for (var i = 0; i < apps.Count; i++)
        {
            var a = apps[(i + r) % apps.Count];
            results[a.Name].Add(await RunAsync(load, a.App, a.Cookies, TimeSpan.FromSeconds(seconds)));
        }
    }
}

// Ticket bytes per session, as stored (octet_length) and as kept on disk (pg_column_size: after TOAST's own
// compression); the serialized ticket for reference.
var sample = Ticket("user00000", withTokens);
var serialized = TicketSerializer.Default.Serialize(sample).Length;
var idsessBytes = await Scalar2(admin, "SELECT avg(octet_length(ticket))::float8, avg(pg_column_size(ticket))::float8 FROM idsess.sessions WHERE scheme = 'Cookies'");
var efBytes = await Scalar2(admin, "SELECT avg(octet_length(\"Data\"))::float8, avg(pg_column_size(\"Data\"))::float8 FROM \"ServerSideSessions\"");

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"Ticket: {(withTokens ? "with saved tokens" : "login cookie")}. {users} users signed in per store, {Concurrency} concurrent clients, {rounds} interleaved rounds of {seconds} s per store, {Environment.ProcessorCount} cores; serialized ticket {serialized} bytes.");
report.AppendLine();
report.AppendLine("| store | authenticated requests/s (median of rounds; each round) | sign-in: time in StoreAsync, median / p95 (ms) | ticket bytes per session (stored / on disk) |");
report.AppendLine("|---|---|---|---|");
foreach (var a in apps)
{
    var rps = results[a.Name];
    var times = a.Store.StoreTimes.Order().ToArray();
    var bytes = a.Name.StartsWith("idsess", StringComparison.Ordinal) ? $"{idsessBytes.A:F0} / {idsessBytes.B:F0}"
        : a.Name.StartsWith("EF", StringComparison.Ordinal) ? $"{efBytes.A:F0} / {efBytes.B:F0}" : "– (process memory)";
    report.AppendLine(CultureInfo.InvariantCulture,
        $"| {a.Name} | {Median(rps):F0} ({string.Join(", ", rps.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))}) | {Median(times):F2} / {times[(int)(times.Length * 0.95)]:F2} | {bytes} |");
}
Console.Write(report);
if (Environment.GetEnvironmentVariable("IDSESS_BENCH_OUT") is { Length: > 0 } outFile)
{
    await File.WriteAllTextAsync(outFile, report.ToString());
}
foreach (var a in apps)
{
    await a.App.StopAsync();
}
return;

static double Median(IReadOnlyList<double> xs)
{
    var s = xs.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

static Uri Base(WebApplication app) => new(app.Urls.First());

static async Task<double> RunAsync(HttpClient client, WebApplication app, List<string> cookies, TimeSpan duration)
{
    var url = new Uri(Base(app), "/ping");
    long done = 0, failed = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async worker =>
    {
        for (var i = worker; clock.Elapsed < duration; i += Concurrency)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("Cookie", cookies[i % cookies.Count]);
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Interlocked.Increment(ref done);
            }
            else
            {
                Interlocked.Increment(ref failed);
            }
        }
    }));
    if (failed > 0)
    {
        throw new InvalidOperationException($"{failed} requests were not authenticated");
    }
    return done / clock.Elapsed.TotalSeconds;
}

static async Task<(double A, double B)> Scalar2(NpgsqlDataSource db, string sql)
{
    await using var cmd = db.CreateCommand(sql);
    await using var r = await cmd.ExecuteReaderAsync();
    await r.ReadAsync();
    return (r.GetDouble(0), r.GetDouble(1));
}

// A ticket as an identity server's login cookie holds one: the user's claims and the cookie's properties.
static AuthenticationTicket Ticket(string user, bool withTokens)
{
    var identity = new ClaimsIdentity(
    [
        new Claim("sub", user), new Claim("name", "User " + user), new Claim("email", user + "@example.com"),
        new Claim("sid", Convert.ToHexString(RandomNumberGenerator.GetBytes(16))), new Claim("idp", "local"),
        new Claim("amr", "pwd"), new Claim("auth_time", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        new Claim("role", "employee"), new Claim("role", "payroll-reader"),
    ], "pwd", "name", "role");
    var properties = new AuthenticationProperties { IsPersistent = true };
    properties.Items["client_list"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("[\"spa\",\"payroll\",\"admin-portal\"]"));
    if (withTokens)
    {
        properties.StoreTokens(
        [
            new AuthenticationToken { Name = "id_token", Value = Jwt(user, 600) },
            new AuthenticationToken { Name = "access_token", Value = Jwt(user, 900) },
            new AuthenticationToken { Name = "token_type", Value = "Bearer" },
            new AuthenticationToken { Name = "expires_at", Value = DateTimeOffset.UtcNow.AddHours(1).ToString("o", CultureInfo.InvariantCulture) },
        ]);
    }
    return new AuthenticationTicket(new ClaimsPrincipal(identity), properties, "Cookies");
}

// A signed JWT's shape: base64url JSON header and claims, then a 256-byte RS256 signature.
static string Jwt(string user, int claimsLength)
{
    static string B64(byte[] b) => Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(b);
    var claims = new StringBuilder($"{{\"iss\":\"https://login.example.com/\",\"sub\":\"{user}\",\"aud\":\"payroll\",\"iat\":1767225600,\"exp\":1767229200,\"scope\":\"openid profile email payroll.read\"");
    for (var i = 0; claims.Length < claimsLength; i++)
    {
        claims.Append(CultureInfo.InvariantCulture, $",\"claim_{i}\":\"value {i} of {user}\"");
    }
    claims.Append('}');
    return B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}")) + "." +
        B64(Encoding.UTF8.GetBytes(claims.ToString())) + "." + B64(RandomNumberGenerator.GetBytes(256));
}

static async Task<WebApplication> StartAsync(ITicketStore store, IDataProtectionProvider dataProtection, bool withTokens)
{
    var builder = WebApplication.CreateBuilder();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
    builder.Services.AddAuthentication("Cookies").AddCookie("Cookies", o =>
    {
        o.SessionStore = store;
        o.DataProtectionProvider = dataProtection;
        o.ExpireTimeSpan = TimeSpan.FromHours(8);
    });
    builder.Services.AddAuthorization();
    var app = builder.Build();
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapGet("/login", async (HttpContext ctx, string user) =>
    {
        var t = Ticket(user, withTokens);
        await ctx.SignInAsync("Cookies", t.Principal, t.Properties);
        return "signed in";
    });
    app.MapGet("/ping", () => "ok").RequireAuthorization();
    await app.StartAsync();
    return app;
}

/// <summary>Records how long each sign-in spends in the store.</summary>
sealed class TimedStore(ITicketStore inner) : ITicketStore
{
    public List<double> StoreTimes { get; } = [];

    public async Task<string> StoreAsync(AuthenticationTicket ticket) => await StoreAsync(ticket, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var key = await inner.StoreAsync(ticket, cancellationToken);
        lock (StoreTimes)
        {
            StoreTimes.Add(clock.Elapsed.TotalMilliseconds);
        }
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => inner.RenewAsync(key, ticket);
    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken) => inner.RenewAsync(key, ticket, cancellationToken);
    public Task<AuthenticationTicket?> RetrieveAsync(string key) => inner.RetrieveAsync(key);
    public Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken) => inner.RetrieveAsync(key, cancellationToken);
    public Task RemoveAsync(string key) => inner.RemoveAsync(key);
    public Task RemoveAsync(string key, CancellationToken cancellationToken) => inner.RemoveAsync(key, cancellationToken);
}

/// <summary>Duende's EF schema, in PostgreSQL: the ticket as Data-Protection-protected text.</summary>
sealed class SessionRow
{
    public long Id { get; set; }
    public required string Key { get; set; }
    public required string Scheme { get; set; }
    public required string SubjectId { get; set; }
    public string? SessionId { get; set; }
    public string? DisplayName { get; set; }
    public DateTime Created { get; set; }
    public DateTime Renewed { get; set; }
    public DateTime? Expires { get; set; }
    public required string Data { get; set; }
}

sealed class SessionsDb(DbContextOptions<SessionsDb> options) : DbContext(options)
{
    public DbSet<SessionRow> ServerSideSessions => Set<SessionRow>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        var e = b.Entity<SessionRow>();
        e.ToTable("ServerSideSessions");
        e.HasIndex(x => x.Key).IsUnique();
        e.HasIndex(x => x.Expires);
        e.HasIndex(x => x.SubjectId);
        e.HasIndex(x => x.SessionId);
        e.HasIndex(x => x.DisplayName);
        e.Property(x => x.Key).HasMaxLength(100);
        e.Property(x => x.Scheme).HasMaxLength(100);
        e.Property(x => x.SubjectId).HasMaxLength(200);
        e.Property(x => x.SessionId).HasMaxLength(100);
        e.Property(x => x.DisplayName).HasMaxLength(100);
    }
}

/// <summary>The usual community store: the ticket protected with Data Protection, then one row per session.</summary>
sealed class EfTicketStore(IDbContextFactory<SessionsDb> factory, IDataProtector protector) : ITicketStore
{
    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var now = DateTime.UtcNow;
        db.ServerSideSessions.Add(new SessionRow
        {
            Key = key,
            Scheme = ticket.AuthenticationScheme,
            SubjectId = ticket.Principal.FindFirst("sub")!.Value,
            SessionId = ticket.Principal.FindFirst("sid")?.Value,
            DisplayName = ticket.Principal.FindFirst("name")?.Value,
            Created = now,
            Renewed = now,
            Expires = ticket.Properties.ExpiresUtc?.UtcDateTime,
            Data = Protect(ticket),
        });
        await db.SaveChangesAsync(cancellationToken);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public async Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ServerSideSessions.SingleOrDefaultAsync(x => x.Key == key, cancellationToken);
        if (row is null)
        {
            return;
        }
        row.Renewed = DateTime.UtcNow;
        row.Expires = ticket.Properties.ExpiresUtc?.UtcDateTime;
        row.Data = Protect(ticket);
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var data = await db.ServerSideSessions.AsNoTracking().Where(x => x.Key == key).Select(x => x.Data).SingleOrDefaultAsync(cancellationToken);
        return data is null ? null : TicketSerializer.Default.Deserialize(protector.Unprotect(Base64UrlDecode(data)));
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.ServerSideSessions.Where(x => x.Key == key).ExecuteDeleteAsync(cancellationToken);
    }

    private string Protect(AuthenticationTicket ticket) =>
        Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(protector.Protect(TicketSerializer.Default.Serialize(ticket)));

    private static byte[] Base64UrlDecode(string s) => Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(s);
}

/// <summary>The MemoryCacheTicketStore pattern: tickets in the process's memory, gone with the process.</summary>
sealed class MemoryTicketStore : ITicketStore
{
    private readonly MemoryCache _cache = new(Options.Create(new MemoryCacheOptions()));

    public Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        Put(key, ticket);
        return Task.FromResult(key);
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        Put(key, ticket);
        return Task.CompletedTask;
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => Task.FromResult(_cache.Get<AuthenticationTicket>(key));

    public Task RemoveAsync(string key)
    {
        _cache.Remove(key);
        return Task.CompletedTask;
    }

    private void Put(string key, AuthenticationTicket ticket)
    {
        var options = new MemoryCacheEntryOptions();
        if (ticket.Properties.ExpiresUtc is { } expires)
        {
            options.SetAbsoluteExpiration(expires);
        }
        _cache.Set(key, ticket, options);
    }
}
