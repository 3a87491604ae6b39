using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Idsess.AspNetCore.Tests;

/// <summary>
/// What the store and the session manager pass to idsess 1.2 (tenant, absolute lifetime, sign-in strength,
/// client details, "my sessions"), and how they behave on a database whose idsess is still 1.1.
/// </summary>
[Collection("idsess")]
public sealed class Idsess12Tests(Cluster db)
{
    private static string NewSubject() => "v12-" + Guid.NewGuid().ToString("N");

    private static AuthenticationTicket Ticket(string sub, IEnumerable<Claim>? claims = null, DateTimeOffset? expires = null) =>
        new(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", sub), .. claims ?? []], "pwd")),
            new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow, ExpiresUtc = expires ?? DateTimeOffset.UtcNow.AddHours(1) },
            "Cookies");

    private static DefaultHttpContext Request(string ip, string userAgent, string host = "id.example.com")
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        context.Request.Headers.UserAgent = userAgent;
        context.Request.Host = new HostString(host);
        return context;
    }

    private static Claim AuthTime(DateTimeOffset at) => new("auth_time", at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

    /// <summary>One row of idsess.sessions, as the superuser reads it.</summary>
    private async Task<object?[]> Stored(string key, string columns)
    {
        await using var cmd = db.Admin.CreateCommand($"SELECT {columns} FROM idsess.sessions WHERE key = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync(), "no stored session");
        var values = new object?[r.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.IsDBNull(i) ? null : r.GetValue(i);
        }
        return values;
    }

    [Fact]
    public async Task The_requests_tenant_and_the_absolute_lifetime_land_in_the_row_and_only_that_tenants_admin_sees_the_session()
    {
        var sub = NewSubject();
        var tenant = "acme-" + sub[^8..];
        var options = new IdsessOptions
        {
            MaxLifetime = TimeSpan.FromHours(2),
            TenantResolver = c => c.Request.Host.Host.StartsWith("acme.", StringComparison.Ordinal) ? tenant : null,
        };
        var store = new IdsessTicketStore(db.App, "Cookies", options);
        var acme = Request("203.0.113.7", "A/1", "acme.example.com");
        var inTenant = await store.StoreAsync(Ticket(sub), acme, CancellationToken.None);
        var alsoInTenant = await store.StoreAsync(Ticket(sub), acme, CancellationToken.None);
        var defaultTenant = await store.StoreAsync(Ticket(sub), Request("203.0.113.7", "A/1"), CancellationToken.None);

        Assert.Equal(new object?[] { tenant, TimeSpan.FromHours(2) }, await Stored(inTenant, "tenant, lifetime_end - created"));
        Assert.Equal(new object?[] { null }, await Stored(defaultTenant, "tenant"));
        // However far a renewal asks, the session ends at its absolute lifetime.
        await store.RenewAsync(inTenant, Ticket(sub, expires: DateTimeOffset.UtcNow.AddHours(5)), acme, CancellationToken.None);
        Assert.Equal(new object?[] { true }, await Stored(inTenant, "expires = lifetime_end"));

        var admin = "ta_" + sub[^12..];
        await using (var grant = db.Admin.CreateCommand($"CREATE ROLE {admin} LOGIN"))
        {
            await grant.ExecuteNonQueryAsync();
        }
        await using (var grant = db.Admin.CreateCommand("SELECT public.idsess_grant_tenant_admin($1::regrole, $2)"))
        {
            grant.Parameters.Add(new NpgsqlParameter { Value = admin });
            grant.Parameters.Add(new NpgsqlParameter { Value = tenant });
            await grant.ExecuteScalarAsync();
        }
        await using var tenantAdmin = NpgsqlDataSource.Create(db.ConnectionString(admin));
        var seen = await new IdsessSessionManager(tenantAdmin).QueryAsync(new IdsessSessionQuery { SubjectId = sub });
        Assert.Equal(new[] { inTenant, alsoInTenant }.Order(), seen.Sessions.Select(s => s.Key).Order());
        Assert.Equal(3, (await new IdsessSessionManager(db.App).QueryAsync(new IdsessSessionQuery { SubjectId = sub })).Sessions.Count);

        // "Sign out all other sessions" from an acme request ends the subject's other acme session only.
        var sessions = new IdsessSessionManager(db.App, options, new HttpContextAccessor { HttpContext = acme });
        var ended = await sessions.SignOutOtherSessionsAsync(sub, inTenant);
        Assert.Equal(alsoInTenant, Assert.Single(ended).Key);
        Assert.NotNull(await store.RetrieveAsync(inTenant, CancellationToken.None));
        Assert.NotNull(await store.RetrieveAsync(defaultTenant, CancellationToken.None));
        Assert.Null(await store.RetrieveAsync(alsoInTenant, CancellationToken.None));
    }

    [Fact]
    public async Task Acr_amr_and_auth_time_from_the_ticket_land_in_the_row_and_a_renewal_records_a_step_up()
    {
        var sub = NewSubject();
        var signIn = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds());
        var store = new IdsessTicketStore(db.App, "Cookies");
        var key = await store.StoreAsync(Ticket(sub, [new("acr", "urn:idsess:password"), new("amr", "pwd"), AuthTime(signIn)]), CancellationToken.None);
        var sessions = new IdsessSessionManager(db.App);

        var s = Assert.Single((await sessions.QueryAsync(new IdsessSessionQuery { SubjectId = sub })).Sessions);
        Assert.Equal(("urn:idsess:password", (DateTimeOffset?)signIn), (s.Acr, s.AuthTime));
        Assert.Equal(["pwd"], s.Amr);

        var stepUp = signIn.AddMinutes(9);
        await store.RenewAsync(key, Ticket(sub, [new("acr", "urn:idsess:mfa"), new("amr", "pwd"), new("amr", "otp"), AuthTime(stepUp)]),
            CancellationToken.None);
        s = Assert.Single((await sessions.QueryAsync(new IdsessSessionQuery { SubjectId = sub })).Sessions);
        Assert.Equal(("urn:idsess:mfa", (DateTimeOffset?)stepUp), (s.Acr, s.AuthTime));
        Assert.Equal(["pwd", "otp"], s.Amr);
    }

    [Fact]
    public async Task Client_details_are_recorded_listed_on_my_sessions_touched_and_other_sessions_signed_out()
    {
        var sub = NewSubject();
        var options = new IdsessOptions { DeviceLabel = c => c.Request.Headers.UserAgent.ToString().Split('/')[0] };
        var store = new IdsessTicketStore(db.App, "Cookies", options);
        var laptop = await store.StoreAsync(Ticket(sub), Request("::ffff:203.0.113.77", "Firefox/140"), CancellationToken.None);
        var phone = await store.StoreAsync(Ticket(sub), Request("2001:db8:1:2::5", "Safari/18"), CancellationToken.None);
        var accessor = new HttpContextAccessor();
        var sessions = new IdsessSessionManager(db.App, options, accessor);
        await sessions.AddClientAsync(phone, "mobile", "mobile-sid");

        // The current session first; addresses cut to the server's prefixes (24 and 48 bits by default).
        var mine = await sessions.GetMySessionsAsync(sub, laptop);
        Assert.Equal(2, mine.Count);
        Assert.Equal((true, "203.0.113.0/24", "Firefox/140", "Firefox"), (mine[0].Current, mine[0].ClientIp, mine[0].UserAgent, mine[0].Device));
        Assert.Equal((false, "2001:db8:1::/48", "Safari/18", "Safari"), (mine[1].Current, mine[1].ClientIp, mine[1].UserAgent, mine[1].Device));
        Assert.Equal(["mobile"], mine[1].Clients);
        Assert.NotNull(mine[0].LastSeen);

        // A touch from a new address records it.
        accessor.HttpContext = Request("198.51.100.20", "Firefox/141");
        Assert.True(await sessions.TouchAsync(laptop));
        mine = await sessions.GetMySessionsAsync(sub, laptop);
        Assert.Equal(("198.51.100.0/24", "Firefox/141"), (mine[0].ClientIp, mine[0].UserAgent));

        var ended = Assert.Single(await sessions.SignOutOtherSessionsAsync(sub, laptop));
        Assert.Equal((phone, "mobile", "mobile-sid"), (ended.Key, Assert.Single(ended.Clients), Assert.Single(ended.ClientSids)));
        Assert.True(Assert.Single(await sessions.GetMySessionsAsync(sub, laptop)).Current);
        Assert.Null(await store.RetrieveAsync(phone, CancellationToken.None));
        Assert.False(await sessions.TouchAsync(phone));
    }

    [Fact]
    public async Task On_idsess_1_1_sessions_still_work_and_the_options_that_need_1_2_are_refused()
    {
        var sub = NewSubject();
        var store = new IdsessTicketStore(db.App11, "Cookies");
        var request = Request("203.0.113.7", "A/1");
        var key = await store.StoreAsync(Ticket(sub, [new("acr", "urn:idsess:password")]), request, CancellationToken.None);
        await store.RenewAsync(key, Ticket(sub, [new("amr", "otp")]), request, CancellationToken.None);
        Assert.Equal(sub, (await store.RetrieveAsync(key, CancellationToken.None))?.Principal.FindFirst("sub")?.Value);
        var sessions = new IdsessSessionManager(db.App11);
        Assert.Equal(key, Assert.Single((await sessions.QueryAsync(new IdsessSessionQuery { SubjectId = sub })).Sessions).Key);

        await Assert.ThrowsAsync<IdsessVersionException>(() =>
            new IdsessTicketStore(db.App11, "Cookies", new IdsessOptions { Tenant = "acme" }).StoreAsync(Ticket(sub), CancellationToken.None));
        await Assert.ThrowsAsync<IdsessVersionException>(() =>
            new IdsessTicketStore(db.App11, "Cookies", new IdsessOptions { MaxLifetime = TimeSpan.FromHours(1) }).RenewAsync(key, Ticket(sub), CancellationToken.None));
        await Assert.ThrowsAsync<IdsessVersionException>(() => sessions.GetMySessionsAsync(sub, key));
        await Assert.ThrowsAsync<IdsessVersionException>(() => sessions.SignOutOtherSessionsAsync(sub, key));
        Assert.Single(await sessions.GetSessionsAsync(sub));
    }
}
