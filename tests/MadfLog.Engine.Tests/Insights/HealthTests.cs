using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Insights
{
    public class HealthTests
    {
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 22, 23, 0, 0, TimeSpan.Zero);

        private static void Week(string db, DateTimeOffset start, int events, int errors, long patternId)
        {
            using var c = MadfDatabase.Open(db);
            c.Execute("INSERT OR IGNORE INTO patterns(id, template, token_count, error_class, created) VALUES (@patternId, 'x <*>', 2, 'Timeout', 0)", new { patternId });
            using var tx = c.BeginTransaction();
            var rows = Enumerable.Range(0, events).Select(i => new EventRow
            {
                Timestamp = start.AddMinutes(i).ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "tool",
                Success = i >= errors, PatternId = i < errors ? patternId : (long?)null, DedupKey = start.ToUnixTimeMilliseconds() + i,
            }).ToList();
            ImportStages.Write(c, tx, rows);
            tx.Commit();
        }

        private static HealthCheck Check(HealthReport r, string name) => r.Checks.Single(c => c.Name == name);

        [Fact]
        public void ARisingErrorRateAndANewFrequentPatternAreWarnings()
        {
            using var t = TestPaths.NewTemp();
            Week(t.Db, Now.AddDays(-13), 1000, 50, 1);   // last week: 5%
            Week(t.Db, Now.AddDays(-6), 1000, 70, 2);    // this week: 7% (+40%), all of it a new pattern
            var r = Health.Check(t.Db, Now);
            Assert.Equal(HealthStatus.Critical, Check(r, "ErrorRateTrend").Status); // +40% is twice the 20% threshold
            Assert.Equal(40, Check(r, "ErrorRateTrend").Value);
            Assert.Equal(HealthStatus.Warning, Check(r, "NewFrequentPattern").Status);
            Assert.Contains("P2", Check(r, "NewFrequentPattern").Message);
            Assert.Equal(HealthStatus.Warning, Check(r, "LastImport").Status); // nothing was ever imported
            Assert.Equal(HealthStatus.Critical, r.Status);
        }

        [Fact]
        public void AHealthyLoopIsOK()
        {
            using var t = TestPaths.NewTemp();
            Week(t.Db, Now.AddDays(-13), 1000, 50, 1);
            Week(t.Db, Now.AddDays(-6), 1000, 50, 1);
            File.WriteAllText(t.File("a.jsonl"), "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\"}\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            var r = Health.Check(t.Db, DateTimeOffset.UtcNow.Date > Now.UtcDateTime ? DateTimeOffset.UtcNow : Now);
            Assert.All(r.Checks.Where(c => c.Name != "ErrorRateTrend" && c.Name != "NewFrequentPattern"), c => Assert.Equal(HealthStatus.OK, c.Status));
        }

        [Fact]
        public void QuarantineRateStorageBudgetAndAStoppedLoggerAreChecked()
        {
            using var t = TestPaths.NewTemp();
            var lines = Enumerable.Range(0, 97).Select(i => "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"n\":" + i + "}").Concat(new[] { "bad", "bad2", "bad3" });
            File.WriteAllLines(t.File("a.jsonl"), lines);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            var config = MadfConfig.Load(t.Db);
            config.MaxActiveMB = 1; config.MaxImportAgeDays = 2;
            config.Save();
            var r = Health.Check(t.Db, DateTimeOffset.UtcNow.AddDays(5));
            Assert.Equal(HealthStatus.Critical, Check(r, "QuarantineRate").Status); // 3% > 2 x 1%
            Assert.Equal(3, Check(r, "QuarantineRate").Value);
            Assert.Equal(HealthStatus.Critical, Check(r, "LastImport").Status);    // 5 days > 2 x 2
            Assert.Equal(HealthStatus.OK, Check(r, "ActiveStorage").Status);
            Assert.Contains("Get-MadfQuarantine", Check(r, "QuarantineRate").Message);
        }
    }
}
