using Microsoft.AspNetCore.Http;
using Npgsql;
using static Idsess.AspNetCore.IdsessDatabase;

namespace Idsess.AspNetCore;

/// <summary>
/// Session management over idsess's SQL API for the application: a user's sessions, admin search, revocation
/// with the clients to notify, and a session's clients. Errors are typed (<see cref="IdsessException"/>).
/// </summary>
public interface IIdsessSessionManager
{
    /// <summary>The live sessions of a subject and/or sid (exact match, AND-ed), in creation order.</summary>
    Task<IReadOnlyList<IdsessSession>> GetSessionsAsync(string? subjectId, string? sessionId = null, CancellationToken cancellationToken = default);

    /// <summary>A page of an admin search.</summary>
    Task<IdsessSessionPage> QueryAsync(IdsessSessionQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends every session of a subject and/or sid (AND-ed; at least one), audited with the reason. Returns each
    /// ended session with the clients owed a back-channel logout (only <paramref name="clientIds"/> when given).
    /// The keys stay revoked: an in-flight renewal cannot bring a session back.
    /// </summary>
    Task<IReadOnlyList<IdsessRevokedSession>> RevokeAsync(string? subjectId, string? sessionId = null,
        IReadOnlyCollection<string>? clientIds = null, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes the sessions of a subject and/or sid without a revocation record; returns how many.</summary>
    Task<long> DeleteSessionsAsync(string? subjectId, string? sessionId = null, CancellationToken cancellationToken = default);

    /// <summary>Adds a client (with its own sid, if it has one) to a live session; returns the client list.</summary>
    Task<IReadOnlyList<string>> AddClientAsync(string key, string clientId, string? clientSid = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a client from a live session; returns the client list.</summary>
    Task<IReadOnlyList<string>> RemoveClientAsync(string key, string clientId, CancellationToken cancellationToken = default);

    /// <summary>The clients of a live session, in the order they joined.</summary>
    Task<IReadOnlyList<string>> GetClientsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// A subject's live sessions for a "your active sessions" page (idsess 1.2), without their keys: the one of
    /// <paramref name="currentKey"/> (<c>HttpContext.GetIdsessSessionKey()</c>) first and marked current, then
    /// the most recently seen.
    /// </summary>
    Task<IReadOnlyList<IdsessMySession>> GetMySessionsAsync(string subjectId, string? currentKey = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// "Sign out all other sessions" (idsess 1.2): revokes every session of the subject but
    /// <paramref name="currentKey"/>'s, in the request's tenant when one is configured, audited with the reason
    /// (default "all other sessions"). Returns the ended sessions with the clients owed a back-channel logout.
    /// </summary>
    Task<IReadOnlyList<IdsessRevokedSession>> SignOutOtherSessionsAsync(string subjectId, string currentKey, string? reason = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Records activity on a live session without renewing it (for the inactivity timeout), with the current
    /// request's IP address, user agent and device label as far as <c>idsess.record_client</c> allows
    /// (idsess 1.2). False when no live session has the key.
    /// </summary>
    Task<bool> TouchAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>The idsess implementation of <see cref="IIdsessSessionManager"/>.</summary>
public sealed class IdsessSessionManager : IIdsessSessionManager
{
    private readonly IdsessDatabase _db;
    private readonly IdsessOptions _options;
    private readonly IHttpContextAccessor? _httpContextAccessor;

    /// <summary>Creates the service.</summary>
    /// <param name="dataSource">Connections as a role granted <c>idsess_service</c> (or <c>idsess_admin</c>
    /// for search, revocation and deletion only).</param>
    /// <param name="options">The schema idsess is in; null: the defaults.</param>
    public IdsessSessionManager(NpgsqlDataSource dataSource, IdsessOptions? options = null)
        : this(dataSource, options, null)
    {
    }

    /// <summary>Creates the service for an application that serves requests.</summary>
    /// <param name="dataSource">Connections as a role granted <c>idsess_service</c>.</param>
    /// <param name="options">Schema, tenant and device label; null: the defaults.</param>
    /// <param name="httpContextAccessor">The request being served: its tenant for
    /// <see cref="SignOutOtherSessionsAsync"/>, its client details for <see cref="TouchAsync"/>.</param>
    public IdsessSessionManager(NpgsqlDataSource dataSource, IdsessOptions? options, IHttpContextAccessor? httpContextAccessor)
    {
        _options = options ?? new IdsessOptions();
        _db = new IdsessDatabase(dataSource, _options.Schema);
        _httpContextAccessor = httpContextAccessor;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IdsessSession>> GetSessionsAsync(string? subjectId, string? sessionId = null, CancellationToken cancellationToken = default) =>
        _db.RunAsync(_db.GetSessions, [Text(subjectId), Text(sessionId)], async (reader, ct) =>
        {
            var list = new List<IdsessSession>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(ReadSession(reader));
            }
            return (IReadOnlyList<IdsessSession>)list;
        }, retry: true, Call.Store, cancellationToken);

    /// <inheritdoc />
    public async Task<IdsessSessionPage> QueryAsync(IdsessSessionQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var is12 = await _db.Is12Async(cancellationToken).ConfigureAwait(false);
        return await _db.RunAsync(is12 ? _db.Query12 : _db.Query,
            [Text(query.SubjectId), Text(query.SessionId), Text(query.DisplayName), Text(query.ClientId),
             Integer(query.Count), Text(query.ResultsToken), Boolean(query.Prior)],
            async (reader, ct) =>
            {
                var list = new List<IdsessSession>();
                IdsessSessionPage page = new([], null, false, false, 0, 0, 0);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    list.Add(is12 ? ReadSession(reader) with
                    {
                        Acr = reader.IsDBNull(18) ? null : reader.GetString(18),
                        Amr = reader.IsDBNull(19) ? [] : reader.GetFieldValue<string[]>(19),
                        AuthTime = reader.IsDBNull(20) ? null : reader.GetFieldValue<DateTimeOffset>(20),
                    } : ReadSession(reader));
                    page = new(list, reader.IsDBNull(12) ? null : reader.GetString(12), reader.GetBoolean(13), reader.GetBoolean(14),
                        reader.GetInt64(15), reader.GetInt32(16), reader.GetInt32(17));
                }
                return page;
            }, retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IdsessRevokedSession>> RevokeAsync(string? subjectId, string? sessionId = null,
        IReadOnlyCollection<string>? clientIds = null, string? reason = null, CancellationToken cancellationToken = default) =>
        // Not repeated after a broken connection: a second revocation would find nothing and lose the first's
        // list of clients to notify.
        _db.RunAsync(_db.Revoke, [Text(subjectId), Text(sessionId), TextArray(clientIds), Text(reason)], ReadRevokedAsync,
            retry: false, Call.Store, cancellationToken);

    private static async Task<IReadOnlyList<IdsessRevokedSession>> ReadRevokedAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        var list = new List<IdsessRevokedSession>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(new IdsessRevokedSession(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? [] : reader.GetFieldValue<string[]>(3),
                reader.IsDBNull(4) ? [] : reader.GetFieldValue<string?[]>(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? "[]" : reader.GetString(6)));
        }
        return list;
    }

    /// <inheritdoc />
    public Task<long> DeleteSessionsAsync(string? subjectId, string? sessionId = null, CancellationToken cancellationToken = default) =>
        _db.ScalarAsync<long>(_db.DeleteSessions, [Text(subjectId), Text(sessionId)], retry: true, Call.Store, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> AddClientAsync(string key, string clientId, string? clientSid = null, CancellationToken cancellationToken = default) =>
        await _db.ScalarAsync<string[]>(_db.AddClient, [Text(key), Text(clientId), Text(clientSid)], retry: true, Call.Client, cancellationToken).ConfigureAwait(false) ?? [];

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> RemoveClientAsync(string key, string clientId, CancellationToken cancellationToken = default) =>
        await _db.ScalarAsync<string[]>(_db.RemoveClient, [Text(key), Text(clientId)], retry: true, Call.Client, cancellationToken).ConfigureAwait(false) ?? [];

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> GetClientsAsync(string key, CancellationToken cancellationToken = default) =>
        await _db.ScalarAsync<string[]>(_db.Clients, [Text(key)], retry: true, Call.Client, cancellationToken).ConfigureAwait(false) ?? [];

    /// <inheritdoc />
    public async Task<IReadOnlyList<IdsessMySession>> GetMySessionsAsync(string subjectId, string? currentKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        await _db.Require12Async("GetMySessionsAsync", cancellationToken).ConfigureAwait(false);
        return await _db.RunAsync(_db.MySessions, [Text(subjectId), Text(currentKey)], async (r, ct) =>
        {
            var list = new List<IdsessMySession>();
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new IdsessMySession(
                    r.GetString(0),
                    r.GetBoolean(1),
                    r.IsDBNull(2) ? null : r.GetString(2),
                    r.IsDBNull(3) ? null : r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetString(4),
                    r.GetFieldValue<DateTimeOffset>(5),
                    r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6),
                    r.IsDBNull(7) ? null : Finite(r.GetFieldValue<DateTime>(7)),
                    r.IsDBNull(8) ? [] : r.GetFieldValue<string[]>(8),
                    r.IsDBNull(9) ? null : r.GetString(9),
                    r.IsDBNull(10) ? [] : r.GetFieldValue<string[]>(10),
                    r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11)));
            }
            return (IReadOnlyList<IdsessMySession>)list;
        }, retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<IdsessRevokedSession>> SignOutOtherSessionsAsync(string subjectId, string currentKey, string? reason = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        ArgumentException.ThrowIfNullOrEmpty(currentKey);
        await _db.Require12Async("SignOutOtherSessionsAsync", cancellationToken).ConfigureAwait(false);
        var tenant = IdsessRequestDetails.Tenant(_options, _httpContextAccessor?.HttpContext);
        // Not repeated after a broken connection, as RevokeAsync.
        return await _db.RunAsync(_db.RevokeOthers, [Text(subjectId), Text(currentKey), Text(reason), Text(tenant)],
            ReadRevokedAsync, retry: false, Call.Store, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> TouchAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await _db.Require12Async("TouchAsync", cancellationToken).ConfigureAwait(false);
        return await _db.ScalarAsync<bool>(_db.Touch,
            [Text(key), .. IdsessRequestDetails.Client(_options, _httpContextAccessor?.HttpContext)],
            retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
    }

    private static IdsessSession ReadSession(NpgsqlDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.IsDBNull(2) ? null : r.GetString(2),
        r.GetString(3),
        r.IsDBNull(4) ? null : r.GetString(4),
        r.GetFieldValue<DateTimeOffset>(5),
        r.GetFieldValue<DateTimeOffset>(6),
        r.IsDBNull(7) ? null : Finite(r.GetFieldValue<DateTime>(7)),
        r.GetFieldValue<DateTimeOffset>(8),
        r.IsDBNull(9) ? [] : r.GetFieldValue<string[]>(9),
        r.IsDBNull(10) ? [] : r.GetFieldValue<string?[]>(10),
        r.IsDBNull(11) ? null : r.GetString(11));

    // Npgsql reads 'infinity' as DateTime.MaxValue: a session that never expires.
    private static DateTimeOffset? Finite(DateTime value) =>
        value == DateTime.MaxValue ? null : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
