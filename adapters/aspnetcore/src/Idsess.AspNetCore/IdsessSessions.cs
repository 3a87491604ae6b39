namespace Idsess.AspNetCore;

/// <summary>A live idsess session, without its ticket.</summary>
/// <param name="Key">The key the session cookie carries.</param>
/// <param name="Scheme">The cookie scheme.</param>
/// <param name="SubjectId">The user's subject; null for a session without a user.</param>
/// <param name="SessionId">The session id (<c>sid</c>).</param>
/// <param name="DisplayName">The searchable display name, if any.</param>
/// <param name="Created">When the session was created.</param>
/// <param name="Renewed">When it was last renewed.</param>
/// <param name="Expires">When it expires; null: never.</param>
/// <param name="LastActive">Its last activity (a renewal).</param>
/// <param name="Clients">The client ids that joined it, in the order they joined.</param>
/// <param name="ClientSids">Each client's own sid, parallel to <paramref name="Clients"/> (null: none).</param>
/// <param name="Issuer">The issuer stored with the session, if any.</param>
public sealed record IdsessSession(
    string Key,
    string Scheme,
    string? SubjectId,
    string SessionId,
    string? DisplayName,
    DateTimeOffset Created,
    DateTimeOffset Renewed,
    DateTimeOffset? Expires,
    DateTimeOffset LastActive,
    IReadOnlyList<string> Clients,
    IReadOnlyList<string?> ClientSids,
    string? Issuer)
{
    /// <summary>The sign-in's authentication context class, if recorded (<see cref="IIdsessSessionManager.QueryAsync"/>, idsess 1.2).</summary>
    public string? Acr { get; init; }

    /// <summary>The sign-in's authentication methods, if recorded (<see cref="IIdsessSessionManager.QueryAsync"/>, idsess 1.2).</summary>
    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>When the user last authenticated, if recorded (<see cref="IIdsessSessionManager.QueryAsync"/>, idsess 1.2).</summary>
    public DateTimeOffset? AuthTime { get; init; }
}

/// <summary>One of a user's own sessions, for a "your active sessions" page: no key, which is a credential.</summary>
/// <param name="SessionId">The session id (<c>sid</c>): sign one session out with <c>RevokeAsync(subjectId, sessionId)</c>.</param>
/// <param name="Current">Whether it is the session of the key given (the request's own).</param>
/// <param name="Device">The device label, if recorded.</param>
/// <param name="ClientIp">The client's network as recorded (cut to the server's prefix, e.g. <c>203.0.113.0/24</c>), if recorded.</param>
/// <param name="UserAgent">The user agent, if recorded.</param>
/// <param name="Created">When the user signed in.</param>
/// <param name="LastSeen">When the client was last seen, if recorded.</param>
/// <param name="Expires">When it expires; null: never.</param>
/// <param name="Clients">The clients that joined it.</param>
/// <param name="Acr">The sign-in's authentication context class, if recorded.</param>
/// <param name="Amr">The sign-in's authentication methods.</param>
/// <param name="AuthTime">When the user last authenticated, if recorded.</param>
public sealed record IdsessMySession(
    string SessionId,
    bool Current,
    string? Device,
    string? ClientIp,
    string? UserAgent,
    DateTimeOffset Created,
    DateTimeOffset? LastSeen,
    DateTimeOffset? Expires,
    IReadOnlyList<string> Clients,
    string? Acr,
    IReadOnlyList<string> Amr,
    DateTimeOffset? AuthTime);

/// <summary>A session <c>idsess_revoke</c> ended, with whom to send a back-channel logout.</summary>
/// <param name="Key">The ended session's key (now revoked: it cannot be saved again).</param>
/// <param name="SubjectId">The user's subject.</param>
/// <param name="SessionId">The session id (<c>sid</c>) for the logout token.</param>
/// <param name="Clients">The clients to notify (those of the filter when the revocation named clients).</param>
/// <param name="ClientSids">Each client's own sid, parallel to <paramref name="Clients"/>.</param>
/// <param name="Issuer">The issuer stored with the session, if any.</param>
/// <param name="SamlSessionsJson">The SAML service-provider sessions to notify, as idsess's JSON array.</param>
public sealed record IdsessRevokedSession(
    string Key,
    string? SubjectId,
    string SessionId,
    IReadOnlyList<string> Clients,
    IReadOnlyList<string?> ClientSids,
    string? Issuer,
    string SamlSessionsJson);

/// <summary>An admin search: substring filters (case-insensitive) and an exact client filter, AND-ed.</summary>
public sealed record IdsessSessionQuery
{
    /// <summary>Part of the subject.</summary>
    public string? SubjectId { get; init; }

    /// <summary>Part of the session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>Part of the display name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Sessions that this client joined (exact).</summary>
    public string? ClientId { get; init; }

    /// <summary>Page size, 1 to 1,000; null: 25.</summary>
    public int? Count { get; init; }

    /// <summary>The <see cref="IdsessSessionPage.ResultsToken"/> of the page to move from; null: the first page.</summary>
    public string? ResultsToken { get; init; }

    /// <summary>With <see cref="ResultsToken"/>: the page before it instead of the one after.</summary>
    public bool Prior { get; init; }
}

/// <summary>One page of an admin search.</summary>
/// <param name="Sessions">The page's sessions.</param>
/// <param name="ResultsToken">Pass it back (same filters) for the next page, or the previous one with Prior.</param>
/// <param name="HasPrevious">Whether a page comes before this one.</param>
/// <param name="HasNext">Whether a page comes after this one.</param>
/// <param name="TotalCount">Matching sessions, counted for the search's first page.</param>
/// <param name="TotalPages">Pages of that count.</param>
/// <param name="CurrentPage">This page's number, from 1.</param>
public sealed record IdsessSessionPage(
    IReadOnlyList<IdsessSession> Sessions,
    string? ResultsToken,
    bool HasPrevious,
    bool HasNext,
    long TotalCount,
    int TotalPages,
    int CurrentPage);
