using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Scheduling;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Scheduling
{
    public class JobRunnerTests
    {
        // The example logs cover 2026-11-02..07 (ISO week 45); "now" is the Monday after, so that week is closed and in the revision's window.
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 9, 12, 0, 0, TimeSpan.Zero);

        private static string CopyExampleLogs(TempFolder t, string badLine = "{\"timestamp\": \"2026-11-07T10:00:00Z\", \"event_type\": ")
        {
            var logs = Directory.CreateDirectory(t.File("logs")).FullName;
            foreach (var f in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "madf-*.jsonl"))
                File.Copy(f, Path.Combine(logs, Path.GetFileName(f)));
            File.AppendAllText(Path.Combine(logs, "madf-2026-11-07.jsonl"), badLine + "\n");
            return logs;
        }

        private static void Configure(string db, string logs, Action<MadfConfig>? more = null)
        {
            var config = MadfConfig.Load(db);
            config.LogPaths = new[] { logs };
            more?.Invoke(config);
            config.Save();
        }

        [Fact]
        public void MaintenanceImportsTheConfiguredLogsRotatesAndRecordsTheRunWithItsQuarantine()
        {
            using var t = TestPaths.NewTemp();
            var logs = CopyExampleLogs(t);
            Configure(t.Db, logs);
            var lines = Directory.GetFiles(logs).Sum(f => File.ReadAllLines(f).Count(l => l.Trim().Length > 0));
            var badLineNumber = File.ReadAllLines(Path.Combine(logs, "madf-2026-11-07.jsonl")).Length;

            var run = JobRunner.Run(new JobRunOptions { Job = MadfJob.Maintenance, DatabasePath = t.Db, ConfigPath = MadfConfig.PathFor(t.Db), Now = Now });

            Assert.Equal(1, run.LinesQuarantined);
            Assert.Contains("madf-2026-11-07.jsonl:" + badLineNumber + ":", Assert.Single(run.Quarantine));
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                Assert.True(run.EventsImported > lines / 2, $"{run.EventsImported} of {lines} lines imported");
                Assert.Equal(run.EventsImported, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
            }
            Assert.Empty(Directory.GetFiles(logs));                     // every earlier day's file was closed after import
            Assert.NotEmpty(Directory.GetFiles(t.File("archive"), "madf-2026-W*.jsonl.gz")); // and closed weeks compressed
            var health = Health.Check(t.Db, Now).Status;
            Assert.Equal(health == HealthStatus.Critical ? "Failed" : "Warning", run.Result); // the quarantined line alone is a warning
            Assert.Equal(health == HealthStatus.Critical ? 1 : 0, run.ExitCode);
            var logged = Assert.Single(RunLog.Read(t.Db));
            Assert.Equal((MadfJob.Maintenance, run.Result, 1L), (logged.Job, logged.Result, logged.LinesQuarantined));
            Assert.Equal(t.File("madflog.runs.jsonl"), RunLog.PathFor(t.Db));
        }

        [Fact]
        public void IfDueRunsOncePerScheduledTimeAndCatchesUpAMissedOne()
        {
            using var t = TestPaths.NewTemp();
            Configure(t.Db, Directory.CreateDirectory(t.File("logs")).FullName);
            var daily = JobSchedule.Parse("daily 03:00");
            JobRun At(DateTime local) => JobRunner.Run(new JobRunOptions { Job = MadfJob.Maintenance, DatabasePath = t.Db, Now = new DateTimeOffset(local), LocalNow = local, IfDue = daily });

            Assert.NotEqual("Skipped", At(new DateTime(2026, 11, 8, 3, 0, 0, DateTimeKind.Local)).Result);
            Assert.Equal("Skipped", At(new DateTime(2026, 11, 8, 9, 0, 0, DateTimeKind.Local)).Result);   // hourly cron: already ran today
            Assert.NotEqual("Skipped", At(new DateTime(2026, 11, 10, 8, 0, 0, DateTimeKind.Local)).Result); // off for two days: one catch-up run
            Assert.Equal("Skipped", At(new DateTime(2026, 11, 10, 9, 0, 0, DateTimeKind.Local)).Result);
            Assert.Equal(2, RunLog.Read(t.Db).Count); // skips are not logged
        }

        [Fact]
        public void ARunRefusesAConfigurationThatIsNotItsDatabases()
        {
            using var t = TestPaths.NewTemp();
            var ex = Assert.Throws<MadfException>(() => JobRunner.Run(new JobRunOptions { Job = MadfJob.Maintenance, DatabasePath = t.Db, ConfigPath = t.File("other.config.json") }));
            Assert.Equal("ConfigNotForDatabase", ex.ErrorId);
            Assert.Empty(RunLog.Read(t.Db));
        }

        [Fact]
        public void TheWeeklyRevisionWritesTheReportAndLeavesRulesProposedWithoutAClaudeMd()
        {
            using var t = TestPaths.NewTemp();
            Configure(t.Db, CopyExampleLogs(t), c => c.AutoApprove = true);
            var run = JobRunner.Run(new JobRunOptions { Job = MadfJob.Revision, DatabasePath = t.Db, Now = Now });
            Assert.True(File.Exists(run.ReportPath), run.Message);
            Assert.Equal(1, run.LinesQuarantined);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var rules = RuleStore.List(c);
            Assert.NotEmpty(rules);
            Assert.All(rules, r => Assert.Equal(RuleStatus.Proposed, r.Status)); // AutoApprove, but no CLAUDE.md to hold them

            // With a CLAUDE.md configured, the same unattended run activates them.
            using var t2 = TestPaths.NewTemp();
            Configure(t2.Db, CopyExampleLogs(t2), cfg => { cfg.AutoApprove = true; cfg.ClaudeMdPath = t2.File("CLAUDE.md"); });
            JobRunner.Run(new JobRunOptions { Job = MadfJob.Revision, DatabasePath = t2.Db, Now = Now });
            using var c2 = MadfDatabase.Open(t2.Db, forWrite: false);
            Assert.All(RuleStore.List(c2), r => Assert.Equal(RuleStatus.Active, r.Status));
            Assert.Contains(RuleStore.List(c2).First().Text, File.ReadAllText(t2.File("CLAUDE.md")));
        }

        [Fact]
        public void CriticalHealthFailsTheRunSoTheSchedulerNotices()
        {
            using var t = TestPaths.NewTemp();
            // The one quarantined line is far more than twice a 0.001 % allowance: Critical.
            Configure(t.Db, CopyExampleLogs(t), c => c.MaxQuarantinePercent = 0.001);
            var run = JobRunner.Run(new JobRunOptions { Job = MadfJob.Maintenance, DatabasePath = t.Db, Now = Now });
            var health = Health.Check(t.Db, Now);
            Assert.Equal(HealthStatus.Critical, health.Status);
            Assert.Equal(("Failed", 1), (run.Result, run.ExitCode));
            Assert.StartsWith("health is Critical", run.Message);
        }
    }
}
