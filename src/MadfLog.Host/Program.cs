using System;
using System.IO;
using System.Linq;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;

namespace MadfLog.Host
{
    /// <summary>
    /// madflog: pwsh's own console (Microsoft.PowerShell.SDK's ConsoleShell) with the MadfLog module imported, for machines
    /// without pwsh. Same command line as pwsh (-File script.ps1 -Name value, -Command, -NoProfile, ...), same exit codes,
    /// every module the SDK and pwsh ship, and the interactive prompt when started without a command.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            var manifest = ModuleManifest();
            if (!File.Exists(manifest))
            {
                Console.Error.WriteLine($"madflog: the MadfLog module was not found at '{manifest}'. Build it with 'dotnet build MadfLog.sln -c Release' or set MADFLOG_MODULE.");
                return 64;
            }

            // 'Import-Module MadfLog' works in scripts too, and the modules pwsh ships (copied next to this program at
            // build time) autoload like in pwsh.
            var modulesRoot = Path.GetDirectoryName(Path.GetDirectoryName(manifest))!;
            var bundled = Path.Combine(AppContext.BaseDirectory, "Modules");
            var psModulePath = Environment.GetEnvironmentVariable("PSModulePath");
            Environment.SetEnvironmentVariable("PSModulePath",
                string.Join(Path.PathSeparator.ToString(), new[] { modulesRoot, bundled, psModulePath }.Where(p => !string.IsNullOrEmpty(p))));

            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { manifest });
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.RemoteSigned; // pwsh's default on Windows; not settable elsewhere

            // Plain text when a file or another program reads the output (pwsh would colour table headers there too).
            if (Console.IsOutputRedirected)
                System.Management.Automation.PSStyle.Instance.OutputRendering = System.Management.Automation.OutputRendering.PlainText;

            var banner = $"madflog: PowerShell {System.Management.Automation.PSVersionInfo.PSVersion} with MadfLog ({manifest})";
            return Microsoft.PowerShell.ConsoleShell.Start(iss, banner, Help, args);
        }

        private const string Help = @"madflog [pwsh parameters]

Runs PowerShell with the MadfLog module imported (from ../MadfLog next to this program, or $env:MADFLOG_MODULE).
It takes pwsh's parameters, for example:
    madflog -File script.ps1 -Database ./m.db -Top 3    named and positional script parameters, as in pwsh
    madflog -Command 'Get-MadfErrorSummary -Top 5'
    madflog                                              the interactive prompt
The exit code is pwsh's: the script's 'exit N'; for -File 1 when the script stopped with an error; for -Command
1 when the last command failed; else 0.";

        private static string ModuleManifest()
        {
            var fromEnv = Environment.GetEnvironmentVariable("MADFLOG_MODULE");
            if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv!);
            return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "MadfLog", "MadfLog.psd1"));
        }
    }
}
