using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Scheduling
{
    /// <summary>What registering or removing would do: files written (null content: deleted), the crontab, and commands run.</summary>
    public sealed class JobPlan
    {
        public SchedulerKind Scheduler { get; set; }
        public List<KeyValuePair<string, string?>> Files { get; } = new List<KeyValuePair<string, string?>>();
        /// <summary>The whole new crontab (cron only).</summary>
        public string? Crontab { get; set; }
        public List<string[]> Commands { get; } = new List<string[]>();

        /// <summary>The exact files and commands, for -WhatIf.</summary>
        public override string ToString()
        {
            var sb = new StringBuilder();
            foreach (var f in Files)
                sb.Append(f.Value == null ? $"Delete {f.Key}\n" : $"Write {f.Key}:\n{f.Value.TrimEnd('\n')}\n");
            if (Crontab != null) sb.Append(Messages.SchedulerReplaceCrontab + "\n" + Crontab.TrimEnd('\n') + "\n");
            foreach (var c in Commands) sb.Append("Run: " + string.Join(" ", c.Select(JobDefinitions.ShellQuote)) + "\n");
            return sb.ToString().TrimEnd('\n');
        }
    }

    /// <summary>Registers, lists and removes the MadfLog jobs on systemd, cron, launchd and Task Scheduler; registration is all-or-nothing.</summary>
    public sealed class JobScheduler
    {
        private readonly SchedulerEnvironment _env;
        public JobScheduler(SchedulerEnvironment env) { _env = env; }

        /// <summary>The scheduler to use here: Windows PowerShell's scheduled jobs or Task Scheduler; launchd; systemd, else cron.</summary>
        public SchedulerKind Default(bool desktopEdition)
        {
            if (SchedulerEnvironment.IsWindows) return desktopEdition ? SchedulerKind.ScheduledJob : SchedulerKind.TaskScheduler;
            if (SchedulerEnvironment.IsMac) return SchedulerKind.Launchd;
            if (Directory.Exists("/run/systemd/system") && _env.Unusable(SchedulerKind.Systemd) == null) return SchedulerKind.Systemd;
            if (_env.Unusable(SchedulerKind.Cron) == null) return SchedulerKind.Cron;
            throw new MadfException("SchedulerNotFound", MadfErrorKind.NotFound,
                Messages.SchedulerNoneUsable, "crontab");
        }

        /// <summary>Throws SchedulerNotFound, naming what to install, when the scheduler cannot be used here.</summary>
        public void EnsureUsable(SchedulerKind kind)
        {
            var why = _env.Unusable(kind);
            if (why != null) throw new MadfException("SchedulerNotFound", MadfErrorKind.NotFound, why, SchedulerEnvironment.ToolOf(kind));
        }

        public JobPlan PlanRegister(IReadOnlyList<JobSpec> specs, SchedulerKind kind)
        {
            var plan = new JobPlan { Scheduler = kind };
            switch (kind)
            {
                case SchedulerKind.Systemd:
                    foreach (var s in specs)
                    {
                        var (service, timer) = SystemdFiles(s.Name);
                        plan.Files.Add(new KeyValuePair<string, string?>(service, JobDefinitions.SystemdService(s)));
                        plan.Files.Add(new KeyValuePair<string, string?>(timer, JobDefinitions.SystemdTimer(s)));
                    }
                    if (_env.Activate)
                    {
                        plan.Commands.Add(new[] { "systemctl", "--user", "daemon-reload" });
                        plan.Commands.Add(new[] { "systemctl", "--user", "enable", "--now" }.Concat(specs.Select(s => Path.GetFileName(SystemdFiles(s.Name).timer))).ToArray());
                    }
                    break;
                case SchedulerKind.Cron:
                    var lines = ReadCrontab().Where(l => !specs.Any(s => IsOurCronLine(l, s.Name))).ToList();
                    lines.AddRange(specs.Select(JobDefinitions.CronLine));
                    plan.Crontab = string.Join("\n", lines) + "\n";
                    if (_env.CrontabFile == null) plan.Commands.Add(new[] { "crontab", "-" });
                    break;
                case SchedulerKind.Launchd:
                    foreach (var s in specs)
                    {
                        var plist = PlistFile(s.Name);
                        plan.Files.Add(new KeyValuePair<string, string?>(plist, JobDefinitions.LaunchdPlist(s)));
                        if (_env.Activate) { plan.Commands.Add(new[] { "launchctl", "unload", plist }); plan.Commands.Add(new[] { "launchctl", "load", "-w", plist }); }
                    }
                    break;
                case SchedulerKind.TaskScheduler:
                    foreach (var s in specs)
                    {
                        var xml = Path.Combine(Path.GetTempPath(), s.Name + ".task.xml");
                        plan.Files.Add(new KeyValuePair<string, string?>(xml, JobDefinitions.TaskSchedulerXml(s)));
                        plan.Commands.Add(new[] { "schtasks", "/Create", "/TN", TaskName(s.Name), "/XML", xml, "/F" });
                    }
                    break;
                default:
                    throw new MadfException("SchedulerNotHere", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.SchedulerNotHere, kind), kind);
            }
            return plan;
        }

        /// <summary>Registers (or replaces) the jobs; on any failure everything is put back as it was and the error is rethrown.</summary>
        public List<JobInfo> Register(IReadOnlyList<JobSpec> specs, SchedulerKind kind)
        {
            EnsureUsable(kind);
            var plan = PlanRegister(specs, kind);
            var before = plan.Files.ToDictionary(f => f.Key, f => File.Exists(f.Key) ? File.ReadAllText(f.Key) : null);
            var crontabBefore = kind == SchedulerKind.Cron ? ReadCrontab() : null;
            var tasksBefore = kind == SchedulerKind.TaskScheduler ? specs.ToDictionary(s => s.Name, s => TaskXml(s.Name)) : null;
            var notes = new List<string>();
            try
            {
                foreach (var f in plan.Files) { Directory.CreateDirectory(Path.GetDirectoryName(f.Key)!); WriteAtomically(f.Key, f.Value!, kind == SchedulerKind.TaskScheduler ? Encoding.Unicode : new UTF8Encoding(false)); }
                if (plan.Crontab != null) WriteCrontab(plan.Crontab);
                foreach (var c in plan.Commands)
                {
                    if (c[0] == "crontab") continue; // done by WriteCrontab
                    if (c[0] == "launchctl" && c[1] == "unload") { Exec(c[0], null, c.Skip(1).ToArray()); continue; } // not loaded yet is fine
                    notes.Add(Run(c));
                }
            }
            catch (Exception ex) when (ex is MadfException || ex is IOException || ex is UnauthorizedAccessException)
            {
                Rollback(kind, specs, before, crontabBefore, tasksBefore);
                if (ex is MadfException) throw;
                throw new MadfException("SchedulerFailed", MadfErrorKind.Io, string.Format(Messages.Culture, Messages.SchedulerRolledBack, kind, ex.Message), kind, ex);
            }
            finally
            {
                if (kind == SchedulerKind.TaskScheduler) foreach (var f in plan.Files) TryDelete(f.Key);
            }
            var note = string.Join("; ", notes.Where(n => n.Length > 0));
            if (kind == SchedulerKind.Systemd) note += (note.Length > 0 ? " " : "") + Messages.SchedulerEnableLinger;
            return specs.Select(s =>
            {
                var info = Get(s.Name, kind) ?? new JobInfo { Name = s.Name, Scheduler = kind, Command = JobDefinitions.CommandLine(s) }.Describe(DateTime.Now);
                info.ActivationNote = note.Length > 0 ? note : null;
                return info;
            }).ToList();
        }

        private void Rollback(SchedulerKind kind, IReadOnlyList<JobSpec> specs, Dictionary<string, string?> before, List<string>? crontabBefore, Dictionary<string, string?>? tasksBefore)
        {
            // Best effort, each step on its own: the original error is what the user needs to see.
            if (kind == SchedulerKind.Systemd && _env.Activate)
                foreach (var s in specs.Where(s => before[SystemdFiles(s.Name).timer] == null))
                    Quietly(() => Exec("systemctl", null, "--user", "disable", "--now", Path.GetFileName(SystemdFiles(s.Name).timer)));
            if (kind == SchedulerKind.Launchd && _env.Activate)
                foreach (var s in specs) Quietly(() => Exec("launchctl", null, "unload", PlistFile(s.Name)));
            if (kind != SchedulerKind.TaskScheduler)
                foreach (var f in before)
                    Quietly(() => { if (f.Value == null) TryDelete(f.Key); else WriteAtomically(f.Key, f.Value, new UTF8Encoding(false)); });
            if (crontabBefore != null) Quietly(() => WriteCrontab(crontabBefore.Count == 0 ? "" : string.Join("\n", crontabBefore) + "\n"));
            if (tasksBefore != null)
                foreach (var t in tasksBefore)
                    Quietly(() =>
                    {
                        if (t.Value == null) { Exec("schtasks", null, "/Delete", "/TN", TaskName(t.Key), "/F"); return; }
                        var xml = Path.Combine(Path.GetTempPath(), t.Key + ".restore.xml");
                        File.WriteAllText(xml, t.Value, Encoding.Unicode);
                        try { Exec("schtasks", null, "/Create", "/TN", TaskName(t.Key), "/XML", xml, "/F"); } finally { TryDelete(xml); }
                    });
            if (kind == SchedulerKind.Systemd && _env.Activate) Quietly(() => Exec("systemctl", null, "--user", "daemon-reload"));
            if (kind == SchedulerKind.Launchd && _env.Activate)
                foreach (var s in specs.Where(s => before[PlistFile(s.Name)] != null)) Quietly(() => Exec("launchctl", null, "load", "-w", PlistFile(s.Name)));
        }

        /// <summary>The registered jobs on one scheduler; an unusable scheduler has none (listing never fails for it).</summary>
        public List<JobInfo> List(SchedulerKind kind, IEnumerable<string> names)
        {
            if (_env.Unusable(kind) != null) return new List<JobInfo>();
            return names.Select(n => Get(n, kind)).Where(i => i != null).Select(i => i!).ToList();
        }

        /// <summary>The registered job, or null.</summary>
        public JobInfo? Get(string name, SchedulerKind kind)
        {
            var info = new JobInfo { Name = name, Scheduler = kind, Registered = true };
            switch (kind)
            {
                case SchedulerKind.Systemd:
                    var (service, timer) = SystemdFiles(name);
                    if (!File.Exists(timer)) return null;
                    info.Definitions.Add(service); info.Definitions.Add(timer);
                    var exec = File.Exists(service) ? File.ReadAllLines(service).FirstOrDefault(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)) : null;
                    info.Command = exec == null ? "" : JobDefinitions.SystemdUnquote(exec.Substring("ExecStart=".Length));
                    info.Schedule = File.ReadAllLines(timer).FirstOrDefault(l => l.StartsWith("OnCalendar=", StringComparison.Ordinal))?.Substring("OnCalendar=".Length) ?? "";
                    break;
                case SchedulerKind.Cron:
                    var line = ReadCrontab().FirstOrDefault(l => IsOurCronLine(l, name));
                    if (line == null) return null;
                    info.Definitions.Add(_env.CrontabFile ?? "crontab");
                    var fields = line.Split(new[] { ' ' }, 6);
                    info.Schedule = string.Join(" ", fields.Take(5));
                    var marker = fields.Length > 5 ? fields[5].LastIndexOf("# madflog-", StringComparison.Ordinal) : -1;
                    info.Command = marker > 0 ? fields[5].Substring(0, marker).TrimEnd() : "";
                    return info.Describe(DateTime.Now, string.Join(" ", JobDefinitions.ShellWords(info.Command.Replace("\\%", "%"))));
                case SchedulerKind.Launchd:
                    var plist = PlistFile(name);
                    if (!File.Exists(plist)) return null;
                    info.Definitions.Add(plist);
                    var args = XDocument.Load(plist).Descendants("array").FirstOrDefault()?.Elements("string").Select(e => e.Value) ?? Enumerable.Empty<string>();
                    info.Command = string.Join(" ", args);
                    break;
                case SchedulerKind.TaskScheduler:
                    var xml = TaskXml(name);
                    if (xml == null) return null;
                    info.Definitions.Add(TaskName(name));
                    var doc = XDocument.Parse(xml.Substring(xml.IndexOf('<')).Replace("encoding=\"UTF-16\"", ""));
                    var exe = doc.Descendants().FirstOrDefault(e => e.Name.LocalName == "Command")?.Value ?? "";
                    info.Command = exe + " " + (doc.Descendants().FirstOrDefault(e => e.Name.LocalName == "Arguments")?.Value ?? "");
                    break;
                default:
                    return null;
            }
            var described = info.Describe(DateTime.Now);
            return described;
        }

        /// <summary>Removes the jobs; returns the names that were there.</summary>
        public List<string> Unregister(IEnumerable<string> names, SchedulerKind kind)
        {
            EnsureUsable(kind);
            var present = names.Where(n => Get(n, kind) != null).ToList();
            foreach (var name in present)
                switch (kind)
                {
                    case SchedulerKind.Systemd:
                        var (service, timer) = SystemdFiles(name);
                        if (_env.Activate) Run("systemctl", "--user", "disable", "--now", Path.GetFileName(timer));
                        TryDelete(timer); TryDelete(service);
                        break;
                    case SchedulerKind.Cron:
                        var rest = ReadCrontab().Where(l => !IsOurCronLine(l, name)).ToList();
                        WriteCrontab(rest.Count == 0 ? "" : string.Join("\n", rest) + "\n");
                        break;
                    case SchedulerKind.Launchd:
                        if (_env.Activate) Exec("launchctl", null, "unload", "-w", PlistFile(name));
                        TryDelete(PlistFile(name));
                        break;
                    case SchedulerKind.TaskScheduler:
                        Run("schtasks", "/Delete", "/TN", TaskName(name), "/F");
                        break;
                }
            if (present.Count > 0 && kind == SchedulerKind.Systemd && _env.Activate) Run("systemctl", "--user", "daemon-reload");
            return present;
        }

        public JobPlan PlanUnregister(IEnumerable<string> names, SchedulerKind kind)
        {
            var plan = new JobPlan { Scheduler = kind };
            foreach (var name in names)
                switch (kind)
                {
                    case SchedulerKind.Systemd:
                        var (service, timer) = SystemdFiles(name);
                        if (_env.Activate) plan.Commands.Add(new[] { "systemctl", "--user", "disable", "--now", Path.GetFileName(timer) });
                        plan.Files.Add(new KeyValuePair<string, string?>(timer, null)); plan.Files.Add(new KeyValuePair<string, string?>(service, null));
                        break;
                    case SchedulerKind.Launchd:
                        if (_env.Activate) plan.Commands.Add(new[] { "launchctl", "unload", "-w", PlistFile(name) });
                        plan.Files.Add(new KeyValuePair<string, string?>(PlistFile(name), null));
                        break;
                    case SchedulerKind.TaskScheduler:
                        plan.Commands.Add(new[] { "schtasks", "/Delete", "/TN", TaskName(name), "/F" });
                        break;
                    case SchedulerKind.Cron:
                        plan.Crontab = string.Join("\n", ReadCrontab().Where(l => !IsOurCronLine(l, name))) + "\n";
                        break;
                }
            return plan;
        }

        private (string service, string timer) SystemdFiles(string name)
        {
            var unit = "madflog-" + name.ToLowerInvariant();
            return (Path.Combine(_env.SystemdUserDirectory, unit + ".service"), Path.Combine(_env.SystemdUserDirectory, unit + ".timer"));
        }

        private string PlistFile(string name) => Path.Combine(_env.LaunchAgentsDirectory, JobDefinitions.LaunchdLabel(name) + ".plist");
        private static string TaskName(string name) => "MadfLog\\" + name;

        private static string? TaskXml(string name)
        {
            var (code, output) = Exec("schtasks", null, "/Query", "/TN", TaskName(name), "/XML");
            return code == 0 && output.IndexOf("<Task", StringComparison.Ordinal) >= 0 ? output : null;
        }

        // Earlier versions marked the revision line "# madflog-revision:<name>"; both are ours.
        private static bool IsOurCronLine(string line, string name)
        {
            var l = line.TrimEnd();
            return l.EndsWith(JobDefinitions.CronMarker + name, StringComparison.Ordinal) || l.EndsWith("# madflog-revision:" + name, StringComparison.Ordinal);
        }

        private List<string> ReadCrontab()
        {
            if (_env.CrontabFile != null) return File.Exists(_env.CrontabFile) ? File.ReadAllLines(_env.CrontabFile).ToList() : new List<string>();
            var (code, output) = Exec("crontab", null, "-l");
            return code == 0 ? output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList() : new List<string>(); // "no crontab for user" exits 1
        }

        private void WriteCrontab(string text)
        {
            if (_env.CrontabFile != null) { WriteAtomically(_env.CrontabFile, text, new UTF8Encoding(false)); return; }
            var (code, output) = Exec("crontab", text, "-");
            if (code != 0) throw new MadfException("SchedulerFailed", MadfErrorKind.Io, string.Format(Messages.Culture, Messages.CrontabRefused, output.Trim()), "crontab");
        }

        private static void WriteAtomically(string path, string text, Encoding encoding)
        {
            if (File.Exists(path) && File.ReadAllText(path) == text) return;
            var temp = path + ".tmp";
            File.WriteAllText(temp, text, encoding);
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        private static void TryDelete(string path) { try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
        private static void Quietly(Action a) { try { a(); } catch (Exception ex) when (ex is MadfException || ex is IOException || ex is UnauthorizedAccessException) { } }

        private static string Run(params string[] command)
        {
            var (code, output) = Exec(command[0], null, command.Skip(1).ToArray());
            if (code != 0) throw new MadfException("SchedulerFailed", MadfErrorKind.Io, string.Format(Messages.Culture, Messages.SchedulerCommandFailed, string.Join(" ", command), code, output.Trim()), command[0]);
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
                var stderr = p.StandardError.ReadToEndAsync();
                var stdout = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return (p.ExitCode, stdout + stderr.Result);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new MadfException("SchedulerNotFound", MadfErrorKind.NotFound, string.Format(Messages.Culture, Messages.SchedulerToolMissing, exe, ex.Message), exe, ex);
            }
        }
    }
}
