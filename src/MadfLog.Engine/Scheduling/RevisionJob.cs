using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Scheduling
{
    /// <summary>Where the weekly revision job is registered.</summary>
    public enum SchedulerKind
    {
        /// <summary>Windows PowerShell 5.1's Register-ScheduledJob (PSScheduledJob does not load in PowerShell 7).</summary>
        ScheduledJob,
        /// <summary>Windows Task Scheduler (schtasks), with StartWhenAvailable so a missed run catches up.</summary>
        TaskScheduler,
        /// <summary>A systemd user timer with Persistent=true (catches up after power-off).</summary>
        Systemd,
        /// <summary>A crontab entry (no catch-up; -IfDue keeps reruns harmless).</summary>
        Cron,
        /// <summary>A launchd agent (catches up after sleep, not after power-off).</summary>
        Launchd,
    }

    /// <summary>What to run and when.</summary>
    public sealed class RevisionJobSpec
    {
        public const string DefaultName = "MadfLogRevision";
        public string Name { get; set; } = DefaultName;
        public DayOfWeek Day { get; set; } = DayOfWeek.Sunday;
        public TimeSpan At { get; set; } = new TimeSpan(23, 0, 0);
        /// <summary>The program that runs the revision: pwsh, or the madflog host where pwsh is missing.</summary>
        public string Executable { get; set; } = "pwsh";
        /// <summary>The module manifest to import (pwsh only; the madflog host imports its own module).</summary>
        public string? ModuleManifest { get; set; }
        public string? Database { get; set; }

        /// <summary>The PowerShell the job runs.</summary>
        public string Script
        {
            get
            {
                var db = Database == null ? "" : " -Database " + Quote(Database);
                var import = ModuleManifest != null && !IsMadflogHost ? "Import-Module " + Quote(ModuleManifest) + " -ErrorAction Stop; " : "";
                return import + "Invoke-MadfRevision -IfDue" + db;
            }
        }

        public bool IsMadflogHost => Path.GetFileNameWithoutExtension(Executable).Equals("madflog", StringComparison.OrdinalIgnoreCase);

        /// <summary>The command line arguments after the executable.</summary>
        public string[] Arguments => IsMadflogHost
            ? new[] { "-NoProfile", "-Command", Script }
            : new[] { "-NoProfile", "-NonInteractive", "-Command", Script };

        public string Schedule => $"{Day.ToString().Substring(0, 3)} {At:hh\\:mm}";

        private static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
    }

    /// <summary>A registered (or would-be) revision job.</summary>
    public sealed class RevisionJobInfo
    {
        public string Name { get; set; } = "";
        public SchedulerKind Scheduler { get; set; }
        public string Schedule { get; set; } = "";
        public string Command { get; set; } = "";
        /// <summary>Files written (unit, timer, plist, crontab) or the task name.</summary>
        public List<string> Definitions { get; } = new List<string>();
        public bool Registered { get; set; }
        /// <summary>What activating it said (systemctl, launchctl, schtasks), or why it was not activated.</summary>
        public string? ActivationNote { get; set; }
    }

    /// <summary>The text of each scheduler's definition; pure functions so tests can check them on any OS.</summary>
    public static class JobDefinitions
    {
        public static string CommandLine(RevisionJobSpec s) => ShellQuote(s.Executable) + " " + string.Join(" ", s.Arguments.Select(ShellQuote));

        public static string SystemdService(RevisionJobSpec s) =>
$@"[Unit]
Description=MadfLog weekly revision ({s.Name})

[Service]
Type=oneshot
ExecStart={SystemdQuote(s.Executable)} {string.Join(" ", s.Arguments.Select(SystemdQuote))}
";

        public static string SystemdTimer(RevisionJobSpec s) =>
$@"[Unit]
Description=MadfLog weekly revision ({s.Name}), {s.Schedule}

[Timer]
OnCalendar={s.Day.ToString().Substring(0, 3)} *-*-* {s.At:hh\:mm}:00
Persistent=true

[Install]
WantedBy=timers.target
";

        public const string CronMarker = "# madflog-revision:";

        public static string CronLine(RevisionJobSpec s) =>
            $"{s.At.Minutes} {s.At.Hours} * * {(int)s.Day} {CommandLine(s)} {CronMarker}{s.Name}";

        public static string LaunchdLabel(RevisionJobSpec s) => "com.madflog." + s.Name.ToLowerInvariant();

        public static string LaunchdPlist(RevisionJobSpec s)
        {
            var args = new[] { s.Executable }.Concat(s.Arguments).Select(a => $"    <string>{SecurityElement.Escape(a)}</string>");
            return $@"<?xml version=""1.0"" encoding=""UTF-8""?>
<!DOCTYPE plist PUBLIC ""-//Apple//DTD PLIST 1.0//EN"" ""http://www.apple.com/DTDs/PropertyList-1.0.dtd"">
<plist version=""1.0"">
<dict>
  <key>Label</key>
  <string>{LaunchdLabel(s)}</string>
  <key>ProgramArguments</key>
  <array>
{string.Join("\n", args)}
  </array>
  <key>StartCalendarInterval</key>
  <dict>
    <key>Weekday</key><integer>{(int)s.Day}</integer>
    <key>Hour</key><integer>{s.At.Hours}</integer>
    <key>Minute</key><integer>{s.At.Minutes}</integer>
  </dict>
</dict>
</plist>
";
        }

        public static string TaskSchedulerXml(RevisionJobSpec s)
        {
            // Any Sunday in the past anchors the weekly trigger; the time of day is what matters.
            var anchor = new DateTime(2024, 1, 7).AddDays(((int)s.Day + 7) % 7).Add(s.At);
            return $@"<?xml version=""1.0"" encoding=""UTF-16""?>
<Task version=""1.2"" xmlns=""http://schemas.microsoft.com/windows/2004/02/mit/task"">
  <RegistrationInfo><Description>MadfLog weekly revision ({SecurityElement.Escape(s.Name)}), {s.Schedule}</Description></RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{anchor.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)}</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByWeek><DaysOfWeek><{s.Day} /></DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>
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
        public static string ScheduledJobRegistration(RevisionJobSpec s) =>
            $"$trigger = New-JobTrigger -Weekly -DaysOfWeek {s.Day} -At '{s.At:hh\\:mm}'\n" +
            $"$options = New-ScheduledJobOption -StartIfOnBattery -ContinueIfGoingOnBattery\n" +
            $"Get-ScheduledJob -Name '{s.Name}' -ErrorAction SilentlyContinue | Unregister-ScheduledJob -Force\n" +
            $"Register-ScheduledJob -Name '{s.Name}' -Trigger $trigger -ScheduledJobOption $options -ScriptBlock ([scriptblock]::Create(\"{s.Script.Replace("\"", "`\"").Replace("$", "`$")}\"))";

        private static string ShellQuote(string a) => a.Length > 0 && a.All(ch => char.IsLetterOrDigit(ch) || "-_./=:@%+,".IndexOf(ch) >= 0) ? a : "'" + a.Replace("'", "'\\''") + "'";
        private static string SystemdQuote(string a) => a.Length > 0 && a.All(ch => !char.IsWhiteSpace(ch) && ch != '"' && ch != '\'' && ch != '\\' && ch != '%' && ch != '$' && ch != ';') ? a : "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("%", "%%").Replace("$", "$$") + "\"";
        private static string WindowsQuote(string a) => a.Length > 0 && a.All(ch => !char.IsWhiteSpace(ch) && ch != '"') ? a : "\"" + a.Replace("\"", "\\\"") + "\"";
    }

    /// <summary>Where definitions are written and whether the system's scheduler is told; tests point these at temp folders.</summary>
    public sealed class SchedulerEnvironment
    {
        public string SystemdUserDirectory { get; set; } = Path.Combine(ConfigHome(), "systemd", "user");
        public string LaunchAgentsDirectory { get; set; } = Path.Combine(Home(), "Library", "LaunchAgents");
        /// <summary>A crontab file to edit instead of the user's crontab (tests); null uses `crontab -l` / `crontab -`.</summary>
        public string? CrontabFile { get; set; }
        /// <summary>Run systemctl/launchctl/schtasks/crontab; false only writes definitions.</summary>
        public bool Activate { get; set; } = true;

        private static string Home() => Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        private static string ConfigHome()
        {
            var x = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            return string.IsNullOrWhiteSpace(x) ? Path.Combine(Home(), ".config") : x!;
        }

        public static bool HasSystemd() =>
            Directory.Exists("/run/systemd/system") && FindOnPath("systemctl") != null;

        public static string? FindOnPath(string name)
        {
            var exts = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? new[] { ".exe", ".cmd", "" } : new[] { "" };
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

    /// <summary>Registers, finds and removes the weekly revision job for the file-based schedulers and Task Scheduler.</summary>
    public sealed class RevisionJobScheduler
    {
        private readonly SchedulerEnvironment _env;
        public RevisionJobScheduler(SchedulerEnvironment env) { _env = env; }

        /// <summary>The scheduler this machine would use, given whether PowerShell is Windows PowerShell (Desktop).</summary>
        public static SchedulerKind Default(bool desktopEdition)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return desktopEdition ? SchedulerKind.ScheduledJob : SchedulerKind.TaskScheduler;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) return SchedulerKind.Launchd;
            return SchedulerEnvironment.HasSystemd() ? SchedulerKind.Systemd : SchedulerKind.Cron;
        }

        /// <summary>Registers (or replaces) the job; idempotent.</summary>
        public RevisionJobInfo Register(RevisionJobSpec spec, SchedulerKind kind)
        {
            var info = new RevisionJobInfo { Name = spec.Name, Scheduler = kind, Schedule = spec.Schedule, Command = JobDefinitions.CommandLine(spec), Registered = true };
            switch (kind)
            {
                case SchedulerKind.Systemd:
                    Directory.CreateDirectory(_env.SystemdUserDirectory);
                    var (service, timer) = SystemdFiles(spec.Name);
                    WriteIfChanged(service, JobDefinitions.SystemdService(spec));
                    WriteIfChanged(timer, JobDefinitions.SystemdTimer(spec));
                    info.Definitions.Add(service); info.Definitions.Add(timer);
                    if (_env.Activate)
                        info.ActivationNote = Run("systemctl", "--user", "daemon-reload") + Run("systemctl", "--user", "enable", "--now", Path.GetFileName(timer))
                                              + " (run 'loginctl enable-linger' so it also runs when you are not logged in)";
                    break;
                case SchedulerKind.Cron:
                    var lines = ReadCrontab().Where(l => !IsOurCronLine(l, spec.Name)).ToList();
                    lines.Add(JobDefinitions.CronLine(spec));
                    WriteCrontab(lines);
                    info.Definitions.Add(_env.CrontabFile ?? "crontab");
                    break;
                case SchedulerKind.Launchd:
                    Directory.CreateDirectory(_env.LaunchAgentsDirectory);
                    var plist = PlistFile(spec);
                    WriteIfChanged(plist, JobDefinitions.LaunchdPlist(spec));
                    info.Definitions.Add(plist);
                    if (_env.Activate) info.ActivationNote = Run("launchctl", "unload", plist) + Run("launchctl", "load", "-w", plist);
                    break;
                case SchedulerKind.TaskScheduler:
                    var xml = Path.Combine(Path.GetTempPath(), spec.Name + ".task.xml");
                    File.WriteAllText(xml, JobDefinitions.TaskSchedulerXml(spec), Encoding.Unicode);
                    try { info.ActivationNote = Run("schtasks", "/Create", "/TN", "MadfLog\\" + spec.Name, "/XML", xml, "/F"); }
                    finally { File.Delete(xml); }
                    info.Definitions.Add("MadfLog\\" + spec.Name);
                    break;
                default:
                    throw new MadfException("SchedulerNotHere", MadfErrorKind.InvalidArgument, $"{kind} jobs are registered by the cmdlet in Windows PowerShell, not by the engine.", kind);
            }
            return info;
        }

        /// <summary>The registered job, or null.</summary>
        public RevisionJobInfo? Get(string name, SchedulerKind kind)
        {
            var info = new RevisionJobInfo { Name = name, Scheduler = kind, Registered = true };
            switch (kind)
            {
                case SchedulerKind.Systemd:
                    var (service, timer) = SystemdFiles(name);
                    if (!File.Exists(timer)) return null;
                    info.Definitions.Add(service); info.Definitions.Add(timer);
                    var cal = File.ReadAllLines(timer).FirstOrDefault(l => l.StartsWith("OnCalendar="));
                    info.Schedule = cal?.Substring("OnCalendar=".Length) ?? "";
                    info.Command = File.Exists(service) ? File.ReadAllLines(service).FirstOrDefault(l => l.StartsWith("ExecStart="))?.Substring("ExecStart=".Length) ?? "" : "";
                    return info;
                case SchedulerKind.Cron:
                    var line = ReadCrontab().FirstOrDefault(l => IsOurCronLine(l, name));
                    if (line == null) return null;
                    info.Definitions.Add(_env.CrontabFile ?? "crontab");
                    var fields = line.Split(new[] { ' ' }, 6);
                    info.Schedule = string.Join(" ", fields.Take(5));
                    info.Command = fields.Length > 5 ? fields[5].Substring(0, fields[5].LastIndexOf(JobDefinitions.CronMarker, StringComparison.Ordinal)).TrimEnd() : "";
                    return info;
                case SchedulerKind.Launchd:
                    var plist = PlistFile(new RevisionJobSpec { Name = name });
                    if (!File.Exists(plist)) return null;
                    info.Definitions.Add(plist);
                    return info;
                case SchedulerKind.TaskScheduler:
                    var output = Run("schtasks", "/Query", "/TN", "MadfLog\\" + name, "/FO", "LIST");
                    if (output.IndexOf(name, StringComparison.OrdinalIgnoreCase) < 0) return null;
                    info.Definitions.Add("MadfLog\\" + name);
                    info.ActivationNote = output;
                    return info;
                default:
                    return null;
            }
        }

        /// <summary>Removes the job; returns false when there was none.</summary>
        public bool Unregister(string name, SchedulerKind kind)
        {
            if (Get(name, kind) == null) return false;
            switch (kind)
            {
                case SchedulerKind.Systemd:
                    var (service, timer) = SystemdFiles(name);
                    if (_env.Activate) Run("systemctl", "--user", "disable", "--now", Path.GetFileName(timer));
                    File.Delete(timer); File.Delete(service);
                    if (_env.Activate) Run("systemctl", "--user", "daemon-reload");
                    return true;
                case SchedulerKind.Cron:
                    WriteCrontab(ReadCrontab().Where(l => !IsOurCronLine(l, name)).ToList());
                    return true;
                case SchedulerKind.Launchd:
                    var plist = PlistFile(new RevisionJobSpec { Name = name });
                    if (_env.Activate) Run("launchctl", "unload", "-w", plist);
                    File.Delete(plist);
                    return true;
                case SchedulerKind.TaskScheduler:
                    Run("schtasks", "/Delete", "/TN", "MadfLog\\" + name, "/F");
                    return true;
                default:
                    return false;
            }
        }

        private (string service, string timer) SystemdFiles(string name)
        {
            var unit = "madflog-" + name.ToLowerInvariant();
            return (Path.Combine(_env.SystemdUserDirectory, unit + ".service"), Path.Combine(_env.SystemdUserDirectory, unit + ".timer"));
        }

        private string PlistFile(RevisionJobSpec s) => Path.Combine(_env.LaunchAgentsDirectory, JobDefinitions.LaunchdLabel(s) + ".plist");

        private static bool IsOurCronLine(string line, string name) => line.TrimEnd().EndsWith(JobDefinitions.CronMarker + name, StringComparison.Ordinal);

        private List<string> ReadCrontab()
        {
            if (_env.CrontabFile != null) return File.Exists(_env.CrontabFile) ? File.ReadAllLines(_env.CrontabFile).ToList() : new List<string>();
            var (code, output) = Exec("crontab", null, "-l");
            return code == 0 ? output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList() : new List<string>(); // "no crontab for user" exits 1
        }

        private void WriteCrontab(List<string> lines)
        {
            var text = string.Join("\n", lines) + (lines.Count > 0 ? "\n" : "");
            if (_env.CrontabFile != null) { WriteIfChanged(_env.CrontabFile, text); return; }
            var (code, output) = Exec("crontab", text, "-");
            if (code != 0) throw new MadfException("SchedulerFailed", MadfErrorKind.Io, "crontab refused the new table: " + output.Trim(), "crontab");
        }

        private static void WriteIfChanged(string path, string text)
        {
            if (File.Exists(path) && File.ReadAllText(path) == text) return;
            var temp = path + ".tmp";
            File.WriteAllText(temp, text, new UTF8Encoding(false));
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        private static string Run(string exe, params string[] args)
        {
            var (code, output) = Exec(exe, null, args);
            if (code != 0) throw new MadfException("SchedulerFailed", MadfErrorKind.Io, $"{exe} {string.Join(" ", args)} failed ({code}): {output.Trim()}", exe);
            return output.Trim();
        }

        private static (int code, string output) Exec(string exe, string? input, params string[] args)
        {
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input != null, UseShellExecute = false,
                Arguments = string.Join(" ", args.Select(a => a.Length > 0 && !a.Any(char.IsWhiteSpace) && !a.Contains("\"") ? a : "\"" + a.Replace("\"", "\\\"") + "\"")),
            };
            try
            {
                using var p = Process.Start(psi)!;
                if (input != null) { p.StandardInput.Write(input); p.StandardInput.Close(); }
                var stdout = p.StandardOutput.ReadToEnd();
                var stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                return (p.ExitCode, stdout + stderr);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new MadfException("SchedulerNotFound", MadfErrorKind.NotFound, $"'{exe}' is not available on this machine: {ex.Message}", exe, ex);
            }
        }
    }
}

namespace MadfLog.Engine.Scheduling
{
    public static class JobExecutable
    {
        /// <summary>
        /// What the job runs: the PowerShell running now (pwsh, powershell or the madflog host), else pwsh on PATH,
        /// else the madflog host built beside the module, else plain "pwsh".
        /// </summary>
        public static string Choose(string? currentProcessPath, string moduleFolder)
        {
            var name = currentProcessPath == null ? "" : System.IO.Path.GetFileNameWithoutExtension(currentProcessPath).ToLowerInvariant();
            if (name == "pwsh" || name == "powershell" || name == "madflog") return currentProcessPath!;
            var pwsh = SchedulerEnvironment.FindOnPath("pwsh");
            if (pwsh != null) return pwsh;
            foreach (var host in new[] { "madflog", "madflog.exe" })
            {
                var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(moduleFolder, "..", "madflog", host));
                if (System.IO.File.Exists(candidate)) return candidate;
            }
            return "pwsh";
        }
    }
}
