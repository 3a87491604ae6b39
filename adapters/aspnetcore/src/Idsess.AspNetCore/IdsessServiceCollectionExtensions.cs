using Idsess.AspNetCore;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers idsess as the session store of ASP.NET Core cookie schemes.</summary>
public static class IdsessServiceCollectionExtensions
{
    /// <summary>
    /// Keeps the tickets of every cookie scheme (or only <paramref name="scheme"/>) in idsess, and registers
    /// <see cref="IIdsessSessionManager"/>. The connection string's role needs <c>idsess_service</c>.
    /// </summary>
    public static IServiceCollection AddIdsessTicketStore(this IServiceCollection services, string connectionString,
        string? scheme = null, Action<IdsessOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.TryAddSingleton(_ => new IdsessDataSource(NpgsqlDataSource.Create(connectionString), owned: true));
        return AddCore(services, scheme, configure);
    }

    /// <summary>
    /// Keeps the tickets of every cookie scheme (or only <paramref name="scheme"/>) in idsess through an
    /// existing data source (not disposed by this package), and registers <see cref="IIdsessSessionManager"/>.
    /// </summary>
    public static IServiceCollection AddIdsessTicketStore(this IServiceCollection services, NpgsqlDataSource dataSource,
        string? scheme = null, Action<IdsessOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        services.TryAddSingleton(new IdsessDataSource(dataSource, owned: false));
        return AddCore(services, scheme, configure);
    }

    private static IServiceCollection AddCore(IServiceCollection services, string? scheme, Action<IdsessOptions>? configure)
    {
        var options = services.AddOptions<IdsessOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        // The session manager's tenant and client details come from the request being served.
        services.AddHttpContextAccessor();
        services.TryAddSingleton<IIdsessSessionManager>(sp =>
            new IdsessSessionManager(sp.GetRequiredService<IdsessDataSource>().DataSource, sp.GetRequiredService<IOptions<IdsessOptions>>().Value,
                sp.GetService<IHttpContextAccessor>()));
        services.AddSingleton<IPostConfigureOptions<CookieAuthenticationOptions>>(sp => new SessionStoreSetup(sp, scheme));
        return services;
    }

    private sealed class SessionStoreSetup(IServiceProvider services, string? scheme) : IPostConfigureOptions<CookieAuthenticationOptions>
    {
        public void PostConfigure(string? name, CookieAuthenticationOptions options)
        {
            if (name is null || (scheme is not null && name != scheme))
            {
                return;
            }
            options.SessionStore = new IdsessTicketStore(
                services.GetRequiredService<IdsessDataSource>().DataSource,
                name,
                services.GetRequiredService<IOptions<IdsessOptions>>().Value,
                services.GetRequiredService<ILogger<IdsessTicketStore>>());
        }
    }
}

/// <summary>The data source the idsess services use; disposes it when this package created it.</summary>
internal sealed class IdsessDataSource(NpgsqlDataSource dataSource, bool owned) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public ValueTask DisposeAsync() => owned ? DataSource.DisposeAsync() : ValueTask.CompletedTask;
}
