using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Idsess.AspNetCore.Tests;

[Collection("idsess")]
public sealed class TicketStoreTests(Cluster db)
{
    private readonly Logs _logs = new();

    private IdsessTicketStore Store(string scheme = "Cookies", IdsessOptions? options = null) =>
        new(db.App, scheme, options, _logs.For<IdsessTicketStore>());

    private IdsessSessionManager Sessions => new(db.App);

    private static string NewSubject() => "user-" + Guid.NewGuid().ToString("N");

    private static AuthenticationTicket Ticket(IEnumerable<Claim> claims, DateTimeOffset? expires = null, DateTimeOffset? issued = null)
    {
        var properties = new AuthenticationProperties
        {
            IssuedUtc = issued ?? DateTimeOffset.UtcNow,
            ExpiresUtc = expires ?? DateTimeOffset.UtcNow.AddHours(1),
        };
        properties.Items["returnUrl"] = "/home";
        return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, "pwd")), properties, "Cookies");
    }

    private async Task<T?> AdminScalar<T>(string sql, params object[] args)
    {
        await using var cmd = db.Admin.CreateCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    [Fact]
    public async Task Stores_subject_sid_and_display_name_from_the_claims_and_reads_the_ticket_back()
    {
        var sub = NewSubject();
        var ticket = Ticket([new("sub", sub), new("sid", "SID-" + sub), new("name", "Ada Lovelace"), new("role", "admin")]);
        var key = await Store().StoreAsync(ticket, CancellationToken.None);

        Assert.Matches("^[0-9A-F]{64}$", key);
        var s = Assert.Single(await Sessions.GetSessionsAsync(sub));
        Assert.Equal((key, "Cookies", sub, "SID-" + sub, "Ada Lovelace"), (s.Key, s.Scheme, s.SubjectId, s.SessionId, s.DisplayName));
        Assert.Equal(ticket.Properties.ExpiresUtc!.Value.ToUnixTimeSeconds(), s.Expires!.Value.ToUnixTimeSeconds());

        var back = await Store().RetrieveAsync(key, CancellationToken.None);
        Assert.NotNull(back);
        Assert.Equal("admin", back.Principal.FindFirst("role")?.Value);
        Assert.Equal("/home", back.Properties.Items["returnUrl"]);
        Assert.Equal(ticket.Properties.ExpiresUtc!.Value.ToUnixTimeSeconds(), back.Properties.ExpiresUtc!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Falls_back_to_the_name_identifier_and_name_claims_and_lets_idsess_make_the_sid()
    {
        var sub = NewSubject();
        var key = await Store().StoreAsync(Ticket([new(ClaimTypes.NameIdentifier, sub), new(ClaimTypes.Name, "grace")]), CancellationToken.None);

        var s = Assert.Single(await Sessions.GetSessionsAsync(sub));
        Assert.Equal((key, sub, "grace"), (s.Key, s.SubjectId, s.DisplayName));
        Assert.Matches("^[0-9A-F]{32}$", s.SessionId);
    }

    [Fact]
    public async Task Sends_the_ticket_serializer_bytes_not_a_data_protected_ticket()
    {
        var sub = NewSubject();
        var ticket = Ticket([new("sub", sub)]);
        var key = await Store().StoreAsync(ticket, CancellationToken.None);

        // What idsess opens for the service role is exactly TicketSerializer's output: no second encryption.
        await using var cmd = db.App.CreateCommand("SELECT ticket_bytes FROM public.idsess_get($1)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = key });
        var stored = (byte[])(await cmd.ExecuteScalarAsync())!;
        Assert.Equal(TicketSerializer.Default.Serialize(ticket), stored);
    }

    [Fact]
    public async Task An_expired_ticket_is_not_returned()
    {
        var sub = NewSubject();
        var now = DateTimeOffset.UtcNow;
        var key = await Store().StoreAsync(Ticket([new("sub", sub)], expires: now.AddSeconds(-1), issued: now.AddMinutes(-5)), CancellationToken.None);

        Assert.Null(await Store().RetrieveAsync(key, CancellationToken.None));
        Assert.Empty(await Sessions.GetSessionsAsync(sub));
    }

    [Fact]
    public async Task A_session_idle_past_its_inactivity_timeout_is_not_returned()
    {
        var sub = NewSubject();
        var store = Store(options: new IdsessOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        var key = await store.StoreAsync(Ticket([new("sub", sub)]), CancellationToken.None);
        Assert.NotNull(await store.RetrieveAsync(key, CancellationToken.None));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Null(await store.RetrieveAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task A_sliding_renewal_moves_the_expiry_and_keeps_the_session()
    {
        var sub = NewSubject();
        var store = Store();
        var first = DateTimeOffset.UtcNow.AddSeconds(3);
        var key = await store.StoreAsync(Ticket([new("sub", sub), new("sid", "S1-" + sub)], expires: first), CancellationToken.None);
        var created = Assert.Single(await Sessions.GetSessionsAsync(sub)).Created;

        var later = DateTimeOffset.UtcNow.AddHours(2);
        await store.RenewAsync(key, Ticket([new("sub", sub), new("sid", "S1-" + sub), new("name", "renamed")], expires: later), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(4)); // past the first expiry: the worker would have removed it

        var s = Assert.Single(await Sessions.GetSessionsAsync(sub));
        Assert.Equal((key, created, "renamed"), (s.Key, s.Created, s.DisplayName));
        Assert.Equal(later.ToUnixTimeSeconds(), s.Expires!.Value.ToUnixTimeSeconds());
        // The serialized properties keep whole seconds.
        Assert.Equal(later.ToUnixTimeSeconds(), (await store.RetrieveAsync(key, CancellationToken.None))!.Properties.ExpiresUtc!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_renewal_of_a_session_that_is_gone_creates_it_again()
    {
        var sub = NewSubject();
        var store = Store();
        var key = await store.StoreAsync(Ticket([new("sub", sub)]), CancellationToken.None);
        await store.RemoveAsync(key, CancellationToken.None);
        Assert.Null(await store.RetrieveAsync(key, CancellationToken.None));

        await store.RenewAsync(key, Ticket([new("sub", sub)]), CancellationToken.None);
        Assert.NotNull(await store.RetrieveAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task A_renewal_of_a_revoked_session_is_dropped_and_logged_once()
    {
        var sub = NewSubject();
        var store = Store();
        var key = await store.StoreAsync(Ticket([new("sub", sub)]), CancellationToken.None);
        var http = new DefaultHttpContext();
        Assert.NotNull(await store.RetrieveAsync(key, http, CancellationToken.None));
        Assert.Equal(key, http.GetIdsessSessionKey("Cookies"));

        var revoked = await new IdsessSessionManager(db.Admin).RevokeAsync(sub, reason: "test");
        Assert.Equal(key, Assert.Single(revoked).Key);

        await store.RenewAsync(key, Ticket([new("sub", sub)], expires: DateTimeOffset.UtcNow.AddDays(1)), http, CancellationToken.None);

        Assert.Null(await store.RetrieveAsync(key, CancellationToken.None));
        Assert.Empty(await Sessions.GetSessionsAsync(sub));
        Assert.Null(http.GetIdsessSessionKey("Cookies"));
        var entry = Assert.Single(_logs.Entries, e => e.Id.Id == 1);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.DoesNotContain(key, entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_64_kB_ticket_round_trips_and_is_stored_compressed_when_it_compresses()
    {
        var sub = NewSubject();
        var random = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48 * 1024));
        var repetitive = string.Concat(Enumerable.Repeat("permission:read-write;", 3000));
        Assert.True(random.Length >= 64 * 1024 && repetitive.Length >= 64 * 1024);

        var store = Store();
        var k1 = await store.StoreAsync(Ticket([new("sub", sub), new("blob", random)]), CancellationToken.None);
        var k2 = await store.StoreAsync(Ticket([new("sub", sub), new("blob", repetitive)]), CancellationToken.None);

        Assert.Equal(random, (await store.RetrieveAsync(k1, CancellationToken.None))!.Principal.FindFirst("blob")!.Value);
        Assert.Equal(repetitive, (await store.RetrieveAsync(k2, CancellationToken.None))!.Principal.FindFirst("blob")!.Value);
        var sealedSize = await AdminScalar<int>("SELECT octet_length(ticket) FROM idsess.sessions WHERE key = $1", k2);
        Assert.InRange(sealedSize, 1, 8 * 1024);
    }

    [Fact]
    public async Task A_ticket_that_does_not_deserialize_signs_the_user_out_with_a_warning()
    {
        var sub = NewSubject();
        string garbled, text;
        await using (var cmd = db.App.CreateCommand(
            "SELECT (SELECT key FROM public.idsess_create($1, ticket_bytes => '\\x0500000041424344'::bytea)), (SELECT key FROM public.idsess_create($1, ticket => 'not a ticket'))"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = sub });
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            (garbled, text) = (r.GetString(0), r.GetString(1));
        }

        Assert.Null(await Store().RetrieveAsync(garbled, CancellationToken.None));
        Assert.Null(await Store().RetrieveAsync(text, CancellationToken.None));
        Assert.Equal(2, _logs.Entries.Count(e => e.Id.Id == 2 && e.Level == LogLevel.Warning));
    }

    [Fact]
    public async Task A_connection_the_server_closed_is_replaced_and_the_read_succeeds()
    {
        var sub = NewSubject();
        using var source = NpgsqlDataSource.Create(db.ConnectionString("app") + ";Application Name=closed-test");
        var store = new IdsessTicketStore(source, "Cookies");
        var key = await store.StoreAsync(Ticket([new("sub", sub)]), CancellationToken.None);

        var ended = await AdminScalar<long>(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'closed-test'");
        Assert.True(ended >= 1);
        await Task.Delay(200);

        Assert.NotNull(await store.RetrieveAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_an_error_not_a_signed_out_user()
    {
        using var source = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder { Host = "/nonexistent-idsess-dir", Port = 5432, Username = "app", Timeout = 2 }.ConnectionString);
        var store = new IdsessTicketStore(source, "Cookies");
        await Assert.ThrowsAsync<IdsessUnavailableException>(() => store.RetrieveAsync("ABC", CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_call_stores_nothing()
    {
        var sub = NewSubject();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store().StoreAsync(Ticket([new("sub", sub)]), cts.Token));
        Assert.Empty(await Sessions.GetSessionsAsync(sub));
    }

    [Fact]
    public async Task A_call_waiting_on_a_lock_is_cancelled_promptly_and_changes_nothing()
    {
        var sub = NewSubject();
        var store = Store();
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        var key = await store.StoreAsync(Ticket([new("sub", sub)], expires: expires), CancellationToken.None);

        await using var admin = await db.Admin.OpenConnectionAsync();
        await using var tx = await admin.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM idsess.sessions WHERE key = $1 FOR UPDATE", admin, tx))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = key });
            await lockRow.ExecuteScalarAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.RenewAsync(key, Ticket([new("sub", sub)], expires: expires.AddDays(1)), cts.Token));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        await tx.RollbackAsync();

        var s = Assert.Single(await Sessions.GetSessionsAsync(sub));
        Assert.Equal(expires.ToUnixTimeSeconds(), s.Expires!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Sign_out_removes_the_session()
    {
        var sub = NewSubject();
        var store = Store();
        var key = await store.StoreAsync(Ticket([new("sub", sub)]), CancellationToken.None);
        await store.RemoveAsync(key, CancellationToken.None);
        Assert.Empty(await Sessions.GetSessionsAsync(sub));
        await store.RemoveAsync(key, CancellationToken.None);
    }
}
