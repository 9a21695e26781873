using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;

namespace MadfLog.Bench
{
    /// <summary>
    /// A scheduled import over a daily log that grows all day: one day's QuickLogger log (a realistic one, as `bench import`
    /// writes them) is appended hour by hour to a file, and after each hour the file is imported into a store that holds
    /// the hours before, through the engine in this process and, with a host, through `madflog -Command Import-MadfLog`
    /// (a new process each time, as the scheduled job runs). Prints each import's wall and CPU time and the lines it read:
    /// what one import costs, and how that grows through the day as the file does.
    /// </summary>
    public sealed class GrownLogBench : IBench
    {
        public string Name => "grown";
        public string Description => "a daily log imported after each hour appended: grown <daily log .jsonl> <work folder> [madflog host]";

        public int Run(string[] args)
        {
            if (args.Length < 2) { Console.Error.WriteLine("usage: grown <daily log .jsonl> <work folder> [madflog host]"); return 64; }
            var source = args[0];
            var work = args[1];
            var host = args.Length > 2 ? Path.GetFullPath(args[2]) : null;
            var hours = ByHour(source);
            Console.WriteLine($"{source}: {hours.Sum(h => h.Count):N0} lines, {new FileInfo(source).Length / 1048576.0:F1} MB, in {hours.Count(h => h.Count > 0)} hours with lines");
            var engine = Folder(work, "engine");
            var process = host != null ? Folder(work, "host") : null;
            var log = Path.GetFileName(source);
            Console.WriteLine("hour  new lines  file lines  file MB | engine: wall ms  CPU ms  read s  lines read | host: wall ms  CPU ms");
            double engineCpu = 0, hostCpu = 0;
            long fileLines = 0, fileBytes = 0;
            for (var hour = 0; hour < 24; hour++)
            {
                if (hours[hour].Count == 0) continue;
                fileLines += hours[hour].Count;
                fileBytes += hours[hour].Sum(l => l.Length + 1L);
                Append(Path.Combine(engine, log), hours[hour]);
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                var r = new LogImporter(new ImportOptions { DatabasePath = Path.Combine(engine, "madflog.db") }).Import(new[] { Path.Combine(engine, log) });
                wall.Stop();
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
                engineCpu += cpu;
                var line = $"{hour,4}  {hours[hour].Count,9:N0}  {fileLines,10:N0}  {fileBytes / 1048576.0,7:F1} | {wall.Elapsed.TotalMilliseconds,14:F0}  {cpu,6:F0}  {r.ReadSeconds,6:F2}  {r.LinesRead,10:N0}";
                if (process != null)
                {
                    Append(Path.Combine(process, log), hours[hour]);
                    var (hostWall, hostCpuMs) = Host(host!, Path.Combine(process, log), Path.Combine(process, "madflog.db"));
                    hostCpu += hostCpuMs;
                    line += $" | {hostWall,12:F0}  {hostCpuMs,6:F0}";
                }
                Console.WriteLine(line);
            }
            // What the file's size alone costs: the day's last line again (a duplicate, so nothing is written) and an import.
            for (var i = 0; i < 3; i++)
            {
                Append(Path.Combine(engine, log), new List<string> { hours.Last(h => h.Count > 0).Last() });
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                var r = new LogImporter(new ImportOptions { DatabasePath = Path.Combine(engine, "madflog.db") }).Import(new[] { Path.Combine(engine, log) });
                Console.WriteLine($"one line appended to the whole day's file: {wall.Elapsed.TotalMilliseconds:F0} ms wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds:F0} ms CPU, read {r.ReadSeconds:F2} s, lines read {r.LinesRead:N0}");
            }
            Console.WriteLine($"the day's imports: engine {engineCpu / 1000:F2} s CPU" + (process != null ? $", host {hostCpu / 1000:F2} s CPU" : ""));
            return 0;
        }

        // The day's lines grouped by the hour of their timestamp (QuickLogger writes the timestamp first).
        private static List<List<string>> ByHour(string path)
        {
            var hours = Enumerable.Range(0, 24).Select(_ => new List<string>()).ToList();
            foreach (var line in File.ReadLines(path))
            {
                var at = line.IndexOf("\"timestamp\":\"", StringComparison.Ordinal);
                var hour = at >= 0 && line.Length > at + 26 ? int.Parse(line.AsSpan(at + 24, 2), NumberStyles.None, CultureInfo.InvariantCulture) : 23;
                hours[hour].Add(line);
            }
            return hours;
        }

        private static string Folder(string work, string name)
        {
            var folder = Path.Combine(work, name);
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
            Directory.CreateDirectory(folder);
            return folder;
        }

        private static void Append(string path, List<string> lines)
        {
            using var w = new StreamWriter(path, append: true) { NewLine = "\n" };
            foreach (var l in lines) w.WriteLine(l);
        }

        // One scheduled run: a new host process importing the file; its wall and CPU milliseconds (user + system, by /usr/bin/time).
        private static (double Wall, double Cpu) Host(string host, string file, string db)
        {
            var psi = new ProcessStartInfo("/usr/bin/time", new[] { "-f", "%e %U %S", host, "-Command", $"Import-MadfLog '{file}' -Database '{db}' | Out-Null" })
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("host import failed: " + err);
            var last = err.Trim().Split('\n').Last().Split(' ');
            double S(int i) => double.Parse(last[i], CultureInfo.InvariantCulture) * 1000;
            return (S(0), S(1) + S(2));
        }
    }
}
