using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using MadfLog.Engine.Scheduling;
using Xunit;

namespace MadfLog.Engine.Tests.Scheduling
{
    public class RevisionJobTests
    {
        private static RevisionJobSpec Spec(string exe = "/usr/bin/pwsh") => new RevisionJobSpec
        {
            Executable = exe, ModuleManifest = "/opt/My Modules/MadfLog/MadfLog.psd1", Database = "/data/it's.db",
        };

        [Fact]
        public void TheJobRunsTheRevisionOnlyWhenDue()
        {
            var s = Spec();
            Assert.Equal("Import-Module '/opt/My Modules/MadfLog/MadfLog.psd1' -ErrorAction Stop; Invoke-MadfRevision -IfDue -Database '/data/it''s.db'", s.Script);
            var host = Spec("/x/out/madflog/madflog");
            Assert.Equal("Invoke-MadfRevision -IfDue -Database '/data/it''s.db'", host.Script); // the host imports its own module
        }

        [Fact]
        public void DefinitionsSayWeeklyOnSundayAt2300AndCatchUpWhereTheSchedulerCan()
        {
            var s = Spec();
            var timer = JobDefinitions.SystemdTimer(s);
            Assert.Contains("OnCalendar=Sun *-*-* 23:00:00", timer);
            Assert.Contains("Persistent=true", timer);
            Assert.Contains("WantedBy=timers.target", timer);
            var service = JobDefinitions.SystemdService(s);
            Assert.Contains("ExecStart=/usr/bin/pwsh -NoProfile -NonInteractive -Command \"Import-Module '/opt/My Modules/MadfLog/MadfLog.psd1'", service);

            Assert.StartsWith("0 23 * * 0 /usr/bin/pwsh -NoProfile -NonInteractive -Command 'Import-Module '\\''/opt/My Modules", JobDefinitions.CronLine(s));
            Assert.EndsWith("# madflog-revision:MadfLogRevision", JobDefinitions.CronLine(s));

            var plist = XDocument.Parse(JobDefinitions.LaunchdPlist(s));
            var interval = plist.Descendants("dict").Last().Elements().Select(e => e.Value).ToArray();
            Assert.Equal(new[] { "Weekday", "0", "Hour", "23", "Minute", "0" }, interval);

            var task = XDocument.Parse(JobDefinitions.TaskSchedulerXml(s).Replace("encoding=\"UTF-16\"", ""));
            XNamespace ns = "http://schemas.microsoft.com/windows/2004/02/mit/task";
            Assert.Equal("true", task.Descendants(ns + "StartWhenAvailable").Single().Value);
            Assert.NotNull(task.Descendants(ns + "Sunday").SingleOrDefault());
            var start = DateTime.Parse(task.Descendants(ns + "StartBoundary").Single().Value);
            Assert.Equal(DayOfWeek.Sunday, start.DayOfWeek);
            Assert.Equal(23, start.Hour);

            var job = JobDefinitions.ScheduledJobRegistration(s);
            Assert.Contains("New-JobTrigger -Weekly -DaysOfWeek Sunday -At '23:00'", job);
            Assert.Contains("Register-ScheduledJob -Name 'MadfLogRevision'", job);
            Assert.Contains("Unregister-ScheduledJob", job); // re-registering replaces
        }

