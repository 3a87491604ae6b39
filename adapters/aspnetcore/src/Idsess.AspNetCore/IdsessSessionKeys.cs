using Microsoft.AspNetCore.Http;

namespace Idsess.AspNetCore;

/// <summary>
/// The idsess session keys a request has read or written, by cookie scheme: the cookie handler gives the
/// application the ticket, not its key, and the OpenIddict handler needs the key to add a client.
/// </summary>
public static class IdsessHttpContextExtensions
{
    private static readonly object ItemKey = new();

    /// <summary>
    /// The key of the idsess session this request was authenticated with (or signed in to), for the given cookie
    /// scheme, or for the first scheme whose session the request read when <paramref name="scheme"/> is null.
    /// Null when the request has no live idsess session (none, signed out, or revoked during the request).
    /// </summary>
    public static string? GetIdsessSessionKey(this HttpContext context, string? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ItemKey, out var value) && value is List<KeyValuePair<string, string>> keys)
        {
            foreach (var (s, key) in keys)
            {
                if (scheme is null || s == scheme)
                {
                    return key;
                }
            }
        }
        return null;
    }

    internal static void SetIdsessSessionKey(this HttpContext context, string scheme, string? key)
    {
        if (!context.Items.TryGetValue(ItemKey, out var value) || value is not List<KeyValuePair<string, string>> keys)
        {
            if (key is null)
            {
                return;
            }
            keys = [];
            context.Items[ItemKey] = keys;
        }
        keys.RemoveAll(k => k.Key == scheme);
        if (key is not null)
        {
            keys.Add(new(scheme, key));
        }
    }
}
