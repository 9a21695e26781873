using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>
    /// One PowerShell runspace per test process with the built module imported from out/MadfLog
    /// (an assembly cannot be unloaded, so the module is imported once).
    /// </summary>
    public sealed class ModuleFixture : IDisposable
    {
        public ModuleFixture()
        {
            ManifestPath = Path.Combine(RepoRoot, "out", "MadfLog", "MadfLog.psd1");
            if (!File.Exists(ManifestPath)) throw new InvalidOperationException("Build first: " + ManifestPath + " is missing.");
            var iss = InitialSessionState.CreateDefault2();
            Runspace = RunspaceFactory.CreateRunspace(iss);
            Runspace.Open();
            var import = Run("Import-Module $m -ErrorAction Stop -PassThru", new Hashtable { ["m"] = ManifestPath });
            if (import.Errors.Count > 0) throw new InvalidOperationException("Import-Module failed: " + import.Errors[0]);
            Module = (PSModuleInfo)import.Output.Single().BaseObject;
        }

        public Runspace Runspace { get; }
        public PSModuleInfo Module { get; }
        public string ManifestPath { get; }

        public static string RepoRoot
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MadfLog.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("MadfLog.sln not found");
            }
        }

        public static string Shared
        {
            get
            {
                var env = Environment.GetEnvironmentVariable("MADFLOG_SHARED");
                return !string.IsNullOrEmpty(env) ? env! : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            }
        }

        /// <summary>Runs a script with variables set; returns output, errors and warnings (never throws for script errors).</summary>
        public ScriptResult Run(string script, IDictionary? variables = null)
        {
            using var ps = PowerShell.Create();
            ps.Runspace = Runspace;
            if (variables != null)
                foreach (DictionaryEntry v in variables) Runspace.SessionStateProxy.SetVariable((string)v.Key, v.Value);
            ps.AddScript(script);
            var result = new ScriptResult();
            try
            {
                result.Output.AddRange(ps.Invoke());
            }
            catch (RuntimeException ex)
            {
                result.Terminating = ex.ErrorRecord;
            }
            result.Errors.AddRange(ps.Streams.Error);
            result.Warnings.AddRange(ps.Streams.Warning.Select(w => w.Message));
            return result;
        }

        /// <summary>Runs the madflog host as a separate process, as a user without pwsh would.</summary>
        public static (int ExitCode, string StdOut, string StdErr) RunHost(string workingDirectory, params string[] args) =>
            RunHostWithInput(workingDirectory, null, args);

        /// <summary>Runs the madflog host with <paramref name="input"/> as its standard input (none when null).</summary>
        public static (int ExitCode, string StdOut, string StdErr) RunHostWithInput(string workingDirectory, string? input, params string[] args)
        {
            var exe = Path.Combine(RepoRoot, "out", "madflog", OperatingSystem.IsWindows() ? "madflog.exe" : "madflog");
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = workingDirectory };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            // Like CI: nothing to read unless the test gives input.
            if (input != null) p.StandardInput.Write(input);
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("madflog did not finish"); }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }

        public void Dispose() => Runspace.Dispose();
    }

    public sealed class ScriptResult
    {
        public List<PSObject> Output { get; } = new List<PSObject>();
        public List<ErrorRecord> Errors { get; } = new List<ErrorRecord>();
        public List<string> Warnings { get; } = new List<string>();
        public ErrorRecord? Terminating { get; set; }

        public IEnumerable<ErrorRecord> AllErrors => Terminating == null ? Errors : Errors.Append(Terminating);
    }

    [CollectionDefinition("module")]
    public sealed class ModuleCollection : ICollectionFixture<ModuleFixture> { }

    /// <summary>A throw-away folder for one test.</summary>
    public sealed class Temp : IDisposable
    {
        public Temp()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "madflog-mtest-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public string Db => File("madflog.db");

        public void Dispose()
        {
            try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
