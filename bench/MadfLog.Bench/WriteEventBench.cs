using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;

namespace MadfLog.Bench
{
    /// <summary>What Write-MadfEvent costs: appends per second (one whole line each, under the per-file lock), on 1 and 4 threads.</summary>
    public sealed class WriteEventBench : IBench
    {
        public string Name => "write-event";
        public string Description => "appends/s of EventLogWriter (what Write-MadfEvent calls): write-event [N]";

        public int Run(string[] args)
        {
            var n = args.Length > 0 ? int.Parse(args[0]) : 20_000;
            var folder = Path.Combine(Path.GetTempPath(), "madflog-bench-write");
            foreach (var threads in new[] { 1, 1, 4 }) // the first round warms up (JIT, mutex, folder)
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, true);
                var sw = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    for (var i = 0; i < n / threads; i++)
                        EventLogWriter.Append(folder, new EventRow
                        {
                            Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "tool", AgentName = "dev", StoryId = "1.2",
                            SessionId = "s" + t, Success = i % 10 != 0, DurationMs = i,
                        }, new Hashtable { ["tool"] = "Bash", ["message"] = "pytest failed: 3 failed, 40 passed in 12s" });
                });
                sw.Stop();
                Console.WriteLine($"{threads} thread(s): {n:N0} appends in {sw.Elapsed.TotalMilliseconds:F0} ms = {n / sw.Elapsed.TotalSeconds:N0} appends/s ({sw.Elapsed.TotalMilliseconds * 1000 / n:F1} µs each)");
            }
            return 0;
        }
    }
}
