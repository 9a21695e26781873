using System.Collections;
using System.IO;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class ClaudeCodeModuleTests
    {
        private readonly ModuleFixture _m;
        public ClaudeCodeModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void AClaudeProjectsFolderImportsThroughTheCmdlet()
        {
            using var t = new Temp();
            var projects = Path.Combine(ModuleFixture.Shared, "data", "claude-code", "projects");
            var r = _m.Run("Import-MadfLog -Path $p -Database $db; Import-MadfLog -LiteralPath $p -Database $db -Format ClaudeCode",
                new Hashtable { ["p"] = projects, ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            Assert.Equal(2, r.Output.Count);
            var first = r.Output[0];
            Assert.Equal(3, first.Properties["Files"].Value);
            Assert.Equal(0L, first.Properties["Quarantined"].Value);
            Assert.True((long)first.Properties["Skipped"].Value > 1000); // progress and snapshot records
            Assert.True((long)first.Properties["Imported"].Value > 300);
            Assert.Equal(0L, r.Output[1].Properties["Imported"].Value); // exactly once
        }
    }
}