        [Fact]
        public void ASystemdUserTimerIsRegisteredIdempotentlyAndRemoved()
        {
            using var t = TestPaths.NewTemp();
            var scheduler = new RevisionJobScheduler(new SchedulerEnvironment { SystemdUserDirectory = t.File("systemd/user"), Activate = false });
            var info = scheduler.Register(Spec(), SchedulerKind.Systemd);
            Assert.Equal(2, info.Definitions.Count);
            var again = scheduler.Register(new RevisionJobSpec { Executable = "/usr/bin/pwsh", Day = DayOfWeek.Saturday, At = new TimeSpan(22, 30, 0) }, SchedulerKind.Systemd);
            Assert.Equal(2, Directory.GetFiles(t.File("systemd/user")).Length);
            var found = scheduler.Get(RevisionJobSpec.DefaultName, SchedulerKind.Systemd)!;
            Assert.Equal("Sat *-*-* 22:30:00", found.Schedule);
            Assert.True(scheduler.Unregister(RevisionJobSpec.DefaultName, SchedulerKind.Systemd));
            Assert.Empty(Directory.GetFiles(t.File("systemd/user")));
            Assert.Null(scheduler.Get(RevisionJobSpec.DefaultName, SchedulerKind.Systemd));
            Assert.False(scheduler.Unregister(RevisionJobSpec.DefaultName, SchedulerKind.Systemd));
        }

        [Fact]
        public void ACrontabEntryReplacesItselfAndLeavesOtherLinesAlone()
        {
            using var t = TestPaths.NewTemp();
            var crontab = t.File("crontab");
            File.WriteAllText(crontab, "MAILTO=me@example.com\n5 4 * * * /usr/bin/backup\n");
            var scheduler = new RevisionJobScheduler(new SchedulerEnvironment { CrontabFile = crontab, Activate = false });
            scheduler.Register(Spec(), SchedulerKind.Cron);
            scheduler.Register(new RevisionJobSpec { Executable = "/usr/bin/pwsh", At = new TimeSpan(21, 15, 0) }, SchedulerKind.Cron);
            var lines = File.ReadAllLines(crontab);
            Assert.Equal(3, lines.Length);
            Assert.Equal("MAILTO=me@example.com", lines[0]);
            Assert.Equal("5 4 * * * /usr/bin/backup", lines[1]);
            Assert.StartsWith("15 21 * * 0 ", lines[2]);
            Assert.Equal("15 21 * * 0", scheduler.Get(RevisionJobSpec.DefaultName, SchedulerKind.Cron)!.Schedule);
            Assert.True(scheduler.Unregister(RevisionJobSpec.DefaultName, SchedulerKind.Cron));
            Assert.Equal(new[] { "MAILTO=me@example.com", "5 4 * * * /usr/bin/backup" }, File.ReadAllLines(crontab));
        }

        [Fact]
        public void ALaunchdAgentIsWrittenAndRemoved()
        {
            using var t = TestPaths.NewTemp();
            var scheduler = new RevisionJobScheduler(new SchedulerEnvironment { LaunchAgentsDirectory = t.File("LaunchAgents"), Activate = false });
            var info = scheduler.Register(Spec(), SchedulerKind.Launchd);
            Assert.EndsWith("com.madflog.madflogrevision.plist", Assert.Single(info.Definitions));
            Assert.NotNull(scheduler.Get(RevisionJobSpec.DefaultName, SchedulerKind.Launchd));
            Assert.True(scheduler.Unregister(RevisionJobSpec.DefaultName, SchedulerKind.Launchd));
            Assert.Empty(Directory.GetFiles(t.File("LaunchAgents")));
        }

        [Fact]
        public void TheJobRunsTheCurrentPowerShellElsePwshElseTheMadflogHost()
        {
            using var t = TestPaths.NewTemp();
            Assert.Equal("/opt/powershell/pwsh", JobExecutable.Choose("/opt/powershell/pwsh", t.Path));
            Assert.Equal("/x/madflog", JobExecutable.Choose("/x/madflog", t.Path));
            var module = Directory.CreateDirectory(t.File("out/MadfLog")).FullName;
            Directory.CreateDirectory(t.File("out/madflog"));
            File.WriteAllText(t.File("out/madflog/madflog"), "");
            var chosen = JobExecutable.Choose("/usr/bin/dotnet", module);
            var pwshOnPath = SchedulerEnvironment.FindOnPath("pwsh");
            Assert.Equal(pwshOnPath ?? Path.GetFullPath(t.File("out/madflog/madflog")), chosen);
        }
    }
}
