using System;
using System.IO;
using MadfLog.Engine.Config;
using MadfLog.Engine.Import;
using MadfLog.Engine.Revisions;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Scheduling;
using Xunit;

namespace MadfLog.Engine.Tests.Scheduling
{
    /// <summary>Two databases in one folder keep their archives, reports and scheduled jobs apart (#16).</summary>
    public class CompanionFileTests
    {
        [Fact]
        public void TwoDatabasesInOneFolderShareNoArchiveReportOrJob()
        {
            using var t = TestPaths.NewTemp();
            var main = t.File("madflog.db");
            var team = t.File("team.db");

            // The default database keeps the names it always had.
            Assert.Equal(Path.Combine(t.Path, "archive"), MadfConfig.Load(main).ResolvedArchivePath);
            Assert.Equal("MadfLogRevision", JobSpec.NameOf(MadfJob.Revision, main));
            Assert.Equal(Path.Combine(t.Path, "archive-team"), MadfConfig.Load(team).ResolvedArchivePath);
            Assert.Equal("MadfLogRevision-team", JobSpec.NameOf(MadfJob.Revision, team));
            Assert.Equal("MadfLogMaintenance-team", new JobSpec(MadfJob.Maintenance, team).Name);

            var logs = Path.Combine(TestPaths.RepoRoot, "examples", "logs");
            var since = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            string? mainReport = null, teamReport = null;
            foreach (var db in new[] { main, team })
            {
                new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { logs });
                var r = new Revision(new RevisionOptions { DatabasePath = db, Since = since, Import = false }).Run();
                if (db == main) mainReport = r.ReportPath; else teamReport = r.ReportPath;
            }
            Assert.NotNull(mainReport);
            Assert.NotNull(teamReport);
            Assert.NotEqual(mainReport, teamReport);
            Assert.StartsWith("revision-2", Path.GetFileName(mainReport));
            Assert.StartsWith("revision-team-", Path.GetFileName(teamReport));
            Assert.True(File.Exists(mainReport) && File.Exists(teamReport));
        }
    }
}
