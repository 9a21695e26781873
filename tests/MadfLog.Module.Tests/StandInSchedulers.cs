using System;
using System.IO;

namespace MadfLog.Module.Tests
{
    /// <summary>
    /// Stand-in systemctl and crontab on PATH, and XDG_CONFIG_HOME in a temp folder, so registration runs the real
    /// code path (files written, scheduler commands run) without touching this machine's scheduler.
    /// systemctl logs its arguments and fails when asked to (FailSystemctlOn); crontab keeps its table in a file.
    /// </summary>
    public sealed class StandInSchedulers : IDisposable
    {
        private readonly string? _path, _xdg;

        public StandInSchedulers(string root)
        {
            Root = root;
            Bin = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
            ConfigHome = Directory.CreateDirectory(Path.Combine(root, "config")).FullName;
            Script("systemctl", $@"echo ""$*"" >> '{SystemctlLog}'
if [ -f '{FailFile}' ]; then case ""$*"" in *""$(cat '{FailFile}')""*) echo ""Failed to connect to bus: stand-in failure"" >&2; exit 1;; esac; fi
exit 0");
            Script("crontab", $@"case ""$1"" in
  -l) if [ -f '{CrontabFile}' ]; then cat '{CrontabFile}'; else echo ""no crontab for $USER"" >&2; exit 1; fi;;
  -) cat > '{CrontabFile}';;
  *) echo ""crontab stand-in: unexpected $*"" >&2; exit 2;;
esac");
            _path = Environment.GetEnvironmentVariable("PATH");
            _xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            Environment.SetEnvironmentVariable("PATH", Bin + Path.PathSeparator + _path);
            Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", ConfigHome);
        }

        public string Root { get; }
        public string Bin { get; }
        public string ConfigHome { get; }
        public string SystemdUser => Path.Combine(ConfigHome, "systemd", "user");
        public string SystemctlLog => Path.Combine(Root, "systemctl.log");
        public string CrontabFile => Path.Combine(Root, "crontab.txt");
        private string FailFile => Path.Combine(Root, "systemctl.fail");

        /// <summary>systemctl exits 1 when its arguments contain this text.</summary>
        public void FailSystemctlOn(string text) => File.WriteAllText(FailFile, text);

        public string[] SystemctlCalls => File.Exists(SystemctlLog) ? File.ReadAllLines(SystemctlLog) : Array.Empty<string>();

        private void Script(string name, string body)
        {
            var path = Path.Combine(Bin, name);
            File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
            // The stand-ins are shell scripts: they exist only where systemd, cron and launchd do.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable("PATH", _path);
            Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", _xdg);
        }
    }
}
