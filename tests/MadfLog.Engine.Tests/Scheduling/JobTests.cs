using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using MadfLog.Engine.Config;
using MadfLog.Engine.Scheduling;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Scheduling
{
    public class JobTests
    {
        private static JobSpec Spec(MadfJob job, string exe = "/usr/bin/pwsh", string db = "/data/it's.db") =>
            new JobSpec(job, db) { Executable = exe, ModuleManifest = "/opt/My Modules/MadfLog/MadfLog.psd1" };

        [Fact]
        public void EachJobNamesItsDatabaseConfigAndScheduleAndRunsOnlyWhenDue()
        {
            Assert.Equal("Import-Module '/opt/My Modules/MadfLog/MadfLog.psd1' -ErrorAction Stop; Invoke-MadfJob -Job Maintenance -Database '/data/it''s.db' -ConfigPath '/data/it''s.config.json' -Schedule 'daily 03:00' -IfDue", Spec(MadfJob.Maintenance).Script);
            Assert.Equal("Invoke-MadfJob -Job Revision -Database '/data/it''s.db' -ConfigPath '/data/it''s.config.json' -Schedule 'Sun 23:00' -IfDue", Spec(MadfJob.Revision, "/x/out/madflog/madflog").Script); // the host imports its own module
        }

        [Fact]
        public void SchedulesFindTheirLatestAndNextTimeAndAreDueOncePerTime()
        {
            var weekly = JobSchedule.Parse("Sun 23:00");
            var monday = new DateTime(2026, 11, 30, 10, 0, 0); // a Monday
            Assert.Equal(new DateTime(2026, 11, 29, 23, 0, 0), weekly.Previous(monday));
            Assert.Equal(new DateTime(2026, 12, 6, 23, 0, 0), weekly.Next(monday));
            Assert.True(weekly.IsDue(new DateTime(2026, 11, 25, 12, 0, 0), monday));   // missed Sunday: catches up
            Assert.False(weekly.IsDue(new DateTime(2026, 11, 30, 9, 0, 0), monday));   // caught up already
            var daily = JobSchedule.Parse("daily 03:00");
            Assert.Equal(new DateTime(2026, 11, 30, 3, 0, 0), daily.Previous(monday));
            Assert.Equal(new DateTime(2026, 11, 29, 3, 0, 0), daily.Previous(new DateTime(2026, 11, 30, 2, 59, 0)));
            Assert.True(daily.IsDue(null, monday));
            Assert.Equal("Sun 23:00", weekly.ToString());
            Assert.Throws<MadfException>(() => JobSchedule.Parse("every day"));
        }

        [Fact]
        public void DefinitionsCatchUpOnEveryScheduler()
        {
            var m = Spec(MadfJob.Maintenance);
            var r = Spec(MadfJob.Revision);
            Assert.Contains("OnCalendar=*-*-* 03:00:00", JobDefinitions.SystemdTimer(m));
            Assert.Contains("OnCalendar=Sun *-*-* 23:00:00", JobDefinitions.SystemdTimer(r));
            Assert.Contains("Persistent=true", JobDefinitions.SystemdTimer(m));
            Assert.Contains("ExecStart=/usr/bin/pwsh -NoProfile -NonInteractive -Command \"Import-Module '/opt/My Modules/MadfLog/MadfLog.psd1'", JobDefinitions.SystemdService(r));

            // cron has no catch-up: hourly at the job's minute, and the command's -IfDue runs it once per scheduled time.
            Assert.StartsWith("0 * * * * /usr/bin/pwsh -NoProfile -NonInteractive -Command 'Import-Module '\\''/opt/My Modules", JobDefinitions.CronLine(r));
            Assert.Contains("-IfDue", JobDefinitions.CronLine(r));
            Assert.EndsWith("# madflog-job:MadfLogRevision-it-s", JobDefinitions.CronLine(r)); // named after its database (it's.db), so databases keep their jobs apart
            var percent = JobDefinitions.CronLine(Spec(MadfJob.Revision, db: "/data/100%/m.db"));
            Assert.Contains("/data/100\\%/m.db", percent); // cron turns a bare % into a newline
            Assert.DoesNotMatch(@"[^\\]%", percent);
            // systemd resolves specifiers (%h, %n…) in Description= as in ExecStart=: a literal % is doubled in both.
            var unit = JobDefinitions.SystemdService(Spec(MadfJob.Revision, db: "/data/100%/m.db"));
            Assert.Contains("Description=MadfLog weekly revision of /data/100%%/m.db", unit);
            Assert.DoesNotContain("%", unit.Replace("%%", ""));

            var plist = XDocument.Parse(JobDefinitions.LaunchdPlist(r));
            var dict = plist.Root!.Element("dict")!.Elements().ToList();
            Assert.Equal("true", dict[dict.FindIndex(e => e.Value == "RunAtLoad") + 1].Name.LocalName); // catches up after power-off, guarded by -IfDue
            var interval = plist.Descendants("dict").Last().Elements().Select(e => e.Value).ToArray();
            Assert.Equal(new[] { "Weekday", "0", "Hour", "23", "Minute", "0" }, interval);
            Assert.Equal(new[] { "Hour", "3", "Minute", "0" }, XDocument.Parse(JobDefinitions.LaunchdPlist(m)).Descendants("dict").Last().Elements().Select(e => e.Value).ToArray());
            Assert.Equal(r.Script, plist.Descendants("array").Single().Elements().Last().Value);

            XNamespace ns = "http://schemas.microsoft.com/windows/2004/02/mit/task";
            var task = XDocument.Parse(JobDefinitions.TaskSchedulerXml(r).Replace("encoding=\"UTF-16\"", ""));
            Assert.Equal("true", task.Descendants(ns + "StartWhenAvailable").Single().Value);
            Assert.NotNull(task.Descendants(ns + "Sunday").SingleOrDefault());
            var start = DateTime.Parse(task.Descendants(ns + "StartBoundary").Single().Value);
            Assert.Equal((DayOfWeek.Sunday, 23), (start.DayOfWeek, start.Hour));
            var daily = XDocument.Parse(JobDefinitions.TaskSchedulerXml(m).Replace("encoding=\"UTF-16\"", ""));
            Assert.Equal("1", daily.Descendants(ns + "DaysInterval").Single().Value);
            Assert.Contains("-Database '/data/it''s.db'", daily.Descendants(ns + "Arguments").Single().Value);

            Assert.Contains("New-JobTrigger -Daily -At '03:00'", JobDefinitions.ScheduledJobRegistration(m));
            Assert.Contains("New-JobTrigger -Weekly -DaysOfWeek Sunday -At '23:00'", JobDefinitions.ScheduledJobRegistration(r));
        }

        [Fact]
        public void SystemdUnitsForBothJobsAreRegisteredListedWithTheirRunsAndRemoved()
        {
            using var t = TestPaths.NewTemp();
            var scheduler = new JobScheduler(new SchedulerEnvironment { SystemdUserDirectory = t.File("systemd/user"), Activate = false });
            var specs = new[] { Spec(MadfJob.Maintenance, db: t.Db), Spec(MadfJob.Revision, db: t.Db) };
            scheduler.Register(specs, SchedulerKind.Systemd);
            specs[1].Schedule = new JobSchedule(new TimeSpan(22, 30, 0), DayOfWeek.Saturday);
            scheduler.Register(specs, SchedulerKind.Systemd);
            Assert.Equal(4, Directory.GetFiles(t.File("systemd/user")).Length); // replaced, not duplicated

            RunLog.Append(t.Db, new JobRun { Job = MadfJob.Maintenance, Started = DateTimeOffset.UtcNow.AddHours(-5), Result = "Warning", Message = "1 line(s) quarantined" });
            var listed = scheduler.List(SchedulerKind.Systemd, specs.Select(s => s.Name));
            Assert.Equal(2, listed.Count);
            var revision = listed.Single(j => j.Job == MadfJob.Revision);
            Assert.Equal("Sat 22:30", revision.Schedule);
            Assert.Equal(t.Db, revision.Database);
            Assert.Null(revision.LastRun);
            Assert.Equal(DayOfWeek.Saturday, revision.NextRun!.Value.DayOfWeek);
            var maintenance = listed.Single(j => j.Job == MadfJob.Maintenance);
            Assert.StartsWith("Warning: 1 line(s) quarantined", maintenance.LastResult);
            Assert.StartsWith(specs[0].Executable + " -NoProfile -NonInteractive -Command", maintenance.Command);
            Assert.Contains(specs[0].Script, maintenance.Command);

            Assert.Equal(2, scheduler.Unregister(specs.Select(s => s.Name), SchedulerKind.Systemd).Count);
            Assert.Empty(Directory.GetFiles(t.File("systemd/user")));
            Assert.Empty(scheduler.List(SchedulerKind.Systemd, specs.Select(s => s.Name)));
        }

        [Fact]
        public void CronEntriesReplaceThemselvesAndLeaveOtherLinesAlone()
        {
            using var t = TestPaths.NewTemp();
            var crontab = t.File("crontab");
            File.WriteAllText(crontab, "MAILTO=me@example.com\n5 4 * * * /usr/bin/backup\n0 23 * * 0 pwsh -Command 'Invoke-MadfRevision -IfDue' # madflog-revision:MadfLogRevision\n");
            var scheduler = new JobScheduler(new SchedulerEnvironment { CrontabFile = crontab, Activate = false });
            var specs = new[] { Spec(MadfJob.Maintenance, db: t.Db), Spec(MadfJob.Revision, db: t.Db) };
            scheduler.Register(specs, SchedulerKind.Cron);
            specs[0].Schedule = new JobSchedule(new TimeSpan(2, 15, 0));
            scheduler.Register(specs, SchedulerKind.Cron);
            var lines = File.ReadAllLines(crontab);
            Assert.Equal(4, lines.Length); // the old-style revision line was replaced too
            Assert.Equal(new[] { "MAILTO=me@example.com", "5 4 * * * /usr/bin/backup" }, lines.Take(2));
            var listed = scheduler.List(SchedulerKind.Cron, specs.Select(s => s.Name));
            Assert.Equal("daily 02:15", listed.Single(j => j.Job == MadfJob.Maintenance).Schedule);
            Assert.Equal("Sun 23:00", listed.Single(j => j.Job == MadfJob.Revision).Schedule);
            Assert.Equal(2, scheduler.Unregister(specs.Select(s => s.Name), SchedulerKind.Cron).Count);
            Assert.Equal(new[] { "MAILTO=me@example.com", "5 4 * * * /usr/bin/backup" }, File.ReadAllLines(crontab));
        }

        [Fact]
        public void LaunchdAgentsAreWrittenListedAndRemoved()
        {
            using var t = TestPaths.NewTemp();
            var scheduler = new JobScheduler(new SchedulerEnvironment { LaunchAgentsDirectory = t.File("LaunchAgents"), Activate = false });
            var specs = new[] { Spec(MadfJob.Maintenance, db: t.Db), Spec(MadfJob.Revision, db: t.Db) };
            scheduler.Register(specs, SchedulerKind.Launchd);
            var listed = scheduler.List(SchedulerKind.Launchd, specs.Select(s => s.Name));
            Assert.Equal(new[] { "daily 03:00", "Sun 23:00" }, listed.Select(j => j.Schedule));
            Assert.Equal(2, scheduler.Unregister(specs.Select(s => s.Name), SchedulerKind.Launchd).Count);
            Assert.Empty(Directory.GetFiles(t.File("LaunchAgents")));
        }

        [Fact]
        public void AMissingSchedulerIsAClearErrorForRegisteringAndNothingForListing()
        {
            var scheduler = new JobScheduler(new SchedulerEnvironment { Find = _ => null });
            var ex = Assert.Throws<MadfException>(() => scheduler.Register(new[] { Spec(MadfJob.Maintenance) }, SchedulerKind.Cron));
            Assert.Equal("SchedulerNotFound", ex.ErrorId);
            Assert.Contains("install cron", ex.Message);
            Assert.Contains("systemd", Assert.Throws<MadfException>(() => scheduler.EnsureUsable(SchedulerKind.Systemd)).Message);
            Assert.Empty(scheduler.List(SchedulerKind.Cron, new[] { "MadfLogMaintenance" }));
            Assert.Empty(scheduler.List(SchedulerKind.TaskScheduler, new[] { "MadfLogMaintenance" }));
        }

        [Fact]
        public void EachDatabaseHasItsOwnConfigurationAndSaysWhereValuesComeFrom()
        {
            using var t = TestPaths.NewTemp();
            var a = MadfConfig.Load(t.File("a.db"));
            a.RetentionDays = 30;
            a.Save();
            Assert.Equal(t.File("a.config.json"), a.Path);
            var b = MadfConfig.Load(t.File("b.db"));
            Assert.Equal(90, b.RetentionDays); // not a's
            var again = MadfConfig.Load(t.File("a.db"));
            Assert.Equal(30, again.RetentionDays);
            Assert.Equal(t.File("a.config.json"), again.Sources[nameof(MadfConfig.RetentionDays)]);
            Assert.Equal("default", again.Sources[nameof(MadfConfig.MaxActiveMB)]);

            // Every saved setting survives a save of another one (the list of settings is the class's own properties).
            again.ModelPrices.Add(new MadfLog.Engine.Config.ModelPrice { Model = "m-1", Input = 1, Output = 2 });
            again.Save();
            var third = MadfConfig.Load(t.File("a.db"));
            third.MaxImportAgeDays = 3;
            third.Save();
            Assert.Equal("m-1", Assert.Single(MadfConfig.Load(t.File("a.db")).ModelPrices).Model);
            Assert.Equal(30, MadfConfig.Load(t.File("a.db")).RetentionDays);
        }

        [Fact]
        public void ADatabaseWithoutItsOwnFileReadsTheFoldersOldSharedOneUntilSaved()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File(MadfConfig.FileName), "{ \"retentionDays\": 45 }");
            var team = MadfConfig.Load(t.File("team.db"));
            Assert.Equal(45, team.RetentionDays);
            Assert.Equal(t.File(MadfConfig.FileName), team.Sources[nameof(MadfConfig.RetentionDays)]);
            team.MaxActiveMB = 50;
            team.Save();
            Assert.Equal(t.File("team.config.json"), MadfConfig.Load(t.File("team.db")).Sources[nameof(MadfConfig.RetentionDays)]);
            Assert.Equal(45, MadfConfig.Load(t.File("team.db")).RetentionDays);
            Assert.Equal(100, MadfConfig.Load(t.File("madflog.db")).MaxActiveMB); // the shared file itself is untouched
        }

        [Fact]
        public void TheJobExecutableIsTheCurrentPowerShellElsePwshElseTheMadflogHost()
        {
            using var t = TestPaths.NewTemp();
            Assert.Equal("/opt/powershell/pwsh", JobExecutable.Choose("/opt/powershell/pwsh", t.Path));
            var module = Directory.CreateDirectory(t.File("out/MadfLog")).FullName;
            Directory.CreateDirectory(t.File("out/madflog"));
            File.WriteAllText(t.File("out/madflog/madflog"), "");
            Assert.Equal(SchedulerEnvironment.FindOnPath("pwsh") ?? Path.GetFullPath(t.File("out/madflog/madflog")), JobExecutable.Choose("/usr/bin/dotnet", module));
        }
    }
}
