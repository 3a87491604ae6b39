using System.Security.Claims;

namespace Idsess.AspNetCore;

/// <summary>
/// Settings of the idsess ticket store and session management service.
/// </summary>
public sealed class IdsessOptions
{
    /// <summary>
    /// The schema the idsess extension is installed in (<c>SELECT extnamespace::regnamespace FROM pg_extension
    /// WHERE extname = 'idsess'</c>). Every call names it, so a function planted earlier on the login role's
    /// search_path is never called. Default <c>public</c>.
    /// </summary>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Claim types tried in order for the session's subject. Default: <c>sub</c>, then the name identifier.
    /// </summary>
    public IList<string> SubjectClaimTypes { get; } = new List<string> { "sub", ClaimTypes.NameIdentifier };

    /// <summary>
    /// Claim types tried in order for the session id (<c>sid</c>). When none is present idsess generates one.
    /// </summary>
    public IList<string> SessionIdClaimTypes { get; } = new List<string> { "sid" };

    /// <summary>
    /// Claim types tried in order for the searchable display name. Default: <c>name</c>, then
    /// <see cref="ClaimTypes.Name"/>. Clear the list to store no display name.
    /// </summary>
    public IList<string> DisplayNameClaimTypes { get; } = new List<string> { "name", ClaimTypes.Name };

    /// <summary>
    /// The issuer stored with each session (idsess returns it with revoked and expired sessions, for logout
    /// tokens). Null: none.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// The inactivity timeout given to new sessions. Null: the server's <c>idsess.idle_timeout</c> setting;
    /// <see cref="TimeSpan.Zero"/>: none. Only a renewal counts as activity, so keep it longer than the
    /// cookie's sliding renewal interval (half its <c>ExpireTimeSpan</c>).
    /// </summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// The cookie scheme whose session an OpenIddict sign-in adds its client to. Null: the session the request
    /// was authenticated with (the only one, or the first one read).
    /// </summary>
    public string? ClientSessionScheme { get; set; }
}
