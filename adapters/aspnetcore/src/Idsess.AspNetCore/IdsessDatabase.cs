using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Idsess.AspNetCore;

/// <summary>
/// The calls this package makes, each one prepared statement on a pooled connection: Npgsql keeps a prepared
/// statement on its physical connection, so after a statement's first use there, a call is one round trip.
/// </summary>
internal sealed class IdsessDatabase
{
    // 57P01-57P03: the server ended the connection (terminate, shutdown, crash); 08xxx: connection exceptions.
    private static readonly string[] ConnectionLostStates = ["57P01", "57P02", "57P03"];

    private readonly NpgsqlDataSource _dataSource;

    internal IdsessDatabase(NpgsqlDataSource dataSource, string schema)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        _dataSource = dataSource;
        var s = "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        Create = $"SELECT key FROM {s}.idsess_create(subject_id => $1, ticket_bytes => $2, key => $3, session_id => $4, scheme => $5, display_name => $6, expires => $7, idle_timeout => $8, created => $9, issuer => $10)";
        Renew = $"SELECT {s}.idsess_update($1, ticket_bytes => $2, expires => COALESCE($3, 'infinity'::timestamptz), display_name => $4, subject_id => $5, session_id => $6, scheme => $7, issuer => $8, idle_timeout => $9, upsert => true)";
        // A session stored with a text ticket (by another store) reads as no bytes: unreadable, not unknown.
        Get = $"SELECT COALESCE(ticket_bytes, ''::bytea) FROM {s}.idsess_get($1)";
        Delete = $"SELECT {s}.idsess_delete($1)";
        AddClient = $"SELECT {s}.idsess_add_client($1, $2, $3)";
        RemoveClient = $"SELECT {s}.idsess_remove_client($1, $2)";
        Clients = $"SELECT {s}.idsess_clients($1)";
        const string Columns = "key, scheme, subject_id, session_id, display_name, created, renewed, expires, last_active, clients, client_sids, issuer";
        GetSessions = $"SELECT {Columns} FROM {s}.idsess_get_sessions(subject_id => $1, session_id => $2)";
        DeleteSessions = $"SELECT {s}.idsess_delete_sessions(subject_id => $1, session_id => $2)";
        Query = $"SELECT {Columns}, results_token, has_prev, has_next, total_count, total_pages, current_page FROM {s}.idsess_query(subject_id => $1, session_id => $2, display_name => $3, client_id => $4, count => $5, results_token => $6, prior => $7)";
        Revoke = $"SELECT key, subject_id, session_id, clients, client_sids, issuer, saml_sessions::text FROM {s}.idsess_revoke(subject_id => $1, session_id => $2, client_ids => $3, reason => $4)";
        // idsess 1.2: the same calls with their new arguments appended, so that a 1.1 call's parameters are a
        // prefix of its 1.2 one's.
        Create12 = $"SELECT key FROM {s}.idsess_create(subject_id => $1, ticket_bytes => $2, key => $3, session_id => $4, scheme => $5, display_name => $6, expires => $7, idle_timeout => $8, created => $9, issuer => $10, max_lifetime => $11, acr => $12, amr => $13, auth_time => $14, client_ip => $15, user_agent => $16, device => $17, tenant => $18)";
        Renew12 = $"SELECT {s}.idsess_update($1, ticket_bytes => $2, expires => COALESCE($3, 'infinity'::timestamptz), display_name => $4, subject_id => $5, session_id => $6, scheme => $7, issuer => $8, idle_timeout => $9, upsert => true, max_lifetime => $10, acr => $11, amr => $12, auth_time => $13, client_ip => $14, user_agent => $15, device => $16, tenant => $17)";
        Query12 = $"SELECT {Columns}, results_token, has_prev, has_next, total_count, total_pages, current_page, acr, amr, auth_time FROM {s}.idsess_query(subject_id => $1, session_id => $2, display_name => $3, client_id => $4, count => $5, results_token => $6, prior => $7)";
        Touch = $"SELECT {s}.idsess_touch($1, client_ip => $2, user_agent => $3, device => $4)";
        MySessions = $"SELECT session_id, current, device, client_ip::text, user_agent, created, last_seen, expires, clients, acr, amr, auth_time FROM {s}.idsess_my_sessions(subject_id => $1, current_key => $2)";
        RevokeOthers = $"SELECT key, subject_id, session_id, clients, client_sids, issuer, saml_sessions::text FROM {s}.idsess_revoke(subject_id => $1, except_key => $2, reason => $3, tenant => $4)";
    }

    internal string Create { get; }
    internal string Renew { get; }
    internal string Get { get; }
    internal string Delete { get; }
    internal string AddClient { get; }
    internal string RemoveClient { get; }
    internal string Clients { get; }
    internal string GetSessions { get; }
    internal string DeleteSessions { get; }
    internal string Query { get; }
    internal string Revoke { get; }
    internal string Create12 { get; }
    internal string Renew12 { get; }
    internal string Query12 { get; }
    internal string Touch { get; }
    internal string MySessions { get; }
    internal string RevokeOthers { get; }

    private const string VersionSql = "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'idsess'";
    private Task<bool>? _is12;

    /// <summary>
    /// Whether the database's idsess is 1.2 or later, asked once (a failed attempt is asked again). A database
    /// still at 1.1 gets the 1.1 calls until the application restarts after <c>ALTER EXTENSION idsess UPDATE</c>.
    /// </summary>
    internal async Task<bool> Is12Async(CancellationToken cancellationToken)
    {
        var known = _is12;
        if (known is null || known.IsFaulted || known.IsCanceled)
        {
            known = DetectAsync();
            _is12 = known;
        }
        return await known.WaitAsync(cancellationToken).ConfigureAwait(false);

        async Task<bool> DetectAsync() =>
            Version.TryParse(await ScalarAsync<string>(VersionSql, [], retry: true, Call.Store, CancellationToken.None).ConfigureAwait(false),
                out var version) && version >= new Version(1, 2);
    }

    /// <summary>Refuses an option that idsess 1.1 cannot honour, rather than dropping it silently.</summary>
    internal async Task Require12Async(string what, CancellationToken cancellationToken)
    {
        if (!await Is12Async(cancellationToken).ConfigureAwait(false))
        {
            throw new IdsessVersionException(
                $"idsess: {what} needs idsess 1.2; this database has an older version (run ALTER EXTENSION idsess UPDATE, then restart the application)");
        }
    }

    internal static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    internal static NpgsqlParameter Bytes(byte[] value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bytea, Value = value };

    internal static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } v ? v.UtcDateTime : DBNull.Value };

    internal static NpgsqlParameter Interval(TimeSpan? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Interval, Value = value is { } v ? v : DBNull.Value };

    internal static NpgsqlParameter Integer(int? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Integer, Value = value is { } v ? v : DBNull.Value };

    internal static NpgsqlParameter Inet(System.Net.IPAddress? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Inet, Value = value is null ? DBNull.Value : value.IsIPv4MappedToIPv6 ? value.MapToIPv4() : value };

    internal static NpgsqlParameter Boolean(bool value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Boolean, Value = value };

    internal static NpgsqlParameter TextArray(IReadOnlyCollection<string>? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = value is null ? DBNull.Value : value.ToArray() };

    /// <summary>
    /// Runs one statement and reads its result. <paramref name="retry"/>: the call may be repeated with the same
    /// effect, so a connection that turns out broken (the server restarted or ended it while it sat in the pool)
    /// is dropped with the pool's other idle connections and the call is made once more on a new one.
    /// </summary>
    internal async Task<T> RunAsync<T>(string sql, NpgsqlParameter[] parameters,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, bool retry, Call call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var command = new NpgsqlCommand(sql, connection);
                foreach (var p in parameters)
                {
                    command.Parameters.Add(p.Clone());
                }
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleResult, cancellationToken).ConfigureAwait(false);
                return await read(reader, cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e) when (connection is not null && IsConnectionLost(connection, e))
            {
                NpgsqlConnection.ClearPool(connection);
                if (!retry || attempt > 0)
                {
                    throw new IdsessUnavailableException("idsess: the connection to the database was lost", e);
                }
            }
            catch (PostgresException e)
            {
                throw Map(e, call);
            }
            catch (NpgsqlException e)
            {
                throw new IdsessUnavailableException("idsess: the database could not be reached", e);
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>A statement that returns one value (or none: the default).</summary>
    internal Task<T?> ScalarAsync<T>(string sql, NpgsqlParameter[] parameters, bool retry, Call call, CancellationToken cancellationToken) =>
        RunAsync(sql, parameters, async (reader, ct) =>
            await reader.ReadAsync(ct).ConfigureAwait(false) && !await reader.IsDBNullAsync(0, ct).ConfigureAwait(false)
                ? reader.GetFieldValue<T>(0)
                : default, retry, call, cancellationToken);

    private static bool IsConnectionLost(NpgsqlConnection connection, NpgsqlException e) =>
        ((connection.FullState & ConnectionState.Broken) != 0 || connection.State == ConnectionState.Closed)
        && (e is not PostgresException pg || ConnectionLostStates.Contains(pg.SqlState) || pg.SqlState.StartsWith("08", StringComparison.Ordinal));

    /// <summary>Which kind of call failed: 55000 means "expired session" only from the client calls.</summary>
    internal enum Call
    {
        Store,
        Client,
    }

    internal static IdsessException Map(PostgresException e, Call call)
    {
        var message = "idsess: " + e.MessageText + (e.Hint is { Length: > 0 } hint ? " (" + hint + ")" : "");
        return e.SqlState switch
        {
            "ISRVK" => new IdsessSessionRevokedException(message, e),
            "23505" => new IdsessDuplicateKeyException(message, e),
            "P0002" => new IdsessSessionNotFoundException(message, e),
            "55000" when call == Call.Client => new IdsessSessionExpiredException(message, e),
            "55000" => new IdsessPreconditionException(message, e),
            "22004" or "22023" or "22001" or "22008" or "23514" => new IdsessInvalidArgumentException(message, e),
            "54000" => new IdsessLimitExceededException(message, e),
            "42501" => new IdsessPermissionDeniedException(message, e),
            "XX001" or "42704" or "F0000" or "58P01" or "58000" or "58030" => new IdsessSealingException(message, e),
            _ => new IdsessException(message, e),
        };
    }
}
