using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security;
using System.Text.RegularExpressions;
using MadfLog.Engine.Config;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Scheduling
{
    /// <summary>Where the jobs are registered.</summary>
    public enum SchedulerKind
    {
        /// <summary>Windows PowerShell 5.1's Register-ScheduledJob (PSScheduledJob does not load in PowerShell 7).</summary>
        ScheduledJob,
        /// <summary>Windows Task Scheduler (schtasks), with StartWhenAvailable so a missed run catches up.</summary>
        TaskScheduler,
        /// <summary>A systemd user timer with Persistent=true (catches up after power-off).</summary>
        Systemd,
        /// <summary>A crontab entry run hourly; -IfDue runs the job once per scheduled occurrence, so a missed one catches up.</summary>
        Cron,
        /// <summary>A launchd agent (catches up after sleep; RunAtLoad with -IfDue catches up after power-off).</summary>
        Launchd,
    }

    /// <summary>The two unattended jobs.</summary>
    public enum MadfJob
    {
        /// <summary>Daily: import the configured log folders, then rotation (close, weekly compression, retention, budget).</summary>
        Maintenance,
        /// <summary>Weekly: Invoke-MadfRevision (import, rules, CLAUDE.md, effectiveness, report).</summary>
        Revision,
    }

    /// <summary>When a job runs: daily at a time, or weekly on a day at a time (local time). Text form: "daily 03:00", "Sun 23:00".</summary>
    public sealed class JobSchedule
    {
        public JobSchedule(TimeSpan at, DayOfWeek? day = null)
        {
            if (at < TimeSpan.Zero || at >= TimeSpan.FromDays(1)) throw new MadfException("ScheduleInvalid", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.ScheduleTimeInvalid, at), at);
            At = new TimeSpan(at.Hours, at.Minutes, 0);
            Day = day;
        }

        public TimeSpan At { get; }
        /// <summary>Null: every day.</summary>
        public DayOfWeek? Day { get; }

        public override string ToString() => (Day == null ? "daily" : Day.Value.ToString().Substring(0, 3)) + " " + At.ToString(@"hh\:mm", CultureInfo.InvariantCulture);

        public static JobSchedule Parse(string text)
        {
            var m = Regex.Match(text ?? "", @"^\s*(daily|sun|mon|tue|wed|thu|fri|sat)\s+(\d{1,2}):(\d{2})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            if (!m.Success) throw new MadfException("ScheduleInvalid", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.ScheduleInvalid, text), text);
            var at = new TimeSpan(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), 0);
            var word = m.Groups[1].Value.ToLowerInvariant();
            DayOfWeek? day = word == "daily" ? (DayOfWeek?)null : Enum.GetValues(typeof(DayOfWeek)).Cast<DayOfWeek>().First(d => d.ToString().StartsWith(word, StringComparison.OrdinalIgnoreCase));
            return new JobSchedule(at, day);
        }

        /// <summary>The latest scheduled time at or before <paramref name="now"/> (local wall-clock time).</summary>
        public DateTime Previous(DateTime now)
        {
            var t = now.Date.Add(At);
            if (t > now) t = t.AddDays(-1);
            if (Day != null) while (t.DayOfWeek != Day.Value) t = t.AddDays(-1);
            return t;
        }

        /// <summary>The first scheduled time after <paramref name="now"/>.</summary>
        public DateTime Next(DateTime now) => Previous(now).AddDays(Day == null ? 1 : 7);

        /// <summary>Due when no run started since the latest scheduled time: a missed run catches up at the next chance, once.</summary>
        public bool IsDue(DateTime? lastRunStarted, DateTime now) => lastRunStarted == null || lastRunStarted.Value < Previous(now);
    }

    /// <summary>One job to register: what to run and when.</summary>
    public sealed class JobSpec
    {
        public const string Prefix = "MadfLog";

        public JobSpec(MadfJob job, string database)
        {
            Job = job;
            Database = Path.GetFullPath(database);
            Schedule = job == MadfJob.Maintenance ? new JobSchedule(new TimeSpan(3, 0, 0)) : new JobSchedule(new TimeSpan(23, 0, 0), DayOfWeek.Sunday);
        }

        public MadfJob Job { get; }
        /// <summary>Always set: schedulers do not inherit the shell's $env:MADFLOG_DB.</summary>
        public string Database { get; }
        /// <summary>The database's own configuration file, named in the command so the job's settings are visible.</summary>
        public string ConfigPath => MadfConfig.PathFor(Database);
        public JobSchedule Schedule { get; set; }
        public string Name => NameOf(Job, Database);
        /// <summary>The program that runs the job: pwsh, or the madflog host where pwsh is missing.</summary>
        public string Executable { get; set; } = "pwsh";
        /// <summary>The module manifest to import (pwsh only; the madflog host imports its own module).</summary>
        public string? ModuleManifest { get; set; }

        /// <summary>A job's name: MadfLogRevision for the default database, MadfLogRevision-team for team.db, so each database has its own jobs.</summary>
        public static string NameOf(MadfJob job, string database) => Prefix + job + StoreLocation.CompanionSuffix(database);

        /// <summary>The PowerShell the job runs. -IfDue makes every trigger safe: the job runs once per scheduled time.</summary>
        public string Script
        {
            get
            {
                var import = ModuleManifest != null && !IsMadflogHost ? "Import-Module " + Quote(ModuleManifest) + " -ErrorAction Stop; " : "";
                return import + $"Invoke-MadfJob -Job {Job} -Database {Quote(Database)} -ConfigPath {Quote(ConfigPath)} -Schedule {Quote(Schedule.ToString())} -IfDue";
            }
        }

        public bool IsMadflogHost => Path.GetFileNameWithoutExtension(Executable).Equals("madflog", StringComparison.OrdinalIgnoreCase);

        /// <summary>The command line arguments after the executable.</summary>
        public string[] Arguments => IsMadflogHost
            ? new[] { "-NoProfile", "-Command", Script }
            : new[] { "-NoProfile", "-NonInteractive", "-Command", Script };

        internal static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
    }

    /// <summary>A registered (or would-be) job, with its last and next run.</summary>
    public sealed class JobInfo
    {
        public string Name { get; set; } = "";
        public MadfJob? Job { get; set; }
        public SchedulerKind Scheduler { get; set; }
        public string Schedule { get; set; } = "";
        public string Command { get; set; } = "";
        public string? Database { get; set; }
        /// <summary>Files written (unit, timer, plist, crontab) or the task name.</summary>
        public List<string> Definitions { get; } = new List<string>();
        public bool Registered { get; set; }
        public DateTime? LastRun { get; set; }
        public string? LastResult { get; set; }
        public DateTime? NextRun { get; set; }
        /// <summary>What activating it said (systemctl, launchctl, schtasks).</summary>
        public string? ActivationNote { get; set; }

        /// <summary>Fills schedule, database, last and next run from the PowerShell command the scheduler runs (its shell quoting removed).</summary>
        public JobInfo Describe(DateTime localNow, string? script = null)
        {
            script ??= Command;
            var sched = Arg(script, "Schedule");
            var db = Arg(script, "Database");
            var job = Regex.Match(script, @"-Job\s+(\w+)");
            if (job.Success && Enum.TryParse<MadfJob>(job.Groups[1].Value, out var j)) Job = j;
            if (db != null) Database = db;
            if (sched != null)
            {
                try
                {
                    var s = JobSchedule.Parse(sched);
                    Schedule = s.ToString();
                    NextRun = s.Next(localNow);
                }
                catch (MadfException) { } // hand-edited: keep what the scheduler says
            }
            if (db != null && Job != null)
            {
                var last = RunLog.Last(db, Job.Value, includeSkipped: false);
                if (last != null) { LastRun = last.Started.LocalDateTime; LastResult = last.Result + (last.Message == null ? "" : ": " + last.Message); }
            }
            return this;
        }

        // A '...'-quoted PowerShell argument (with '' for '), possibly inside shell quoting that doubled or escaped it.
        private static string? Arg(string command, string name)
        {
            var m = Regex.Match(command, "-" + name + @"\s+'((?:[^']|'')*)'");
            return m.Success ? m.Groups[1].Value.Replace("''", "'") : null;
        }
    }

    /// <summary>The text of each scheduler's definition; pure functions so tests can check them on any OS.</summary>
    public static class JobDefinitions
    {
        public static string CommandLine(JobSpec s) => ShellQuote(s.Executable) + " " + string.Join(" ", s.Arguments.Select(ShellQuote));

        private static string Describe(JobSpec s) => s.Job == MadfJob.Maintenance ? "MadfLog daily maintenance (import, rotation)" : "MadfLog weekly revision";

        public static string SystemdService(JobSpec s) =>
$@"[Unit]
Description={Describe(s)} of {s.Database.Replace("%", "%%")}

[Service]
Type=oneshot
ExecStart={SystemdQuote(s.Executable)} {string.Join(" ", s.Arguments.Select(SystemdQuote))}
";

        public static string SystemdTimer(JobSpec s) =>
$@"[Unit]
Description={Describe(s)}, {s.Schedule}

[Timer]
OnCalendar={(s.Schedule.Day == null ? "" : s.Schedule.Day.Value.ToString().Substring(0, 3) + " ")}*-*-* {s.Schedule.At:hh\:mm}:00
Persistent=true

[Install]
WantedBy=timers.target
";

        public const string CronMarker = "# madflog-job:";

        /// <summary>Hourly at the job's minute: cron has no catch-up, so -IfDue decides and a missed run happens within the hour the machine is next on.</summary>
        public static string CronLine(JobSpec s) => $"{s.Schedule.At.Minutes} * * * * {CommandLine(s).Replace("%", "\\%")} {CronMarker}{s.Name}"; // cron reads a bare % as a newline

        public static string LaunchdLabel(string name) => "com.madflog." + name.ToLowerInvariant();

        public static string LaunchdPlist(JobSpec s)
        {
            var args = new[] { s.Executable }.Concat(s.Arguments).Select(a => $"    <string>{SecurityElement.Escape(a)}</string>");
            var day = s.Schedule.Day == null ? "" : $"\n    <key>Weekday</key><integer>{(int)s.Schedule.Day.Value}</integer>";
            return $@"<?xml version=""1.0"" encoding=""UTF-8""?>
<!DOCTYPE plist PUBLIC ""-//Apple//DTD PLIST 1.0//EN"" ""http://www.apple.com/DTDs/PropertyList-1.0.dtd"">
<plist version=""1.0"">
<dict>
  <key>Label</key>
  <string>{LaunchdLabel(s.Name)}</string>
  <key>ProgramArguments</key>
  <array>
{string.Join("\n", args)}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>StartCalendarInterval</key>
  <dict>{day}
    <key>Hour</key><integer>{s.Schedule.At.Hours}</integer>
    <key>Minute</key><integer>{s.Schedule.At.Minutes}</integer>
  </dict>
</dict>
</plist>
";
        }

        public static string TaskSchedulerXml(JobSpec s)
        {
            // A past date anchors the trigger (a Sunday, moved to the job's day); the time of day is what matters.
            var anchor = new DateTime(2024, 1, 7).AddDays(s.Schedule.Day == null ? 0 : (int)s.Schedule.Day.Value).Add(s.Schedule.At);
            var schedule = s.Schedule.Day == null
                ? "<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>"
                : $"<ScheduleByWeek><DaysOfWeek><{s.Schedule.Day} /></DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>";
            return $@"<?xml version=""1.0"" encoding=""UTF-16""?>
<Task version=""1.2"" xmlns=""http://schemas.microsoft.com/windows/2004/02/mit/task"">
  <RegistrationInfo><Description>{SecurityElement.Escape(Describe(s))}, {s.Schedule}</Description></RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{anchor.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)}</StartBoundary>
      <Enabled>true</Enabled>
      {schedule}
    </CalendarTrigger>
  </Triggers>
  <Settings>
    <StartWhenAvailable>true</StartWhenAvailable>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT2H</ExecutionTimeLimit>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
  </Settings>
  <Actions Context=""Author"">
    <Exec>
      <Command>{SecurityElement.Escape(s.Executable)}</Command>
      <Arguments>{SecurityElement.Escape(string.Join(" ", s.Arguments.Select(WindowsQuote)))}</Arguments>
    </Exec>
  </Actions>
</Task>
";
        }

        /// <summary>The Windows PowerShell 5.1 script that registers a scheduled job (run by the cmdlet, which hosts PowerShell).</summary>
        public static string ScheduledJobRegistration(JobSpec s) =>
            (s.Schedule.Day == null
                ? $"$trigger = New-JobTrigger -Daily -At '{s.Schedule.At:hh\\:mm}'\n"
                : $"$trigger = New-JobTrigger -Weekly -DaysOfWeek {s.Schedule.Day} -At '{s.Schedule.At:hh\\:mm}'\n") +
            $"$options = New-ScheduledJobOption -StartIfOnBattery -ContinueIfGoingOnBattery\n" +
            ScheduledJobRemoval(s.Name) + "\n" +
            $"Register-ScheduledJob -Name '{s.Name}' -Trigger $trigger -ScheduledJobOption $options -ScriptBlock ([scriptblock]::Create(\"{s.Script.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$")}\"))";

        /// <summary>The Windows PowerShell 5.1 line that removes a scheduled job if it is there (before registering again, or to unregister).</summary>
        public static string ScheduledJobRemoval(string name) =>
            $"Get-ScheduledJob -Name {JobSpec.Quote(name)} -ErrorAction SilentlyContinue | Unregister-ScheduledJob -Force";

        internal static string ShellQuote(string a) => a.Length > 0 && a.All(ch => char.IsLetterOrDigit(ch) || "-_./=:@%+,".IndexOf(ch) >= 0) ? a : "'" + a.Replace("'", "'\\''") + "'";
        private static string SystemdQuote(string a) => a.Length > 0 && a.All(ch => !char.IsWhiteSpace(ch) && ch != '"' && ch != '\'' && ch != '\\' && ch != '%' && ch != '$' && ch != ';') ? a : "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("%", "%%").Replace("$", "$$") + "\"";
        private static string WindowsQuote(string a) => a.Length > 0 && a.All(ch => !char.IsWhiteSpace(ch) && ch != '"') ? a : "\"" + a.Replace("\"", "\\\"") + "\"";

        /// <summary>The words of a POSIX shell command line ('...', "...", backslash escapes), e.g. a crontab entry's command.</summary>
        public static List<string> ShellWords(string line)
        {
            var words = new List<string>();
            var word = new System.Text.StringBuilder();
            var inWord = false;
            for (var i = 0; i < line.Length; i++)
            {
                var ch = line[i];
                if (ch == '\'' ) { var end = line.IndexOf('\'', i + 1); if (end < 0) end = line.Length; word.Append(line, i + 1, end - i - 1); i = end; inWord = true; }
                else if (ch == '"') { i++; while (i < line.Length && line[i] != '"') { if (line[i] == '\\' && i + 1 < line.Length) i++; word.Append(line[i]); i++; } inWord = true; }
                else if (ch == '\\' && i + 1 < line.Length) { word.Append(line[++i]); inWord = true; }
                else if (char.IsWhiteSpace(ch)) { if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; } }
                else { word.Append(ch); inWord = true; }
            }
            if (inWord) words.Add(word.ToString());
            return words;
        }

        /// <summary>Undoes SystemdQuote on an ExecStart line's arguments (enough to read back what we wrote).</summary>
        internal static string SystemdUnquote(string text) => text.Replace("%%", "%").Replace("$$", "$").Replace("\\\"", "\"").Replace("\\\\", "\\");
    }

    /// <summary>Where definitions are written and which programs exist; tests point these at temp folders.</summary>
    public sealed class SchedulerEnvironment
    {
        public string SystemdUserDirectory { get; set; } = Path.Combine(ConfigHome(), "systemd", "user");
        public string LaunchAgentsDirectory { get; set; } = Path.Combine(Home(), "Library", "LaunchAgents");
        /// <summary>A crontab file to edit instead of the user's crontab (tests); null uses `crontab -l` / `crontab -`.</summary>
        public string? CrontabFile { get; set; }
        /// <summary>Run systemctl/launchctl/schtasks; false only writes definitions.</summary>
        public bool Activate { get; set; } = true;
        /// <summary>Finds a program; tests replace it.</summary>
        public Func<string, string?> Find { get; set; } = FindOnPath;

        private static string Home() => Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        private static string ConfigHome()
        {
            var x = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            return string.IsNullOrWhiteSpace(x) ? Path.Combine(Home(), ".config") : x!;
        }

        public static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        public static bool IsMac => RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        /// <summary>The program a scheduler needs (null: none, e.g. PSScheduledJob lives in Windows PowerShell).</summary>
        public static string? ToolOf(SchedulerKind kind) => kind switch
        {
            SchedulerKind.Systemd => "systemctl",
            SchedulerKind.Cron => "crontab",
            SchedulerKind.Launchd => "launchctl",
            SchedulerKind.TaskScheduler => "schtasks",
            _ => null,
        };

        /// <summary>Whether this scheduler can be used here; when not, why and what to install.</summary>
        public string? Unusable(SchedulerKind kind)
        {
            if (kind == SchedulerKind.Cron && CrontabFile != null) return null;
            if (!Activate && kind != SchedulerKind.Cron) return null;
            var tool = ToolOf(kind);
            if (tool == null || Find(tool) != null) return null;
            return kind switch
            {
                SchedulerKind.Systemd => Messages.SchedulerNoSystemctl,
                SchedulerKind.Cron => Messages.SchedulerNoCrontab,
                SchedulerKind.Launchd => Messages.SchedulerNoLaunchctl,
                _ => Messages.SchedulerNoSchtasks,
            };
        }

        /// <summary>The schedulers worth looking at on this OS (listing asks each one that is usable).</summary>
        public static SchedulerKind[] Candidates(bool desktopEdition) =>
            IsWindows ? (desktopEdition ? new[] { SchedulerKind.TaskScheduler, SchedulerKind.ScheduledJob } : new[] { SchedulerKind.TaskScheduler })
            : IsMac ? new[] { SchedulerKind.Launchd, SchedulerKind.Cron }
            : new[] { SchedulerKind.Systemd, SchedulerKind.Cron };

        public static string? FindOnPath(string name)
        {
            var exts = IsWindows ? new[] { ".exe", ".cmd", "" } : new[] { "" };
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
                foreach (var ext in exts)
                {
                    if (string.IsNullOrWhiteSpace(dir)) continue;
                    var candidate = Path.Combine(dir, name + ext);
                    if (File.Exists(candidate)) return candidate;
                }
            return null;
        }
    }

    public static class JobExecutable
    {
        /// <summary>
        /// What the job runs: the PowerShell running now (pwsh, powershell or the madflog host), else pwsh on PATH,
        /// else the madflog host built beside the module, else plain "pwsh".
        /// </summary>
        public static string Choose(string? currentProcessPath, string moduleFolder)
        {
            var name = currentProcessPath == null ? "" : Path.GetFileNameWithoutExtension(currentProcessPath).ToLowerInvariant();
            if (name == "pwsh" || name == "powershell" || name == "madflog") return currentProcessPath!;
            var pwsh = SchedulerEnvironment.FindOnPath("pwsh");
            if (pwsh != null) return pwsh;
            foreach (var host in new[] { "madflog", "madflog.exe" })
            {
                var candidate = Path.GetFullPath(Path.Combine(moduleFolder, "..", "madflog", host));
                if (File.Exists(candidate)) return candidate;
            }
            return "pwsh";
        }
    }
}
