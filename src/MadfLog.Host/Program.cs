using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;

namespace MadfLog.Host
{
    /// <summary>madflog -Command '&lt;script&gt;' | -File script.ps1 [args]: pwsh's switches on the embedded engine, with MadfLog imported.</summary>
    public static class Program
    {
        private const string Usage = @"Usage: madflog [-NoProfile] [-NonInteractive] (-Command <script> | -File <script.ps1> [args...])

Runs PowerShell with the MadfLog module imported (from ../MadfLog next to this program, or $env:MADFLOG_MODULE).
Output is rendered with the module's format views. The exit code is the script's 'exit N', else 1 when an
error was written, else 0.";

        public static int Main(string[] args)
        {
            string? command = null, file = null;
            var fileArgs = new List<string>();
            for (var i = 0; i < args.Length; i++)
            {
                var a = args[i];
                var name = a.StartsWith("-") || a.StartsWith("/") ? a.TrimStart('-', '/').ToLowerInvariant() : null;
                switch (name)
                {
                    case "command": case "c":
                        command = string.Join(" ", args.Skip(i + 1));
                        i = args.Length;
                        break;
                    case "file": case "f":
                        if (i + 1 >= args.Length) return Fail("-File needs a script path.");
                        file = args[i + 1];
                        fileArgs.AddRange(args.Skip(i + 2));
                        i = args.Length;
                        break;
                    case "noprofile": case "nop": case "noninteractive": case "noni": case "nologo": case "nol":
                        break;
                    case "help": case "h": case "?":
                        Console.WriteLine(Usage);
                        return 0;
                    default:
                        if (command == null && file == null && name == null) { command = string.Join(" ", args.Skip(i)); i = args.Length; break; }
                        return Fail($"Unknown switch '{a}'.\n\n{Usage}");
                }
            }
            if (command == null && file == null)
            {
                if (Console.IsInputRedirected) command = Console.In.ReadToEnd();
                else { Console.WriteLine(Usage); return 0; }
            }
            return Run(command, file, fileArgs);
        }

        private static int Fail(string message)
        {
            Console.Error.WriteLine("madflog: " + message);
            return 64;
        }

        private static string ModuleManifest()
        {
            var fromEnv = Environment.GetEnvironmentVariable("MADFLOG_MODULE");
            if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv!);
            return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "MadfLog", "MadfLog.psd1"));
        }

        private static int Run(string? command, string? file, List<string> fileArgs)
        {
            var manifest = ModuleManifest();
            if (!File.Exists(manifest)) return Fail($"the MadfLog module was not found at '{manifest}'. Build it with 'dotnet build MadfLog.sln -c Release' or set MADFLOG_MODULE.");

            // Let 'Import-Module MadfLog' work in scripts too.
            var modulesRoot = Path.GetDirectoryName(Path.GetDirectoryName(manifest))!;
            var psModulePath = Environment.GetEnvironmentVariable("PSModulePath");
            Environment.SetEnvironmentVariable("PSModulePath", string.IsNullOrEmpty(psModulePath) ? modulesRoot : modulesRoot + Path.PathSeparator + psModulePath);

            var iss = InitialSessionState.CreateDefault2();
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass; // only meaningful (and allowed) on Windows
            var host = new MadfHost();
            using var runspace = RunspaceFactory.CreateRunspace(host, iss);
            runspace.Open();
            Runspace.DefaultRunspace = runspace;

            using (var import = PowerShell.Create())
            {
                import.Runspace = runspace;
                import.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop");
                try { import.Invoke(); }
                catch (RuntimeException ex) { return Report(host, ex.ErrorRecord, 1); }
            }

            // Output is rendered by Out-Default in a second runspace fed as objects arrive: it still gets its
            // end-of-input (and flushes its tables) when the script stops early with 'exit N'.
            var renderState = InitialSessionState.CreateDefault2();
            var formats = Path.Combine(Path.GetDirectoryName(manifest)!, "MadfLog.format.ps1xml");
            if (File.Exists(formats)) renderState.Formats.Add(new SessionStateFormatEntry(formats));
            using var renderSpace = RunspaceFactory.CreateRunspace(host, renderState);
            renderSpace.Open();

            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; ps.BeginStop(null, null); };
            if (file != null)
            {
                var path = Path.GetFullPath(file);
                if (!File.Exists(path)) return Fail($"the script '{file}' does not exist.");
                ps.AddCommand(path);
                foreach (var a in fileArgs) ps.AddArgument(a);
            }
            else
            {
                ps.AddScript(command!);
            }
            // Errors render in the output like pwsh's console does.
            ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);

            var sawError = false;
            var output = new PSDataCollection<PSObject>();
            output.DataAdded += (s, e) =>
            {
                if (output[e.Index]?.BaseObject is ErrorRecord) sawError = true;
            };
            using var render = PowerShell.Create();
            render.Runspace = renderSpace;
            render.AddCommand("Out-Default");
            var rendering = render.BeginInvoke(output);
            int code;
            try
            {
                ps.Invoke(null, output);
                // silenced errors (-ErrorAction SilentlyContinue) do not fail the run
                code = host.ShouldExit ? host.ExitCode : sawError ? 1 : 0;
                // 'exit N' in a -File script ends the script, not the host: PowerShell leaves N in $LASTEXITCODE.
                if (file != null && !host.ShouldExit && runspace.SessionStateProxy.GetVariable("LASTEXITCODE") is int last && last != 0) code = last;
            }
            catch (RuntimeException ex)
            {
                if (host.ShouldExit) code = host.ExitCode;
                else { output.Add(new PSObject(ex.ErrorRecord)); code = 1; }
            }
            finally
            {
                output.Complete();
            }
            render.EndInvoke(rendering);
            return code;
        }

        private static int Report(MadfHost host, ErrorRecord record, int code)
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            try
            {
                ps.AddCommand("Out-Default").Invoke(new object[] { record });
            }
            catch (Exception)
            {
                Console.Error.WriteLine(record.ToString());
            }
            return code;
        }
    }
}
