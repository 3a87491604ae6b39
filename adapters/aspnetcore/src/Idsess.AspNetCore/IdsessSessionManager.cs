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
}

/// <summary>The idsess implementation of <see cref="IIdsessSessionManager"/>.</summary>
public sealed class IdsessSessionManager : IIdsessSessionManager
{
    private readonly IdsessDatabase _db;

    /// <summary>Creates the service.</summary>
    /// <param name="dataSource">Connections as a role granted <c>idsess_service</c> (or <c>idsess_admin</c>
    /// for search, revocation and deletion only).</param>
    /// <param name="options">The schema idsess is in; null: the defaults.</param>
    public IdsessSessionManager(NpgsqlDataSource dataSource, IdsessOptions? options = null)
    {
        _db = new IdsessDatabase(dataSource, (options ?? new IdsessOptions()).Schema);
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
    public Task<IdsessSessionPage> QueryAsync(IdsessSessionQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _db.RunAsync(_db.Query,
            [Text(query.SubjectId), Text(query.SessionId), Text(query.DisplayName), Text(query.ClientId),
             Integer(query.Count), Text(query.ResultsToken), Boolean(query.Prior)],
            async (reader, ct) =>
            {
                var list = new List<IdsessSession>();
                IdsessSessionPage page = new([], null, false, false, 0, 0, 0);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    list.Add(ReadSession(reader));
                    page = new(list, reader.IsDBNull(12) ? null : reader.GetString(12), reader.GetBoolean(13), reader.GetBoolean(14),
                        reader.GetInt64(15), reader.GetInt32(16), reader.GetInt32(17));
                }
                return page;
            }, retry: true, Call.Store, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IdsessRevokedSession>> RevokeAsync(string? subjectId, string? sessionId = null,
        IReadOnlyCollection<string>? clientIds = null, string? reason = null, CancellationToken cancellationToken = default) =>
        // Not repeated after a broken connection: a second revocation would find nothing and lose the first's
        // list of clients to notify.
        _db.RunAsync(_db.Revoke, [Text(subjectId), Text(sessionId), TextArray(clientIds), Text(reason)], async (reader, ct) =>
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
            return (IReadOnlyList<IdsessRevokedSession>)list;
        }, retry: false, Call.Store, cancellationToken);

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
