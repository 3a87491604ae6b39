using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Npgsql;
using static Idsess.AspNetCore.IdsessDatabase;

namespace Idsess.AspNetCore;

/// <summary>What idsess 1.2 records of a session beyond its ticket: tenant, sign-in strength, client details.</summary>
internal static class IdsessRequestDetails
{
    internal static string? Tenant(IdsessOptions options, HttpContext? context) =>
        (context is not null ? options.TenantResolver?.Invoke(context) : null) ?? options.Tenant;

    /// <summary>client_ip, user_agent, device: from the request when there is one (the server keeps what
    /// <c>idsess.record_client</c> allows).</summary>
    internal static NpgsqlParameter[] Client(IdsessOptions options, HttpContext? context)
    {
        var agent = context?.Request.Headers.UserAgent.ToString();
        return
        [
            Inet(context?.Connection.RemoteIpAddress),
            Text(string.IsNullOrWhiteSpace(agent) ? null : agent),
            Text(context is not null ? options.DeviceLabel?.Invoke(context) : null),
        ];
    }

    /// <summary>acr, amr, auth_time from the ticket's claims (null when absent: a renewal keeps what was recorded).</summary>
    internal static NpgsqlParameter[] Strength(IdsessOptions options, ClaimsPrincipal principal)
    {
        DateTimeOffset? authTime = null;
        if (IdsessTicketStore.FindClaim(principal, options.AuthTimeClaimTypes) is { } t
            && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            authTime = DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        return
        [
            Text(IdsessTicketStore.FindClaim(principal, options.AcrClaimTypes)),
            TextArray(FindClaims(principal, options.AmrClaimTypes)),
            Time(authTime),
        ];
    }

    private static List<string>? FindClaims(ClaimsPrincipal principal, IEnumerable<string> types)
    {
        foreach (var type in types)
        {
            var values = principal.FindAll(type).Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).Distinct(StringComparer.Ordinal).ToList();
            if (values.Count > 0)
            {
                return values;
            }
        }
        return null;
    }
}
