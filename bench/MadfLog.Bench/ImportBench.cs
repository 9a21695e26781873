using System.Collections.Generic;
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;

namespace MadfLog.Bench
{
    /// <summary>Import speed and memory on N realistic events, beside sqlite-utils insert --nl on the same file.</summary>
    public sealed class ImportBench : IBench
    {
        public string Name => "import";
        public string Description => "import N events (default 1,000,000): events/s, peak memory, bytes/event, vs sqlite-utils: import [N] [folder]";

        public int Run(string[] args)
        {
            var n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
            var folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "madflog-bench-import");
            var logs = EnsureLogs(folder, n);
            var db = Path.Combine(folder, "madflog.db");
            foreach (var f in new[] { db, db + "-wal", db + "-shm" }) if (File.Exists(f)) File.Delete(f);

            // An experiment (MADFLOG_BENCH_PRIME=<a small folder of logs>): import those first, untimed, into a throwaway
            // store, so the import measured runs code already called and tiered (docs/storage.md, session 24).
            var prime = Environment.GetEnvironmentVariable("MADFLOG_BENCH_PRIME");
            if (!string.IsNullOrEmpty(prime))
            {
                var primeDb = Path.Combine(Path.GetTempPath(), "madflog-prime-" + Guid.NewGuid().ToString("N") + ".db");
                var pc = Stopwatch.StartNew();
                var pr = new LogImporter(new ImportOptions { DatabasePath = primeDb }).Import(new[] { prime });
                Console.WriteLine($"(primed on {pr.Imported:N0} events in {pc.Elapsed.TotalSeconds:F2} s)");
                foreach (var f in new[] { primeDb, primeDb + "-wal", primeDb + "-shm" }) if (File.Exists(f)) File.Delete(f);
            }
            GC.Collect();
            using var allocations = Environment.GetEnvironmentVariable("MADFLOG_BENCH_ALLOCATIONS") == "1" ? new AllocationSampler() : null;
            using var tiering = Environment.GetEnvironmentVariable("MADFLOG_BENCH_TIERS") == "1" ? new TieringSampler() : null;
            var before = Process.GetCurrentProcess().PeakWorkingSet64;
            using var threads = new ThreadCpu();
            using var memory = new MemorySampler();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var gc0 = GC.CollectionCount(0);
            var gc1 = GC.CollectionCount(1);
            var gc2 = GC.CollectionCount(2);
            var pauseBefore = GC.GetTotalPauseDuration();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            var jitTimeBefore = System.Runtime.JitInfo.GetCompilationTime();
            // The import writes on the calling thread: its own compiles are on the import's critical path.
            var writerJitBefore = System.Runtime.JitInfo.GetCompilationTime(currentThread: true);
            var writerJitCountBefore = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);
            var writerCpuBefore = MadfLog.Engine.Store.StepClock.CurrentThreadCpuSeconds();
            var importStart = DateTime.UtcNow;
            var sw = Stopwatch.StartNew();
            var options = new ImportOptions { DatabasePath = db };
            // An experiment's knob: events per transaction (ImportOptions.CommitEvents).
            if (int.TryParse(Environment.GetEnvironmentVariable("MADFLOG_BENCH_COMMIT_EVENTS"), out var commitEvents)) options.CommitEvents = commitEvents;
            var result = new LogImporter(options).Import(new[] { logs });
            sw.Stop();
            var writerJit = System.Runtime.JitInfo.GetCompilationTime(currentThread: true) - writerJitBefore;
            var writerJitCount = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true) - writerJitCountBefore;
            var writerCpu = MadfLog.Engine.Store.StepClock.CurrentThreadCpuSeconds() - writerCpuBefore;
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            var paused = (GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds;
            var allocated = Math.Max(1, GC.GetTotalAllocatedBytes() - allocatedBefore);
            var perThread = threads.Stop();
            var memoryReport = memory.Report();
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;
            var size = Rotation.DatabaseBytes(db);
            Console.WriteLine($"{"tool",-22} {"events",10} {"seconds",8} {"events/s",10} {"peak MB",8} {"db MB",7} {"bytes/event",11}");
            Console.WriteLine($"{"MadfLog Import",-22} {result.Imported,10:N0} {sw.Elapsed.TotalSeconds,8:F2} {result.Imported / sw.Elapsed.TotalSeconds,10:N0} {peak / 1048576.0,8:F0} {size / 1048576.0,7:F0} {(double)size / Math.Max(1, result.Imported),11:F0}");
            Console.WriteLine($"  (runtime: {Runtime.Describe()}; {EngineBuild.Describe()})");
            Console.WriteLine($"  (process peak working set before the import: {before / 1048576.0:F0} MB; includes secret redaction, pattern mining, the dedup key, pattern index, time blocks and the summaries)");
            Console.WriteLine($"  (CPU {cpu:F2} s = {cpu / sw.Elapsed.TotalSeconds:F2} cores busy of {Environment.ProcessorCount}; GC: {GC.CollectionCount(0) - gc0}/{GC.CollectionCount(1) - gc1}/{GC.CollectionCount(2) - gc2} gen0/1/2, " +
                $"{paused:F2} s paused, {allocated / 1048576.0:F0} MB allocated (read {result.ReadAllocatedBytes / 1048576.0:F0}, prepare {result.PrepareAllocatedBytes / 1048576.0:F0}, write {result.WriteAllocatedBytes / 1048576.0:F0}); " +
                $"busy: read {result.ReadSeconds:F2} s (blocked {result.ReadBlockedSeconds:F2} s), prepare {result.PrepareSeconds:F2} s, write {result.WriteSeconds:F2} s; {result.Commits} commits, {result.HeapCompactions} heap compactions; " +
                $"JIT: {System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore:N0} methods, {(System.Runtime.JitInfo.GetCompilationTime() - jitTimeBefore).TotalSeconds:F2} s, of them on the writing thread {writerJitCount:N0}, {writerJit.TotalSeconds:F2} s)");
            if (result.WriterSteps.Count > 0)
                Console.WriteLine($"  (writer steps, {(MadfLog.Engine.Store.StepClock.ThreadCpu ? "CPU" : "wall")} s: " + string.Join(", ", result.WriterSteps.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value:F2}")) + ")");
            if (result.WriterStepBytes.Values.Any(b => b > 0))
                Console.WriteLine("  (writer steps, MB allocated: " + string.Join(", ", result.WriterStepBytes.Where(t => t.Value >= 1 << 20).OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value / 1048576.0:F0}")) + ")");
            // The import cannot end before its writing thread has done its own work: that thread's CPU plus the collector's
            // pauses (which stop every thread) is a floor on the wall, however the other threads share the cores. A pause is
            // run by the thread whose allocation started it, so the writer's share of them (its share of the allocations,
            // about) is already in its CPU and counted once.
            var othersPauses = paused * (1 - Math.Min(1, (double)result.WriteAllocatedBytes / allocated));
            if (writerCpu is double w)
                Console.WriteLine($"  (the writing thread's floor: its CPU {w:F2} s + the pauses other threads ran {othersPauses:F2} s = {w + othersPauses:F2} s of the {sw.Elapsed.TotalSeconds:F2} s; " +
                    $"outside its writing steps {Math.Max(0, sw.Elapsed.TotalSeconds - result.WriteSeconds):F2} s (start-up, waits for batches))");
            Console.WriteLine(memoryReport);
            if (perThread.Count > 0)
                Console.WriteLine("  (CPU by thread: " + string.Join(", ", perThread.Where(t => t.Value >= 0.05).OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value:F2} s")) + ")");

            if (allocations != null) Console.WriteLine(allocations.Report(30));
            if (tiering != null) Console.WriteLine(tiering.Report(importStart));
            var again = Stopwatch.StartNew();
            var second = new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { logs });
            Console.WriteLine($"{"MadfLog re-import",-22} {second.Imported,10:N0} {again.Elapsed.TotalSeconds,8:F2}   (nothing new: the cursor skips the file)");

            SqliteUtils(logs, Path.Combine(folder, "sqlite-utils.db"));
            return 0;
        }

        private static void SqliteUtils(string logs, string db)
        {
            // The peer takes minutes at 1M: runs that only compare MadfLog builds may leave it out.
            if (Environment.GetEnvironmentVariable("MADFLOG_BENCH_NO_PEER") == "1")
            {
                Console.WriteLine("sqlite-utils: skipped (MADFLOG_BENCH_NO_PEER=1)");
                return;
            }
            if (File.Exists(db)) File.Delete(db);
            // Every log file as one stream of JSON lines (--alter: transcripts and MADF lines have different fields).
            var psi = new ProcessStartInfo("/usr/bin/time", $"-f \"%e %M\" sh -c \"find '{logs}' -name '*.jsonl' -exec cat {{}} + | sqlite-utils insert '{db}' events - --nl --alter\"") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            try
            {
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                var last = err.Trim().Split('\n').Last().Trim('"', ' ').Split(' ');
                if (p.ExitCode != 0 || last.Length < 2 || !double.TryParse(last[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var secs))
                {
                    Console.WriteLine($"sqlite-utils: not run ({err.Trim().Split('\n').Last()}); install it with: apt-get install sqlite-utils");
                    return;
                }
                var lines = Directory.EnumerateFiles(logs, "*.jsonl", SearchOption.AllDirectories).Sum(f => File.ReadLines(f).LongCount());
                var kb = double.Parse(last[1], System.Globalization.CultureInfo.InvariantCulture);
                var size = new FileInfo(db).Length;
                Console.WriteLine($"{"sqlite-utils --nl",-22} {lines,10:N0} {secs,8:F2} {lines / secs,10:N0} {kb / 1024,8:F0} {size / 1048576.0,7:F0} {(double)size / lines,11:F0}   (no indexes, no dedup)");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                Console.WriteLine("sqlite-utils: not run (" + ex.Message + ")");
            }
        }

        /// <summary>The folder of about N realistic events (<see cref="RealisticLogs"/>), generated once and kept under <paramref name="folder"/>.</summary>
        internal static string EnsureLogs(string folder, int n)
        {
            var logs = Path.Combine(folder, $"{RealisticLogs.Version}-{n}");
            var done = logs + ".complete";
            if (File.Exists(done)) return logs;
            var clock = Stopwatch.StartNew();
            var written = RealisticLogs.Write(logs, n);
            var bytes = Directory.EnumerateFiles(logs, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            File.WriteAllText(done, written.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Console.WriteLine($"generated {written:N0} events ({bytes / 1048576.0:F0} MB, {Directory.EnumerateFiles(logs, "*.jsonl", SearchOption.AllDirectories).Count():N0} files) in {clock.Elapsed.TotalSeconds:F1}s: {logs}");
            return logs;
        }
    }

    /// <summary>
    /// The runtime settings that change an import's CPU, as this process runs them: users get pwsh's (.NET's defaults:
    /// tiered compilation with dynamic PGO, workstation concurrent GC), or the madflog host's (tiered PGO off).
    /// </summary>
    internal static class Runtime
    {
        public static string Describe()
        {
            var pgo = Setting("TieredPGO", "System.Runtime.TieredPGO", true);
            var tiered = Setting("TieredCompilation", "System.Runtime.TieredCompilation", true);
            var gc = System.Runtime.GCSettings.IsServerGC ? "server" : "workstation";
            var concurrent = System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch ? " concurrent" : "";
            return $".NET {Environment.Version}, tiered compilation {(tiered.on ? "on" : "off")} ({tiered.from}), tiered PGO {(pgo.on ? "on" : "off")} ({pgo.from}), " +
                $"{gc}{concurrent} GC; pwsh runs .NET's defaults (tiered PGO on), the madflog host turns tiered PGO off";
        }

        // An environment variable (DOTNET_ or COMPlus_) wins over the runtimeconfig's property, which wins over the default.
        private static (bool on, string from) Setting(string variable, string property, bool byDefault)
        {
            foreach (var prefix in new[] { "DOTNET_", "COMPlus_" })
                if (Environment.GetEnvironmentVariable(prefix + variable) is { } v) return (v != "0", prefix + variable + "=" + v);
            if (AppContext.GetData(property) is { } data) return (!string.Equals(data.ToString(), "false", StringComparison.OrdinalIgnoreCase), "runtimeconfig");
            return (byDefault, ".NET's default");
        }
    }

    /// <summary>CPU seconds per thread while it runs, read from /proc (Linux only; empty elsewhere).</summary>
    internal sealed class ThreadCpu : IDisposable
    {
        private readonly Dictionary<string, (string name, double seconds)> _last = new Dictionary<string, (string, double)>();
        private readonly Dictionary<string, double> _start = new Dictionary<string, double>();
        private readonly System.Threading.Timer? _timer;

        public ThreadCpu()
        {
            if (!Directory.Exists("/proc/self/task")) return;
            Sample(_start);
            // Every 200 ms: a sample reads every thread's stat file (about 1 ms), and at 50 ms the sampling took 1.5-2.4 s of
            // the 1M import's CPU on 2 cores; a thread that ends is undercounted by at most one interval.
            _timer = new System.Threading.Timer(_ => { lock (_last) Sample(null); }, null, 0, 200);
        }

        private void Sample(Dictionary<string, double>? into)
        {
            foreach (var dir in Directory.GetDirectories("/proc/self/task"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var name = stat.Substring(stat.IndexOf('(') + 1, stat.LastIndexOf(')') - stat.IndexOf('(') - 1);
                    var fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    var seconds = (double.Parse(fields[11]) + double.Parse(fields[12])) / 100.0; // utime + stime, in clock ticks
                    var tid = Path.GetFileName(dir);
                    if (into != null) into[tid] = seconds; else _last[tid] = (name, seconds);
                }
                catch (IOException) { } // the thread ended
            }
        }

        public Dictionary<string, double> Stop()
        {
            _timer?.Dispose();
            var result = new Dictionary<string, double>();
            lock (_last)
            {
                Sample(null);
                foreach (var kv in _last)
                {
                    var used = kv.Value.seconds - (_start.TryGetValue(kv.Key, out var s) ? s : 0);
                    result[kv.Value.name] = (result.TryGetValue(kv.Value.name, out var n) ? n : 0) + used;
                }
            }
            return result;
        }

        public void Dispose() => _timer?.Dispose();
    }
}
