using System.Diagnostics;
using Npgsql;

namespace Idsess.AspNetCore.Tests;

/// <summary>
/// A throwaway PostgreSQL 15 cluster with idsess preloaded, a generated master key, the expiry worker on
/// database <c>app</c>, client details recorded (<c>idsess.record_client = ip_and_agent</c>) and a database
/// <c>app11</c> whose idsess is still 1.1: Unix socket only, in a temporary directory, stopped and removed when the tests end
/// (test/run.sh also stops whatever a killed run left under IDSESS_TEST_WORKDIR).
/// </summary>
public sealed class Cluster : IDisposable
{
    private static readonly string BinDir = Environment.GetEnvironmentVariable("PG_BINDIR") ?? "/usr/lib/postgresql/15/bin";
    private readonly string _dir;
    private int _stopped;

    public Cluster()
    {
        var root = Environment.GetEnvironmentVariable("IDSESS_TEST_WORKDIR") ?? Path.GetTempPath();
        _dir = Path.Combine(root, "idsess-dotnet-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(_dir);
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        try
        {
            Start();
        }
        catch
        {
            Stop();
            throw;
        }
        App = NpgsqlDataSource.Create(ConnectionString("app"));
        Admin = NpgsqlDataSource.Create(ConnectionString("postgres"));
        App11 = NpgsqlDataSource.Create(ConnectionString("app", "app11"));
    }

    /// <summary>Connections as <c>app</c> to database <c>app11</c>, where idsess is 1.1.</summary>
    public NpgsqlDataSource App11 { get; }

    /// <summary>Connections as <c>app</c>, a role granted idsess_service only.</summary>
    public NpgsqlDataSource App { get; }

    /// <summary>Connections as the superuser, to revoke and to look at what idsess stored.</summary>
    public NpgsqlDataSource Admin { get; }

    public const int Port = 5432;

    public string ConnectionString(string user, string database = "app") =>
        new NpgsqlConnectionStringBuilder { Host = _dir, Port = Port, Database = database, Username = user, Pooling = true }.ConnectionString;

    private void Start()
    {
        var key = Path.Combine(_dir, "master.key");
        File.WriteAllText(key, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToLowerInvariant());
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (IsRoot)
        {
            Run("chown", "postgres", _dir, key);
        }
        AsPostgres(Path.Combine(BinDir, "initdb"), "-D", Data, "-A", "trust", "-U", "postgres");
        File.AppendAllText(Path.Combine(Data, "postgresql.conf"), $"""

            port = {Port}
            listen_addresses = ''
            unix_socket_directories = '{_dir}'
            shared_preload_libraries = 'idsess'
            idsess.master_key_file = '{key}'
            idsess.databases = 'app'
            idsess.max_nap = 200ms
            idsess.expired_sessions_trigger_logout = on
            idsess.record_client = ip_and_agent
            fsync = off
            """);
        AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", Data, "-l", Path.Combine(_dir, "server.log"), "-w", "start");
        AsPostgres(Path.Combine(BinDir, "psql"), "-X", "-q", "-h", _dir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE app", "-c", "CREATE DATABASE app11");
        AsPostgres(Path.Combine(BinDir, "psql"), "-X", "-q", "-h", _dir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-d", "app", "-v", "ON_ERROR_STOP=1", "-c",
            "CREATE EXTENSION idsess CASCADE; CREATE ROLE app LOGIN IN ROLE idsess_service; CREATE ROLE nobody LOGIN;");
        AsPostgres(Path.Combine(BinDir, "psql"), "-X", "-q", "-h", _dir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-d", "app11", "-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION idsess VERSION '1.1' CASCADE");
    }

    private string Data => Path.Combine(_dir, "data");

    private static bool IsRoot => Environment.UserName == "root";

    private static void AsPostgres(string program, params string[] args)
    {
        if (IsRoot)
        {
            Run("runuser", ["-u", "postgres", "--", program, .. args]);
        }
        else
        {
            Run(program, args);
        }
    }

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {p.ExitCode}: {error}{output.Result}");
        }
    }

    public string ServerLog => File.Exists(Path.Combine(_dir, "server.log")) ? File.ReadAllText(Path.Combine(_dir, "server.log")) : "";

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
            {
                AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", Data, "-m", "fast", "-w", "stop");
            }
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    public void Dispose()
    {
        App?.Dispose();
        Admin?.Dispose();
        App11?.Dispose();
        Stop();
    }
}

[CollectionDefinition("idsess")]
public sealed class IdsessClusterDefinition : ICollectionFixture<Cluster>;
