using Idsess.AspNetCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Idsess.AspNetCore
{
    /// <summary>
    /// An OpenIddict server event handler: when the server signs a user in for a client (issues a code or tokens
    /// at the authorization endpoint), the client joins the user's idsess session, so "sessions of client X",
    /// revocation with the clients to notify and the admin search know it. One call to <c>idsess_add_client</c>.
    /// </summary>
    /// <remarks>
    /// A sign-in whose session was revoked or expired during the request is rejected with <c>login_required</c>:
    /// the client gets no code for a session that has ended.
    /// </remarks>
    public sealed partial class IdsessAddClientHandler : IOpenIddictServerHandler<ProcessSignInContext>
    {
        private readonly IIdsessSessionManager _sessions;
        private readonly IdsessOptions _options;
        private readonly ILogger<IdsessAddClientHandler> _logger;

        /// <summary>Creates the handler.</summary>
        public IdsessAddClientHandler(IIdsessSessionManager sessions, IOptions<IdsessOptions> options, ILogger<IdsessAddClientHandler> logger)
        {
            ArgumentNullException.ThrowIfNull(options);
            _sessions = sessions;
            _options = options.Value;
            _logger = logger;
        }

        /// <summary>The handler's place: after OpenIddict has validated the sign-in, before it makes tokens.</summary>
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseScopedHandler<IdsessAddClientHandler>()
                .SetOrder(OpenIddictServerHandlers.ValidateSignInDemand.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        /// <summary>Adds the signing-in client to the session the request was authenticated with.</summary>
        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var clientId = context.ClientId ?? context.Request?.ClientId;
            var http = context.Transaction.GetHttpRequest()?.HttpContext;
            // The token endpoint signs in too, but from the client's back channel: no user session there.
            var key = http?.GetIdsessSessionKey(_options.ClientSessionScheme);
            if (string.IsNullOrEmpty(clientId) || key is null)
            {
                return;
            }
            try
            {
                await _sessions.AddClientAsync(key, clientId, cancellationToken: context.CancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IdsessSessionNotFoundException or IdsessSessionExpiredException)
            {
                LogSessionEnded(_logger, clientId);
                context.Reject(
                    error: OpenIddictConstants.Errors.LoginRequired,
                    description: "The user's session has ended; the user must sign in again.");
            }
        }

        [LoggerMessage(EventId = 3, Level = LogLevel.Information,
            Message = "idsess: a sign-in for client {ClientId} was refused: the user's session ended during the request")]
        private static partial void LogSessionEnded(ILogger logger, string clientId);
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Adds idsess to an OpenIddict server.</summary>
    public static class IdsessOpenIddictServerBuilderExtensions
    {
        /// <summary>
        /// Records each client an OpenIddict sign-in is for in the user's idsess session
        /// (<see cref="IdsessAddClientHandler"/>). Needs <c>AddIdsessTicketStore</c> on the cookie scheme that
        /// holds the user's session.
        /// </summary>
        public static OpenIddictServerBuilder AddIdsessClients(this OpenIddictServerBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            return builder.AddEventHandler(IdsessAddClientHandler.Descriptor);
        }
    }
}
