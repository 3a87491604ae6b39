using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace Idsess.AspNetCore.Tests;

[Collection("idsess")]
public sealed class SessionManagerTests(Cluster db)
{
    private static string NewSubject() => "mgr-" + Guid.NewGuid().ToString("N");

    private async Task<string> SignIn(string sub, string name)
    {
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", sub), new Claim("name", name)], "pwd")),
            new AuthenticationProperties { ExpiresUtc = DateTimeOffset.UtcNow.AddHours(1) }, "Cookies");
        return await new IdsessTicketStore(db.App, "Cookies").StoreAsync(ticket, CancellationToken.None);
    }

    [Fact]
    public async Task Clients_are_added_listed_and_removed()
    {
        var sessions = new IdsessSessionManager(db.App);
        var key = await SignIn(NewSubject(), "c");
        await sessions.AddClientAsync(key, "spa");
        Assert.Equal(["spa", "payroll"], await sessions.AddClientAsync(key, "payroll", "payroll-sid"));
        Assert.Equal(["spa", "payroll"], await sessions.AddClientAsync(key, "spa"));
        Assert.Equal(["payroll"], await sessions.RemoveClientAsync(key, "spa"));
        Assert.Equal(["payroll"], await sessions.GetClientsAsync(key));
    }

    [Fact]
    public async Task Documented_sqlstates_are_typed_exceptions()
    {
        var sessions = new IdsessSessionManager(db.App);
        var e = await Assert.ThrowsAsync<IdsessSessionNotFoundException>(() => sessions.AddClientAsync(new string('A', 64), "spa"));
        Assert.Equal("P0002", e.SqlState);
        Assert.Equal("22004", (await Assert.ThrowsAsync<IdsessInvalidArgumentException>(() => sessions.GetSessionsAsync(null))).SqlState);
        Assert.Equal("22001", (await Assert.ThrowsAsync<IdsessInvalidArgumentException>(() => sessions.GetSessionsAsync(new string('x', 201)))).SqlState);
        Assert.Equal("22023", (await Assert.ThrowsAsync<IdsessInvalidArgumentException>(() =>
            sessions.QueryAsync(new IdsessSessionQuery { SubjectId = "mgr", ResultsToken = "forged" }))).SqlState);
        using var nobody = Npgsql.NpgsqlDataSource.Create(db.ConnectionString("nobody"));
        Assert.Equal("42501", (await Assert.ThrowsAsync<IdsessPermissionDeniedException>(() =>
            new IdsessSessionManager(nobody).GetSessionsAsync("a"))).SqlState);
    }

    [Fact]
    public async Task Revocation_ends_every_session_of_the_subject_and_names_the_clients_to_notify()
    {
        var sub = NewSubject();
        var sessions = new IdsessSessionManager(db.App);
        var k1 = await SignIn(sub, "one");
        var k2 = await SignIn(sub, "two");
        await sessions.AddClientAsync(k1, "spa", "spa-sid");
        await sessions.AddClientAsync(k2, "payroll");

        var revoked = await new IdsessSessionManager(db.Admin).RevokeAsync(sub, clientIds: ["spa"], reason: "lost laptop");
        Assert.Equal(new[] { k1, k2 }.Order(), revoked.Select(r => r.Key).Order());
        var first = Assert.Single(revoked, r => r.Key == k1);
        Assert.Equal(["spa"], first.Clients);
        Assert.Equal(["spa-sid"], first.ClientSids);
        Assert.Empty(Assert.Single(revoked, r => r.Key == k2).Clients);
        Assert.Empty(await sessions.GetSessionsAsync(sub));
        await Assert.ThrowsAsync<IdsessSessionNotFoundException>(() => sessions.AddClientAsync(k1, "spa"));
    }

    [Fact]
    public async Task A_search_pages_forward_and_back_with_its_token()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        for (var i = 0; i < 5; i++)
        {
            await SignIn($"q-{tag}-{i}", $"Person {tag} {i}");
        }
        var sessions = new IdsessSessionManager(db.App);
        var p1 = await sessions.QueryAsync(new IdsessSessionQuery { DisplayName = tag.ToUpperInvariant(), Count = 2 });
        Assert.Equal((2, 5L, 3, 1, false, true), (p1.Sessions.Count, p1.TotalCount, p1.TotalPages, p1.CurrentPage, p1.HasPrevious, p1.HasNext));
        var p2 = await sessions.QueryAsync(new IdsessSessionQuery { DisplayName = tag.ToUpperInvariant(), Count = 2, ResultsToken = p1.ResultsToken });
        Assert.Equal(2, p2.CurrentPage);
        Assert.Empty(p1.Sessions.Select(s => s.Key).Intersect(p2.Sessions.Select(s => s.Key)));
        var back = await sessions.QueryAsync(new IdsessSessionQuery { DisplayName = tag.ToUpperInvariant(), Count = 2, ResultsToken = p2.ResultsToken, Prior = true });
        Assert.Equal(p1.Sessions.Select(s => s.Key), back.Sessions.Select(s => s.Key));
    }
}
