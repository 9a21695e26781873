using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class SchedulingModuleTests
    {
        private readonly ModuleFixture _m;
        public SchedulingModuleTests(ModuleFixture m) { _m = m; }

        private static string ExampleLogs(Temp t)
        {
            var logs = Directory.CreateDirectory(t.File("logs")).FullName;
            foreach (var f in Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), "madf-*.jsonl"))
                File.Copy(f, Path.Combine(logs, Path.GetFileName(f)));
            File.AppendAllText(Path.Combine(logs, "madf-2026-11-07.jsonl"), "{\"timestamp\": \"2026-11-07T10:00:00Z\", \"event_type\": \n");
            return logs;
        }

        [Fact]
        public void UnknownJobsAndTheWrongEditionAreReportedClearly()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var missing = _m.Run("Unregister-MadfJob Revision -Scheduler Systemd -Confirm:$false");
            var e = Assert.Single(missing.Errors);
            Assert.Equal("JobNotFound,MadfLog.Commands.Scheduling.UnregisterMadfJobCommand", e.FullyQualifiedErrorId);
            var wrongEdition = _m.Run("Register-MadfJob -Scheduler ScheduledJob");
            Assert.Contains(wrongEdition.AllErrors, x => x.FullyQualifiedErrorId.StartsWith("ScheduledJobNotAvailable", StringComparison.Ordinal));
            Assert.Empty(s.SystemctlCalls);
        }

        [Fact]
        public void TheRegisteredCommandNamesTheDatabaseEvenWhenItCameFromMADFLOG_DB()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var db = t.File("from-env.db");
            Environment.SetEnvironmentVariable("MADFLOG_DB", db);
            ScriptResult r;
            try { r = _m.Run("Register-MadfRevisionJob -Scheduler Systemd -Confirm:$false"); } // the old name still works
            finally { Environment.SetEnvironmentVariable("MADFLOG_DB", null); }
            Assert.Empty(r.AllErrors);
            // systemd does not inherit the shell's environment: the unit itself must say which database and configuration.
            foreach (var job in new[] { "maintenance", "revision" })
            {
                var service = File.ReadAllText(Path.Combine(s.SystemdUser, $"madflog-madflog{job}-from-env.service")); // jobs are named after their database
                Assert.Contains("-Database '" + db + "'", service);
                Assert.Contains("-ConfigPath '" + t.File("from-env.config.json") + "'", service);
            }
        }

        [Fact]
        public void SystemdRegistrationListsBothJobsAndAFailedSystemctlLeavesNothingBehind()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var vars = new Hashtable { ["db"] = t.Db };
            var r = _m.Run("Register-MadfJob -Database $db -Scheduler Systemd -MaintenanceAt 02:30 -Confirm:$false", vars);
            Assert.Empty(r.AllErrors);
            Assert.Equal(4, Directory.GetFiles(s.SystemdUser).Length);
            Assert.Equal(new[] { "--user daemon-reload", "--user enable --now madflog-madflogmaintenance.timer madflog-madflogrevision.timer" }, s.SystemctlCalls);

            var listed = _m.Run("Get-MadfJob", vars); // no -Scheduler: systemd and cron are both asked
            Assert.Empty(listed.AllErrors);
            var jobs = listed.Output;
            Assert.Equal(new[] { "daily 02:30", "Sun 23:00" }, jobs.Select(j => P(j, "Schedule")));
            Assert.All(jobs, j => Assert.Equal(("Systemd", t.Db), (P(j, "Scheduler"), P(j, "Database"))));
            Assert.All(jobs, j => Assert.True((DateTime)j.Properties["NextRun"].Value > DateTime.Now));

            // A failing 'systemctl enable' rolls back: the previous units come back unchanged, new ones are not left behind.
            var before = Directory.GetFiles(s.SystemdUser).ToDictionary(f => f, File.ReadAllText);
            s.FailSystemctlOn("enable");
            var failed = _m.Run("Register-MadfJob -Database $db -Scheduler Systemd -MaintenanceAt 04:45 -Confirm:$false", vars);
            Assert.Equal("SchedulerFailed", failed.AllErrors.First().FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(before, Directory.GetFiles(s.SystemdUser).ToDictionary(f => f, File.ReadAllText));

            File.Delete(Path.Combine(t.Path, "systemctl.fail"));
            _m.Run("Unregister-MadfJob -Database $db -Scheduler Systemd -Confirm:$false", vars);
            Assert.Empty(Directory.GetFiles(s.SystemdUser));
            Assert.Contains("--user disable --now madflog-madflogrevision.timer", s.SystemctlCalls);

            // First registration failing: nothing at all remains.
            s.FailSystemctlOn("enable");
            _m.Run("Register-MadfJob -Database $db -Scheduler Systemd -Confirm:$false", vars);
            Assert.Empty(Directory.GetFiles(s.SystemdUser));
        }

        [Fact]
        public void WhatIfPrintsTheExactFilesAndCommandsAndAMissingSchedulerNamesWhatToInstall()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var run = ModuleFixture.RunHost(t.Path, "-Command", $"Register-MadfJob -Database '{t.Db}' -Scheduler Systemd -WhatIf");
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("Write " + Path.Combine(s.SystemdUser, "madflog-madflogmaintenance.timer"), run.StdOut);
            Assert.Contains("OnCalendar=Sun *-*-* 23:00:00", run.StdOut);
            Assert.Contains("Run: systemctl --user enable --now madflog-madflogmaintenance.timer madflog-madflogrevision.timer", run.StdOut);
            Assert.False(Directory.Exists(s.SystemdUser) && Directory.GetFiles(s.SystemdUser).Length > 0);
            Assert.Empty(s.SystemctlCalls);

            // No crontab anywhere on PATH: -WhatIf already says what to install; listing still works.
            var empty = Directory.CreateDirectory(t.File("empty-bin")).FullName;
            var path = Environment.GetEnvironmentVariable("PATH");
            Environment.SetEnvironmentVariable("PATH", empty);
            try
            {
                var cron = _m.Run("Register-MadfJob -Scheduler Cron -WhatIf");
                Assert.Equal("SchedulerNotFound", cron.AllErrors.First().FullyQualifiedErrorId.Split(',')[0]);
                Assert.Contains("install cron", cron.AllErrors.First().Exception.Message);
                var listed = _m.Run("Get-MadfJob");
                Assert.Empty(listed.AllErrors);
                Assert.Empty(listed.Output);
            }
            finally { Environment.SetEnvironmentVariable("PATH", path); }
        }

        [Fact]
        public void TheRegisteredCronCommandLinesRunTheDailyAndWeeklyCyclesEndToEnd()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var logs = ExampleLogs(t);
            var vars = new Hashtable { ["db"] = t.Db, ["logs"] = logs };
            var r = _m.Run("Set-MadfConfig -Database $db -LogPath $logs; Register-MadfJob -Database $db -Scheduler Cron -Confirm:$false", vars);
            Assert.Empty(r.AllErrors);
            var entries = File.ReadAllLines(s.CrontabFile);
            Assert.Equal(2, entries.Length);
            Assert.All(entries, e => Assert.StartsWith("0 * * * * ", e)); // hourly; -IfDue picks the scheduled time

            foreach (var entry in entries)
            {
                // Exactly what cron would run: the entry's command, by /bin/sh, without our shell's environment.
                var command = entry.Substring("0 * * * * ".Length, entry.LastIndexOf(" # madflog-job:", StringComparison.Ordinal) - "0 * * * * ".Length);
                var (code, output) = Shell(command, t.Path);
                var job = entry.Contains("Maintenance") ? "Maintenance" : "Revision";
                var health = _m.Run("(Get-MadfHealth -Database $db -WarningAction SilentlyContinue).Status.ToString()", vars).Output.Single().ToString();
                Assert.True((health == "Critical" ? 1 : 0) == code, $"{job}: exit {code}, health {health}\n{output}");
                if (job == "Maintenance") Assert.Contains("1 line(s) quarantined", output); // reported where it was found

                var again = Shell(command, t.Path); // the next hourly trigger: not due, nothing happens
                Assert.Equal(0, again.code);
            }

            var runs = File.ReadAllLines(t.File("madflog.runs.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(new[] { "Maintenance", "Revision" }, runs.Select(x => x.GetProperty("job").GetString()));
            Assert.Equal(1, runs[0].GetProperty("linesQuarantined").GetInt64());
            Assert.True(runs[0].GetProperty("eventsImported").GetInt64() > 5000);
            Assert.True(File.Exists(runs[1].GetProperty("reportPath").GetString()));  // the weekly report
            Assert.Empty(Directory.GetFiles(logs));                             // the daily rotation closed the finished days
            Assert.NotEmpty(Directory.GetFiles(t.File("archive"), "*.jsonl.gz")); // and compressed the closed weeks

            var listed = _m.Run("Get-MadfJob -Scheduler Cron", vars).Output;
            Assert.All(listed, j => Assert.NotNull(j.Properties["LastRun"].Value));
            Assert.Equal(runs.Select(x => x.GetProperty("result").GetString()), listed.Select(j => P(j, "LastResult").Split(':')[0]));
        }

        [Fact]
        public void WriteMadfEventAppendsWhereTheDatabasesJobsImport()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["db"] = t.Db, ["logs"] = t.File("agent-logs") };
            var r = _m.Run("Set-MadfConfig -Database $db -LogPath $logs; Write-MadfEvent -Database $db step info 'hello' -PassThru", vars);
            Assert.Empty(r.AllErrors);
            Assert.Equal(t.File("agent-logs"), ((FileInfo)r.Output.Single().BaseObject).DirectoryName);
        }

        [Fact]
        public void NoRuleBecomesActiveWithoutAClaudeMdAndRevisionSettingsCanBeSaved()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["db"] = t.Db, ["logs"] = ExampleLogs(t), ["md"] = t.File("CLAUDE.md") };
            var first = _m.Run("Set-MadfConfig -Database $db -LogPath $logs; Invoke-MadfRevision -Database $db -Since 2026-11-01", vars);
            // The revision's import reports its quarantined line as Import-MadfLog does: a LineQuarantined error naming it.
            Assert.Contains(first.Errors, e => e.FullyQualifiedErrorId.StartsWith("LineQuarantined", StringComparison.Ordinal) && e.ToString().Contains("madf-2026-11-07.jsonl:"));
            var refused = _m.Run("Get-MadfRule -Database $db -Status Proposed | Approve-MadfRule -Database $db", vars);
            Assert.Equal("ClaudeMdNotConfigured", refused.AllErrors.First().FullyQualifiedErrorId.Split(',')[0]);
            Assert.Empty(_m.Run("Get-MadfRule -Database $db -Status Active", vars).Output);
            var auto = _m.Run("Invoke-MadfRevision -Database $db -NoImport -AutoApprove", vars);
            Assert.Equal("ClaudeMdNotConfigured", auto.AllErrors.First().FullyQualifiedErrorId.Split(',')[0]);

            _m.Run("Invoke-MadfRevision -Database $db -NoImport -Since 2026-11-01 -ClaudeMdPath $md -Threshold 0.05 -Save -WarningAction SilentlyContinue", vars);
            var sources = _m.Run("Get-MadfConfig -Database $db -Source", vars).Output.ToDictionary(o => (string)o.Properties["Name"].Value, o => (string)o.Properties["Source"].Value);
            Assert.Equal(t.File("madflog.config.json"), sources["ClaudeMdPath"]);
            Assert.Equal(t.File("madflog.config.json"), sources["RuleThreshold"]);
            Assert.Equal("default", sources["RetentionDays"]);

            var approved = _m.Run("Get-MadfRule -Database $db -Status Proposed | Approve-MadfRule -Database $db", vars); // the saved CLAUDE.md
            Assert.Empty(approved.AllErrors);
            Assert.NotEmpty(approved.Output);
            Assert.Contains("MadfLog", File.ReadAllText(t.File("CLAUDE.md")));
        }

        private static string P(PSObject o, string name) => o.Properties[name].Value?.ToString() ?? "";

        private static (int code, string output) Shell(string command, string dir)
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            psi.Environment.Remove("MADFLOG_DB");
            psi.Environment.Remove("MADFLOG_LOG_DIR");
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(180_000)) { p.Kill(true); throw new TimeoutException(command); }
            return (p.ExitCode, stdout + stderr.Result);
        }
    }
}
