using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Idsess.AspNetCore.Tests;

/// <summary>
/// OpenIddict 7 as the identity server and two ASP.NET Core OpenID Connect relying parties, all on Kestrel
/// over loopback, all three cookies in idsess, driven by a scripted user agent.
/// </summary>
[Collection("idsess")]
public sealed class EndToEndTests(Cluster db) : IAsyncLifetime
{
    private readonly Logs _logs = new();
    private readonly Gate _gate = new();
    private readonly string _user = "alice-" + Guid.NewGuid().ToString("N")[..8];
    private WebApplication _server = null!;
    private WebApplication _rp1 = null!;
    private WebApplication _rp2 = null!;

    public async Task InitializeAsync()
    {
        var cs = db.ConnectionString("app");
        _server = await Apps.StartServerAsync(cs, _logs);
        _rp1 = await Apps.StartRelyingPartyAsync("rp1", _server.BaseUri(), cs, _logs, _gate);
        _rp2 = await Apps.StartRelyingPartyAsync("rp2", _server.BaseUri(), cs, _logs, _gate);
        await Apps.RegisterClientAsync(_server, "rp1", _rp1.BaseUri());
        await Apps.RegisterClientAsync(_server, "rp2", _rp2.BaseUri());
    }

    public async Task DisposeAsync()
    {
        _gate.Release.TrySetResult();
        foreach (var app in new[] { _rp2, _rp1, _server })
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        _logs.Dispose();
    }

    private sealed record Row(string Key, string Scheme, string[] Clients);

