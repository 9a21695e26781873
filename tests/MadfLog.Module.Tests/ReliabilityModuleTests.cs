using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>Issue #14 through the cmdlets: repeated events all count, hostile input is reported without stopping the import.</summary>
    [Collection("module")]
    public class ReliabilityModuleTests
    {
        private readonly ModuleFixture _m;
        public ReliabilityModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void RepeatedStepsPipedToWriteMadfEventAllCount()
        {
            using var t = new Temp();
            var r = _m.Run(@"
                1..300 | ForEach-Object { [pscustomobject]@{ EventType = 'step'; Category = 'workflow'; AgentName = 'dev'; StoryId = '1.1'; Success = $true; Timestamp = [DateTimeOffset]'2026-11-20T10:00:00Z' } } |
                    Write-MadfEvent -LogPath $logs
                Import-MadfLog -Path $logs -Database $db
                Import-MadfLog -Path $logs -Database $db",
                new Hashtable { ["logs"] = t.File("logs"), ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            Assert.Equal(300L, r.Output[0].Properties["Imported"].Value);
            Assert.Equal(0L, r.Output[0].Properties["Duplicates"].Value);
            Assert.Equal(0L, r.Output[1].Properties["LinesRead"].Value);
        }

        [Fact]
        public void BadBytesOutOfRangeValuesAndLinkLoopsAreNonTerminatingErrors()
        {
            using var t = new Temp();
            var logs = t.File("logs");
            Directory.CreateDirectory(logs);
            var good = "{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\"}\n";
            var bytes = System.Text.Encoding.UTF8.GetBytes(good + "{\"timestamp\":\"2026-11-20T10:00:01Z\",\"event_type\":\"x\",\"category\":\"y\",\"duration_ms\":\"")
                .Concat(new byte[] { 0xFF }).Concat(System.Text.Encoding.UTF8.GetBytes("1\"}\n{\"timestamp\":\"2026-11-20T10:00:02Z\",\"event_type\":\"x\",\"category\":\"y\",\"tokens_used\":9223372036854775807}\n")).ToArray();
            File.WriteAllBytes(Path.Combine(logs, "a.jsonl"), bytes);
            Directory.CreateSymbolicLink(Path.Combine(logs, "loop"), logs);
            var r = _m.Run("Import-MadfLog -Path $logs -Database $db; Get-MadfQuarantine -Database $db",
                new Hashtable { ["logs"] = logs, ["db"] = t.Db });
            Assert.Equal(1L, r.Output[0].Properties["Imported"].Value);
            Assert.Equal(2L, r.Output[0].Properties["Quarantined"].Value);
            var ids = r.AllErrors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).ToList();
            Assert.Equal(2, ids.Count(i => i == "LineQuarantined"));
            Assert.Contains("FolderLoop", ids);
            var reasons = r.Output.Skip(1).Select(o => (string)o.Properties["Reason"].Value).ToList();
            Assert.Contains(reasons, x => x.Contains("UTF-8"));
            Assert.Contains(reasons, x => x.StartsWith("tokens_used:", StringComparison.Ordinal) && x.Contains("0..1,000,000,000"));
        }
    }
}
