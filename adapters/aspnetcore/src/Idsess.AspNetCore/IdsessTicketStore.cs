using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Idsess.AspNetCore.IdsessDatabase;

namespace Idsess.AspNetCore;

/// <summary>
/// A cookie <see cref="ITicketStore"/> that keeps authentication tickets in idsess. The ticket goes to the
/// database as <see cref="TicketSerializer"/> bytes and is sealed there once (compressed first when that makes
/// it smaller); it is never Data-Protection-protected before. Each call is one statement.
/// </summary>
/// <remarks>
/// A session revoked in idsess stays ended: a renewal that finds its key revoked (SQLSTATE <c>ISRVK</c>) is
/// dropped, so a request in flight during the revocation cannot bring the session back, and the next request
/// reads no session and is signed out.
/// </remarks>
public sealed partial class IdsessTicketStore : ITicketStore
{
    private readonly IdsessDatabase _db;
    private readonly IdsessOptions _options;
    private readonly string? _scheme;
    private readonly ILogger _logger;

    /// <summary>Creates a ticket store for one cookie scheme.</summary>
    /// <param name="dataSource">Connections as a role granted <c>idsess_service</c>.</param>
    /// <param name="scheme">The cookie scheme stored with each session; null: the ticket's own scheme.</param>
    /// <param name="options">Claim mapping and schema; null: the defaults.</param>
    /// <param name="logger">Where revoked renewals and unreadable tickets are reported.</param>
    public IdsessTicketStore(NpgsqlDataSource dataSource, string? scheme = null, IdsessOptions? options = null,
        ILogger<IdsessTicketStore>? logger = null)
    {
        _options = options ?? new IdsessOptions();
        _db = new IdsessDatabase(dataSource, _options.Schema);
        _scheme = scheme;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, null!, CancellationToken.None);