    /// <summary>The user's sessions as the table holds them (expired ones too, until the worker removes them).</summary>
    private async Task<List<Row>> StoredSessions()
    {
        await using var cmd = db.Admin.CreateCommand(
            "SELECT s.key, s.scheme, coalesce(array_agg(c.client_id ORDER BY c.added) FILTER (WHERE c.client_id IS NOT NULL), '{}') " +
            "FROM idsess.sessions s LEFT JOIN idsess.session_clients c ON c.session = s.id WHERE s.subject_id = $1 GROUP BY s.key, s.scheme");
        cmd.Parameters.Add(new NpgsqlParameter { Value = _user });
        var rows = new List<Row>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            rows.Add(new Row(r.GetString(0), r.GetString(1), r.GetFieldValue<string[]>(2)));
        }
        return rows;
    }

    private async Task<Agent.Visit> SignInThroughLoginPage(Agent agent)
    {
        var page = await agent.GetAsync(new Uri(_rp1.BaseUri(), "/"));
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("/login", page.Last.AbsolutePath);
        var authorize = Assert.Single(page.Chain, u => u.AbsolutePath == "/connect/authorize");
        Assert.Contains("code_challenge=", authorize.Query, StringComparison.Ordinal);
        Assert.Contains("code_challenge_method=S256", authorize.Query, StringComparison.Ordinal);
        Assert.Contains("response_type=code", authorize.Query, StringComparison.Ordinal);

        var home = await agent.LogInAsync(page, _user, Apps.Password);
        Assert.Equal(HttpStatusCode.OK, home.Status);
        Assert.Equal("hello " + _user, home.Body);
        Assert.Contains(home.Chain, u => u.AbsolutePath == "/signin-rp1" && u.Query.Contains("code=", StringComparison.Ordinal));
        return home;
    }

    private static async Task AssertAskedToLogIn(Agent agent, Uri url)
    {
        var visit = await agent.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, visit.Status);
        Assert.True(visit.Last.AbsolutePath == "/login", url + " should end on the login page: " + string.Join(" -> ", visit.Chain));
    }

    [Fact]
    public async Task Sign_in_clients_revocation_in_flight_renewal_expiry_and_sign_out()
    {
        using var agent = new Agent();

        // 1. Authorization code with PKCE through the login page: server and rp1 sessions in idsess, rp1 a client.
        await SignInThroughLoginPage(agent);
        var rows = await StoredSessions();
        var server = Assert.Single(rows, r => r.Scheme == Apps.ServerScheme);
        Assert.Single(rows, r => r.Scheme == "rp1");
        Assert.Equal(["rp1"], server.Clients);
        // The cookie handler handed the store the request: its tenant and client details, and the login's claims.
        await using (var stored = db.Admin.CreateCommand(
            "SELECT tenant, acr, amr, auth_time IS NOT NULL, client_ip::text, user_agent, device, lifetime_end - created FROM idsess.sessions WHERE key = $1"))
        {
            stored.Parameters.Add(new NpgsqlParameter { Value = server.Key });
            await using var r = await stored.ExecuteReaderAsync();
            Assert.True(await r.ReadAsync());
            Assert.Equal((Apps.Tenant, "urn:e2e:password", "pwd", true, "127.0.0.0/24", Agent.UserAgent, "agent idsess-e2e-agent", TimeSpan.FromHours(8)),
                (r.GetString(0), r.GetString(1), Assert.Single(r.GetFieldValue<string[]>(2)), r.GetBoolean(3), r.GetString(4), r.GetString(5),
                 r.GetString(6), r.GetFieldValue<TimeSpan>(7)));
        }

        // 2. rp2 signs in silently on the same server session: no login page, and rp2 joins the session.
        var silent = await agent.GetAsync(new Uri(_rp2.BaseUri(), "/"));
        Assert.Equal("hello " + _user, silent.Body);
        Assert.DoesNotContain(silent.Chain, u => u.AbsolutePath == "/login");
        rows = await StoredSessions();
        Assert.Equal(["rp1", "rp2"], Assert.Single(rows, r => r.Scheme == Apps.ServerScheme).Clients);
        Assert.Equal(server.Key, Assert.Single(rows, r => r.Scheme == Apps.ServerScheme).Key);
        Assert.Equal(3, rows.Count);
        var sessions = new IdsessSessionManager(db.App);
        Assert.Equal(["rp1", "rp2"], await sessions.GetClientsAsync(server.Key));
        var page = await sessions.QueryAsync(new IdsessSessionQuery { ClientId = "rp2", SubjectId = _user });
        Assert.Equal(server.Key, Assert.Single(page.Sessions).Key);
        Assert.Equal("urn:e2e:password", page.Sessions[0].Acr);
        Assert.Equal(["pwd"], page.Sessions[0].Amr);
        // The server's session only: the relying parties' cookies are stored in the default
        // tenant, and a subject of two tenants is two people to idsess.
        var mine = await sessions.GetMySessionsAsync(_user, server.Key);
        var current = Assert.Single(mine);
        Assert.True(current.Current);
        Assert.Equal(["rp1", "rp2"], current.Clients);
        Assert.Equal("127.0.0.0/24", current.ClientIp);

        // 3. A request to rp1 is in flight (authenticated, its cookie due for renewal) while an admin revokes.
        var inFlight = agent.GetAsync(new Uri(_rp1.BaseUri(), "/slow"));
        await _gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using (var revoke = db.Admin.CreateCommand("SELECT count(*) FROM public.idsess_revoke(subject_id => $1, reason => 'e2e')"))
        {
            revoke.Parameters.Add(new NpgsqlParameter { Value = _user });
            Assert.Equal(3L, await revoke.ExecuteScalarAsync());
        }
        _gate.Release.SetResult();
        var late = await inFlight;
        Assert.Equal("slow " + _user, late.Body);

        // Its renewal met the revoked key: nothing brought back, reported once at information level.
        Assert.Empty(await StoredSessions());
        var dropped = Assert.Single(_logs.Entries, e => e.Id.Id == 1 && e.Category == typeof(IdsessTicketStore).FullName);
        Assert.Equal(LogLevel.Information, dropped.Level);

        // 4. The next request to either app, and to the server, is signed out and asked to log in.
        await AssertAskedToLogIn(agent, new Uri(_rp1.BaseUri(), "/"));
        await AssertAskedToLogIn(agent, new Uri(_rp2.BaseUri(), "/"));
        await AssertAskedToLogIn(agent, new Uri(_server.BaseUri(), "/me"));
        Assert.Empty(await StoredSessions());

        // 5. Expiry by the idsess worker signs the user out.
        await SignInThroughLoginPage(agent);
        rows = await StoredSessions();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            await using var shorten = db.App.CreateCommand("SELECT public.idsess_update($1, expires => now() + interval '1 second')");
            shorten.Parameters.Add(new NpgsqlParameter { Value = row.Key });
            Assert.Equal(true, await shorten.ExecuteScalarAsync());
        }
        for (var i = 0; i < 100 && (await StoredSessions()).Count > 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Empty(await StoredSessions());
        await AssertAskedToLogIn(agent, new Uri(_rp1.BaseUri(), "/"));

        // 6. Sign-out from rp1 (and, through the end-session endpoint, from the server) removes the sessions.
        await SignInThroughLoginPage(agent);
        Assert.Equal(2, (await StoredSessions()).Count);
        var bye = await agent.GetAsync(new Uri(_rp1.BaseUri(), "/logout"));
        Assert.Equal("signed out", bye.Body);
        Assert.Contains(bye.Chain, u => u.AbsolutePath == "/connect/logout");
        Assert.Empty(await StoredSessions());
        await AssertAskedToLogIn(agent, new Uri(_rp1.BaseUri(), "/"));

        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Error);
    }
}
