using System.Collections;
using System.Linq;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class CompleterModuleTests
    {
        private readonly ModuleFixture _m;
        public CompleterModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void ARelativeDatabaseIsFoundFromPowerShellsLocationNotTheProcessFolder()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["logs"] = System.IO.Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["dir"] = t.Path };
            var r = _m.Run(@"
                Import-MadfLog $logs -Database ([IO.Path]::Combine($dir, 'rel.db')) | Out-Null
                $before = $ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath
                $ExecutionContext.SessionState.Path.SetLocation($dir) | Out-Null
                try {
                    $line = 'Get-MadfErrorSummary -Database ./rel.db -Story '
                    (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object { $_.CompletionText }
                } finally { $ExecutionContext.SessionState.Path.SetLocation($before) | Out-Null }", vars);
            Assert.Empty(r.AllErrors.Select(e => e.ToString()));
            var stories = r.Output.Select(o => o.BaseObject.ToString()).ToList();
            Assert.Contains("1.1", stories);
            Assert.Contains("1.2", stories);
        }
    }
}
