using Npgsql;

namespace Idsess.AspNetCore;

/// <summary>
/// An error idsess reported (a SQLSTATE from its documented list) or a failure to reach it.
/// </summary>
public class IdsessException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IdsessException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessException(string message, Exception innerException) : base(message, innerException)
    {
        SqlState = (innerException as PostgresException)?.SqlState;
    }

    /// <summary>The SQLSTATE PostgreSQL returned; null when the server was not reached.</summary>
    public string? SqlState { get; }
}

/// <summary>
/// <c>ISRVK</c>: the session key was revoked by an administrator (or ended by the session limit). The session
/// must not be created again; the user signs in anew.
/// </summary>
public class IdsessSessionRevokedException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessSessionRevokedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessSessionRevokedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessSessionRevokedException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary><c>23505</c>: a session with this key already exists.</summary>
public class IdsessDuplicateKeyException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessDuplicateKeyException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessDuplicateKeyException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessDuplicateKeyException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary><c>P0002</c>: no session has this key (client and SAML calls).</summary>
public class IdsessSessionNotFoundException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessSessionNotFoundException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessSessionNotFoundException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessSessionNotFoundException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// <c>55000</c>: idsess cannot do this in its present state: no master key is configured, a ticket is sealed
/// under a retired key, or (client and SAML calls) the session has expired; the message says which.
/// </summary>
public class IdsessPreconditionException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessPreconditionException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessPreconditionException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessPreconditionException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary><c>55000</c> from a client or SAML call: the session is past its expiry or inactivity timeout.</summary>
public class IdsessSessionExpiredException : IdsessPreconditionException
{
    /// <summary>Creates the exception.</summary>
    public IdsessSessionExpiredException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessSessionExpiredException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessSessionExpiredException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// <c>22004</c>, <c>22023</c>, <c>22001</c>, <c>22008</c>, <c>23514</c>: an argument idsess refuses (missing,
/// blank, too long, out of range, an expiry before the creation time, a results token for other filters).
/// </summary>
public class IdsessInvalidArgumentException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessInvalidArgumentException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessInvalidArgumentException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessInvalidArgumentException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// <c>54000</c>: a ticket larger than <c>idsess.max_ticket_size</c>, or too many opened tickets in one call.
/// </summary>
public class IdsessLimitExceededException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessLimitExceededException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessLimitExceededException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessLimitExceededException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary><c>42501</c>: the login role lacks the idsess role this call needs.</summary>
public class IdsessPermissionDeniedException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessPermissionDeniedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessPermissionDeniedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessPermissionDeniedException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// <c>XX001</c>, <c>42704</c>, <c>F0000</c>, <c>58P01</c>: a sealed ticket that cannot be opened (altered,
/// or sealed under a key not in the key ring) or a master key file idsess cannot use.
/// </summary>
public class IdsessSealingException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessSealingException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessSealingException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessSealingException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The database could not be reached or the connection broke (no SQLSTATE from idsess). A session read is not
/// reported as "signed out" for this: the request fails instead.
/// </summary>
public class IdsessUnavailableException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessUnavailableException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// An option or call that needs a newer idsess than the database has (a tenant, an absolute lifetime, the
/// "my sessions" calls need 1.2). Not sent to the database, so it has no SQLSTATE.
/// </summary>
public class IdsessVersionException : IdsessException
{
    /// <summary>Creates the exception.</summary>
    public IdsessVersionException() { }

    /// <summary>Creates the exception with a message.</summary>
    public IdsessVersionException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdsessVersionException(string message, Exception innerException) : base(message, innerException) { }
}
