using System.IO;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>The madflog host is pwsh (Microsoft.PowerShell.SDK's console) with MadfLog imported: same command line, same modules.</summary>
    public class HostTests
    {
        [Fact]
        public void FileBindsNamedAndPositionalScriptParametersLikePwsh()
        {
            using var t = new Temp();
            File.WriteAllText(t.File("s.ps1"), "param([string] $Database, [int] $N = 1, [switch] $Quiet, $Rest)\n\"db=$Database n=$N quiet=$Quiet rest=$Rest\"\n");
            var named = ModuleFixture.RunHost(t.Path, "-NoProfile", "-File", "s.ps1", "-Database", "p", "-N", "3", "-Quiet", "last");
            Assert.Equal(0, named.ExitCode);
            Assert.Contains("db=p n=3 quiet=True rest=last", named.StdOut);
            Assert.False(File.Exists(t.File("-Database")));

            var positional = ModuleFixture.RunHost(t.Path, "-NoProfile", "-File", "s.ps1", "q", "5");
            Assert.Contains("db=q n=5 quiet=False rest=", positional.StdOut);
        }

        [Fact]
        public void ItRunsPowerShellPrecompiled()
        {
            // The SDK's package has PowerShell as IL only; the build precompiles what a session loads (MadfLog.Host.csproj).
            using var t = new Temp();
            var r = ModuleFixture.RunHost(t.Path, "-NoProfile", "-Command",
                "[System.Management.Automation.PSObject].Assembly.Location; [Microsoft.PowerShell.ConsoleShell].Assembly.Location");
            Assert.True(r.ExitCode == 0, r.StdErr);
            var loaded = r.StdOut.Trim().Replace("\r", "").Split('\n');
            Assert.Equal(2, loaded.Length);
            foreach (var path in loaded)
            {
                using var file = File.OpenRead(path);
                using var pe = new System.Reflection.PortableExecutable.PEReader(file);
                Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, path + " has no ReadyToRun code");
            }
        }

        [Fact]
        public void EveryModulePwshShipsIsThere()
        {
            using var t = new Temp();
            var r = ModuleFixture.RunHost(t.Path, "-NoProfile", "-Command",
                "(Get-Date -Year 2001).Year; @(1, 2, 3) | Measure-Object -Sum | Select-Object -ExpandProperty Sum; " +
                "[pscustomobject]@{ a = 1 } | ConvertTo-Json -Compress; 'x' | Set-Content ./f.txt; Compress-Archive ./f.txt ./f.zip; (Get-ChildItem ./f.zip).Name; " +
                "(Get-Command Start-ThreadJob).Source; (Get-Command Import-MadfLog).Source");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Equal(new[] { "2001", "6", "{\"a\":1}", "f.zip", "Microsoft.PowerShell.ThreadJob", "MadfLog" },
                r.StdOut.Trim().Replace("\r", "").Split('\n'));
        }

        [Fact]
        public void WithoutACommandItReadsCommandsFromInputLikePwshsConsole()
        {
            using var t = new Temp();
            var r = ModuleFixture.RunHostWithInput(t.Path, "(Get-Command Get-MadfErrorSummary).Name\nexit 3\n", "-NoProfile");
            Assert.Equal(3, r.ExitCode);
            Assert.Contains("Get-MadfErrorSummary", r.StdOut);
        }

        [Fact]
        public void ExitCodesAreThoseOfPwsh()
        {
            using var t = new Temp();
            File.WriteAllText(t.File("stop.ps1"), "$ErrorActionPreference = 'Stop'; Get-Item ./missing\n'not reached'");
            var stopped = ModuleFixture.RunHost(t.Path, "-NoProfile", "-File", "stop.ps1");
            Assert.Equal(1, stopped.ExitCode);
            Assert.DoesNotContain("not reached", stopped.StdOut);
            Assert.Equal(0, ModuleFixture.RunHost(t.Path, "-NoProfile", "-Command", "Get-Item ./missing -ErrorAction SilentlyContinue; 'ok'").ExitCode);
        }
    }
}
