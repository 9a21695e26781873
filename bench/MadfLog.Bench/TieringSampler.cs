using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Linq;
using System.Text;

namespace MadfLog.Bench
{
    /// <summary>
    /// How long methods ran instrumented code during an import (<c>MADFLOG_BENCH_TIERS=1</c>). With tiered PGO on (.NET's
    /// default, as in pwsh), a hot method taken from ReadyToRun or compiled at tier 0 is compiled again with
    /// instrumentation, runs that slower code while it counts, and is compiled a third time, optimized; the background
    /// compiler does both, one method after the other. This prints, per second of the import, the methods first called
    /// (ReadyToRun code taken, or tier-0 compiles), the instrumented compiles and the final ones, and for the methods that
    /// got both how long after their instrumented version the final one came (the time their callers ran instrumented code).
    /// From the runtime's own events (MethodLoadVerbose's optimization tier, R2RGetEntryPoint). It also counts the
    /// instrumented compiles by owner (the first two parts of the type's namespace), and with
    /// <c>MADFLOG_BENCH_TIERS_LIST=1</c> lists every event with its time and tier.
    /// </summary>
    internal sealed class TieringSampler : EventListener
    {
        private const EventKeywords Jit = (EventKeywords)0x10, CompilationDiagnostic = (EventKeywords)0x2000000000;

        // MethodLoadVerbose's optimization tier (MethodFlags bits 7-9), as the runtime numbers them.
        private const int QuickJitted = 3, OptimizedTier1 = 4, QuickJittedInstrumented = 6, OptimizedTier1Instrumented = 7;

        /// <summary>The first two parts of a method's namespace-qualified type (System.Text, MadfLog.Import, ...).</summary>
        private static string OwnerOf(string method)
        {
            var parts = method.Split('.', 3);
            return parts.Length >= 2 ? parts[0] + "." + parts[1].Split('`', '[', ':')[0] : parts[0];
        }

        /// <summary>A MethodLoadVerbose event's optimization tier, from its MethodFlags.</summary>
        internal static int TierOf(long methodFlags) => (int)((methodFlags >> 7) & 7);

        private static bool IsInstrumented(int tier) => tier == OptimizedTier1Instrumented || tier == QuickJittedInstrumented;

        private static ulong MethodId(EventWrittenEventArgs e) => Convert.ToUInt64(e.Payload![e.PayloadNames!.IndexOf("MethodID")], CultureInfo.InvariantCulture);

        private readonly List<(DateTime at, int tier, string method)> _events = new List<(DateTime, int, string)>();
        private readonly Dictionary<(long thread, ulong method), DateTime> _started = new Dictionary<(long, ulong), DateTime>();
        private readonly List<(DateTime at, double ms, int tier, string method)> _compiles = new List<(DateTime, double, int, string)>();
        private const int ReadyToRun = -1;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, Jit | CompilationDiagnostic);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName == null || e.Payload == null || e.PayloadNames == null) return;
            if (e.EventName.StartsWith("MethodJittingStarted", StringComparison.Ordinal))
            {
                lock (_events) _started[(e.OSThreadId, MethodId(e))] = e.TimeStamp;
                return;
            }
            int tier;
            if (e.EventName.StartsWith("MethodLoadVerbose", StringComparison.Ordinal))
                tier = TierOf(Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("MethodFlags")], CultureInfo.InvariantCulture));
            else if (e.EventName.StartsWith("R2RGetEntryPoint", StringComparison.Ordinal) && !e.EventName.Contains("Start", StringComparison.Ordinal))
                tier = ReadyToRun;
            else return;
            var method = e.Payload[e.PayloadNames.IndexOf("MethodNamespace")] + "::" + e.Payload[e.PayloadNames.IndexOf("MethodName")];
            lock (_events)
            {
                _events.Add((e.TimeStamp, tier, method));
                if (tier != ReadyToRun && _started.Remove((e.OSThreadId, MethodId(e)), out var began))
                    _compiles.Add((e.TimeStamp, (e.TimeStamp - began).TotalMilliseconds, tier, method));
            }
        }

        /// <summary>The import's timeline from <paramref name="start"/> (UTC).</summary>
        public string Report(DateTime start)
        {
            List<(DateTime at, int tier, string method)> events;
            lock (_events) events = _events.Where(x => x.at >= start).ToList();
            var s = new StringBuilder("  (tiering during the import, per second: first calls (ReadyToRun taken + tier 0) / instrumented compiles / final tier-1 compiles:");
            foreach (var second in events.GroupBy(x => (int)(x.at - start).TotalSeconds).OrderBy(g => g.Key))
            {
                int Count(params int[] tiers) => second.Count(x => tiers.Contains(x.tier));
                s.Append(CultureInfo.InvariantCulture, $" {second.Key}s {Count(ReadyToRun, QuickJitted)}/{Count(QuickJittedInstrumented, OptimizedTier1Instrumented)}/{Count(OptimizedTier1)};");
            }
            // Per method: its instrumented version's time, then its final version's after that.
            var instrumented = new Dictionary<string, DateTime>(StringComparer.Ordinal);
            var waits = new List<double>();
            foreach (var x in events.OrderBy(x => x.at))
            {
                if (IsInstrumented(x.tier)) instrumented.TryAdd(x.method, x.at);
                else if (x.tier == OptimizedTier1 && instrumented.Remove(x.method, out var since)) waits.Add((x.at - since).TotalSeconds);
            }
            waits.Sort();
            double At(double q) => waits.Count == 0 ? 0 : waits[Math.Min(waits.Count - 1, (int)(q * waits.Count))];
            s.Append(CultureInfo.InvariantCulture,
                $" instrumented -> final, seconds: median {At(0.5):F1}, p90 {At(0.9):F1} over {waits.Count} methods; {instrumented.Count} still instrumented at the end)");
            // Whose methods the instrumented compiles were: the background compiler's queue is shared by all of them.
            s.Append(" instrumented compiles by owner:");
            foreach (var owner in events.Where(x => IsInstrumented(x.tier)).GroupBy(x => OwnerOf(x.method)).OrderByDescending(g => g.Count()))
                s.Append(CultureInfo.InvariantCulture, $" {owner.Key} {owner.Count()};");
            // How long the compiles took, by tier (2: optimized at once, AggressiveOptimization), and the longest.
            List<(DateTime at, double ms, int tier, string method)> compiles;
            lock (_events) compiles = _compiles.Where(x => x.at >= start).ToList();
            s.Append(" compile time by tier, ms:");
            foreach (var t in compiles.GroupBy(x => x.tier).OrderBy(g => g.Key))
                s.Append(CultureInfo.InvariantCulture, $" tier {t.Key} {t.Sum(x => x.ms):F0} over {t.Count()};");
            s.Append(" the longest:");
            foreach (var x in compiles.OrderByDescending(x => x.ms).Take(25))
                s.Append(CultureInfo.InvariantCulture, $"\n    {x.ms:F1} ms tier {x.tier} {x.method}");
            if (Environment.GetEnvironmentVariable("MADFLOG_BENCH_TIERS_LIST") == "1")
                foreach (var x in events.OrderBy(x => x.at))
                    s.Append(CultureInfo.InvariantCulture, $"\n    {(x.at - start).TotalSeconds:F2}s {x.tier} {x.method}");
            return s.ToString();
        }
    }
}
