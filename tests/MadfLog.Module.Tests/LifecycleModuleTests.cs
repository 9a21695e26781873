using System;
using System.Collections;
using System.IO;
using System.Linq;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class LifecycleModuleTests
    {
        private readonly ModuleFixture _m;
        public LifecycleModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void RotationHonoursWhatIfAndThenClosesImportedLogs()
        {
            using var t = new Temp();
            var logs = t.File("logs");
            var vars = new Hashtable { ["logs"] = logs, ["db"] = t.Db, ["arch"] = t.File("archive") };
            var setup = _m.Run(@"
                Write-MadfEvent -EventType step -Category workflow -Timestamp ([DateTimeOffset]::UtcNow.AddDays(-3)) -LogPath $logs
                Write-MadfEvent -EventType step -Category workflow -LogPath $logs
                Import-MadfLog $logs -Database $db", vars);
            Assert.Empty(setup.AllErrors);

            var whatIf = _m.Run("Invoke-MadfRotation -Database $db -LogPath $logs -ArchivePath $arch -WhatIf", vars);
            Assert.Empty(whatIf.AllErrors);
            Assert.Equal(0, whatIf.Output.Single().Properties["FilesClosed"].Value);
            Assert.Equal(2, Directory.GetFiles(logs).Length);

            var real = _m.Run("Invoke-MadfRotation -Database $db -LogPath $logs -ArchivePath $arch -Confirm:$false", vars);
            Assert.Empty(real.AllErrors);
            Assert.Equal(1, real.Output.Single().Properties["FilesClosed"].Value);
            Assert.Single(Directory.GetFiles(logs)); // today's file stays live

            var storage = _m.Run("Get-MadfStorage -Database $db | Where-Object ActiveEvents -eq 2", vars);
            Assert.Single(storage.Output);
        }

        [Fact]
        public void SetMadfConfigChangesOnlyWhatIsGiven()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["db"] = t.Db };
            var r = _m.Run("Set-MadfConfig -Database $db -RetentionDays 30 -PassThru; Set-MadfConfig -Database $db -MaxActiveMB 50; Get-MadfConfig -Database $db", vars);
            Assert.Empty(r.AllErrors);
            var config = r.Output.Last();
            Assert.Equal(30, config.Properties["RetentionDays"].Value);
            Assert.Equal(50, config.Properties["MaxActiveMB"].Value);
            var bad = _m.Run("Set-MadfConfig -Database $db -RetentionDays 0", vars);
            Assert.Contains(bad.AllErrors, e => e.FullyQualifiedErrorId.StartsWith("ParameterArgumentValidationError", StringComparison.Ordinal));
        }

        [Fact]
        public void ModelPricesAreAddedReplacedAndChecked()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["db"] = t.Db };
            var r = _m.Run(@"
                Set-MadfConfig -Database $db -ModelPrice @{ Model = 'acme-large'; Input = 1; Output = 2; CacheWrite = 0.5; CacheRead = 0.1; AsOf = '2026-11-01' }
                Set-MadfConfig -Database $db -ModelPrice @{ Model = 'acme-large'; Input = '1.5'; Output = 3 }
                (Get-MadfConfig -Database $db).ModelPrices", vars);
            Assert.Empty(r.AllErrors);
            var price = r.Output.Single(); // replaced, not added twice
            Assert.Equal(1.5, price.Properties["Input"].Value);
            Assert.Equal(3.0, price.Properties["Output"].Value);
            foreach (var price2 in new[] { "@{ Input = 1 }", "@{ Model = 'x'; Input = 'cheap' }" })
                Assert.Contains(_m.Run("Set-MadfConfig -Database $db -ModelPrice " + price2, vars).AllErrors, e => e.FullyQualifiedErrorId.StartsWith("ModelPriceInvalid", StringComparison.Ordinal));
        }
    }
}
