using System;
using System.IO;

namespace MadfLog.Engine.Tests
{
    /// <summary>Locations tests need: the repository root, ../shared data, and throw-away folders.</summary>
    public static class TestPaths
    {
        public static string RepoRoot
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MadfLog.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("MadfLog.sln not found above " + AppContext.BaseDirectory);
            }
        }

        /// <summary>The shared/ folder beside the repository ($MADFLOG_SHARED overrides).</summary>
        public static string Shared
        {
            get
            {
                var env = Environment.GetEnvironmentVariable("MADFLOG_SHARED");
                if (!string.IsNullOrEmpty(env)) return env!;
                var candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
                if (Directory.Exists(candidate)) return candidate;
                throw new DirectoryNotFoundException("shared/ data not found beside the repository (" + candidate + "); set MADFLOG_SHARED.");
            }
        }

        /// <summary>A new empty folder, deleted when disposed.</summary>
        public static TempFolder NewTemp() => new TempFolder();
    }

    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "madflog-test-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public string Db => File("madflog.db");

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