    /// <inheritdoc />
    public Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken) =>
        StoreAsync(ticket, null!, cancellationToken);

    /// <summary>
    /// Creates a session for a signed-in user: subject, sid and display name from the ticket's claims, expiry
    /// from its properties, the ticket sealed by idsess. Returns the key the cookie carries. With idsess 1.2 also
    /// the tenant, the absolute lifetime, the sign-in's acr, amr and auth_time claims and, from the request the
    /// cookie handler passes, the client's IP address, user agent and device label.
    /// </summary>
    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var scheme = _scheme ?? ticket.AuthenticationScheme;
        // Made here rather than by idsess, in idsess's format, so that a create whose connection broke can be
        // repeated: a repeat that finds the key taken finds its own first attempt.
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        NpgsqlParameter[] parameters =
        [
            Text(FindClaim(ticket.Principal, _options.SubjectClaimTypes)),
            Bytes(TicketSerializer.Default.Serialize(ticket)),
            Text(key),
            Text(FindClaim(ticket.Principal, _options.SessionIdClaimTypes)),
            Text(scheme),
            Text(FindClaim(ticket.Principal, _options.DisplayNameClaimTypes)),
            Time(ticket.Properties.ExpiresUtc),
            Interval(_options.IdleTimeout),
            Time(ticket.Properties.IssuedUtc),
            Text(_options.Issuer),
        ];
        var is12 = await Check12Async(httpContext, cancellationToken).ConfigureAwait(false);
        if (is12)
        {
            parameters = [.. parameters, .. Details(ticket, httpContext)];
        }
        try
        {
            await _db.ScalarAsync<string>(is12 ? _db.Create12 : _db.Create, parameters, retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
        }
        catch (IdsessDuplicateKeyException)
        {
            // 256 random bits: only a repeat after a broken connection can meet the key, its own first attempt's.
        }
        httpContext?.SetIdsessSessionKey(scheme, key);
        return key;
    }

    /// <inheritdoc />
    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, null!, CancellationToken.None);

    /// <inheritdoc />
    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken) =>
        RenewAsync(key, ticket, null!, cancellationToken);

    /// <summary>
    /// Saves the renewed ticket and its new expiry (creating the session again if it is gone, as the cookie
    /// handler expects). A revoked session is not saved: the request's session ends, and the user is signed out
    /// on the next request. With idsess 1.2 a new acr, amr or auth_time claim records a step-up, and the
    /// request's client details are recorded again.
    /// </summary>
    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(ticket);
        var scheme = _scheme ?? ticket.AuthenticationScheme;
        NpgsqlParameter[] parameters =
        [
            Text(key),
            Bytes(TicketSerializer.Default.Serialize(ticket)),
            Time(ticket.Properties.ExpiresUtc),
            Text(FindClaim(ticket.Principal, _options.DisplayNameClaimTypes)),
            Text(FindClaim(ticket.Principal, _options.SubjectClaimTypes)),
            Text(FindClaim(ticket.Principal, _options.SessionIdClaimTypes)),
            Text(scheme),
            Text(_options.Issuer),
            Interval(_options.IdleTimeout),
        ];
        var is12 = await Check12Async(httpContext, cancellationToken).ConfigureAwait(false);
        if (is12)
        {
            parameters = [.. parameters, .. Details(ticket, httpContext)];
        }
        try
        {
            await _db.ScalarAsync<bool>(is12 ? _db.Renew12 : _db.Renew, parameters, retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
        }
        catch (IdsessSessionRevokedException)
        {
            LogRevokedRenewal(_logger, scheme);
            httpContext?.SetIdsessSessionKey(scheme, null);
        }
    }

    /// <inheritdoc />
    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, null!, CancellationToken.None);

    /// <inheritdoc />
    public Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken) =>
        RetrieveAsync(key, null!, cancellationToken);

    /// <summary>
    /// The ticket of the live session with this key; null when the session is unknown, revoked, expired, past its
    /// inactivity timeout, or holds a ticket this store cannot read (the user is then signed out).
    /// </summary>
    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var bytes = await _db.ScalarAsync<byte[]>(_db.Get, [Text(key)], retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
        var ticket = bytes is null ? null : Deserialize(bytes);
        if (ticket is not null && httpContext is not null)
        {
            httpContext.SetIdsessSessionKey(_scheme ?? ticket.AuthenticationScheme, key);
        }
        return ticket;
    }

    /// <inheritdoc />
    public Task RemoveAsync(string key) => RemoveAsync(key, null!, CancellationToken.None);

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken cancellationToken) => RemoveAsync(key, null!, cancellationToken);

    /// <summary>Deletes the session (sign-out). Deleting a session that is already gone is not an error.</summary>
    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await _db.ScalarAsync<bool>(_db.Delete, [Text(key)], retry: true, Call.Store, cancellationToken).ConfigureAwait(false);
        if (httpContext is not null && _scheme is not null)
        {
            httpContext.SetIdsessSessionKey(_scheme, null);
        }
    }

    /// <summary>
    /// Whether to make the 1.2 calls. Against idsess 1.1 the sign-in strength and client details are not sent;
    /// a tenant or an absolute lifetime is refused rather than dropped.
    /// </summary>
    private async Task<bool> Check12Async(HttpContext? httpContext, CancellationToken cancellationToken)
    {
        if (await _db.Is12Async(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        if (_options.MaxLifetime is not null)
        {
            await _db.Require12Async("IdsessOptions.MaxLifetime", cancellationToken).ConfigureAwait(false);
        }
        if (IdsessRequestDetails.Tenant(_options, httpContext) is not null)
        {
            await _db.Require12Async("a tenant (IdsessOptions.Tenant, TenantResolver)", cancellationToken).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>The 1.2 arguments: max_lifetime, acr, amr, auth_time, client_ip, user_agent, device, tenant.</summary>
    private NpgsqlParameter[] Details(AuthenticationTicket ticket, HttpContext? httpContext) =>
    [
        Interval(_options.MaxLifetime),
        .. IdsessRequestDetails.Strength(_options, ticket.Principal),
        .. IdsessRequestDetails.Client(_options, httpContext),
        Text(IdsessRequestDetails.Tenant(_options, httpContext)),
    ];

    private AuthenticationTicket? Deserialize(byte[] bytes)
    {
        try
        {
            var ticket = TicketSerializer.Default.Deserialize(bytes);
            if (ticket is null)
            {
                LogUnreadableTicket(_logger, _scheme, "format version unknown");
            }
            return ticket;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException or ArgumentException or InvalidOperationException or OverflowException)
        {
            LogUnreadableTicket(_logger, _scheme, e.GetType().Name);
            return null;
        }
    }

    internal static string? FindClaim(ClaimsPrincipal principal, IEnumerable<string> types)
    {
        foreach (var type in types)
        {
            foreach (var identity in principal.Identities)
            {
                if (identity.FindFirst(type) is { Value: { Length: > 0 } value } && !string.IsNullOrWhiteSpace(value))
                {
                    return value;
                }
            }
        }
        return null;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "idsess: a renewal of a revoked session (scheme {Scheme}) was dropped; the user is signed out")]
    private static partial void LogRevokedRenewal(ILogger logger, string scheme);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "idsess: a session's ticket (scheme {Scheme}) could not be read as an authentication ticket ({Reason}); the user is signed out")]
    private static partial void LogUnreadableTicket(ILogger logger, string? scheme, string reason);
}
