using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Idsess.AspNetCore.Tests;

/// <summary>Keeps every log entry, to check what the store reports and that no ticket or key is in it.</summary>
public sealed class Logs : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public ILogger<T> For<T>() => new Logger<T>(new Factory(this));

    public void Dispose() { }

    private sealed class Logger(Logs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Entries.Enqueue((category, logLevel, eventId, formatter(state, exception)));
    }

    private sealed class Factory(Logs logs) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) { }

        public ILogger CreateLogger(string categoryName) => logs.CreateLogger(categoryName);

        public void Dispose() { }
    }
}
