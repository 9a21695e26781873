using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Linq;

namespace MadfLog.Bench
{
    /// <summary>
    /// What an import allocates, by type, and what the JIT compiles, by class: the runtime's allocation ticks (one about
    /// every 100 KB allocated, naming the type of the object that crossed it) and method loads, counted in this process
    /// while it runs. Enabled by MADFLOG_BENCH_ALLOCATIONS=1 (the events cost some CPU: not for timed runs).
    /// </summary>
    internal sealed class AllocationSampler : EventListener
    {
        private const EventKeywords Gc = (EventKeywords)0x1, Jit = (EventKeywords)0x10;
        private readonly Dictionary<string, long> _bytes = new Dictionary<string, long>();
        // The large object heap's share (AllocationKind 1): freed only by a gen2 collection, so what is allocated there
        // again and again stays in the heap until the next one.
        private readonly Dictionary<string, long> _large = new Dictionary<string, long>();
        private readonly Dictionary<string, long> _methods = new Dictionary<string, long>();
        // JIT time by class and tier: a method's MethodJittingStarted to its MethodLoadVerbose on the same thread.
        private readonly Dictionary<string, double> _jitMs = new Dictionary<string, double>();
        private readonly Dictionary<string, double> _jitTierMs = new Dictionary<string, double>();
        private readonly Dictionary<(long, ulong), DateTime> _jitting = new Dictionary<(long, ulong), DateTime>();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, Gc | Jit);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName == null || e.PayloadNames == null || e.Payload == null) return;
            if (e.EventName.StartsWith("MethodJittingStarted", StringComparison.Ordinal))
                lock (_jitting) _jitting[(e.OSThreadId, Convert.ToUInt64(e.Payload[e.PayloadNames.IndexOf("MethodID")]))] = e.TimeStamp;
            else if (e.EventName.StartsWith("MethodLoadVerbose", StringComparison.Ordinal))
            {
                var ns = e.Payload[e.PayloadNames.IndexOf("MethodNamespace")] as string ?? "?";
                Count(_methods, ns, 1);
                var id = Convert.ToUInt64(e.Payload[e.PayloadNames.IndexOf("MethodID")]);
                var flags = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("MethodFlags")]);
                DateTime started;
                bool had;
                lock (_jitting) { had = _jitting.TryGetValue((e.OSThreadId, id), out started); _jitting.Remove((e.OSThreadId, id)); }
                if (had)
                {
                    var ms = (e.TimeStamp - started).TotalMilliseconds;
                    lock (_jitMs)
                    {
                        _jitMs[ns] = (_jitMs.TryGetValue(ns, out var a) ? a : 0) + ms;
                        var tier = "tier " + TieringSampler.TierOf(flags) + ((flags & 1) != 0 ? " dynamic" : "");
                        _jitTierMs[tier] = (_jitTierMs.TryGetValue(tier, out var b) ? b : 0) + ms;
                    }
                }
            }
            else if (e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
            {
                var type = e.Payload[e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
                var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount")]);
                Count(_bytes, type, amount);
                var kind = e.PayloadNames.IndexOf("AllocationKind");
                if (kind >= 0 && Convert.ToInt64(e.Payload[kind]) == 1) Count(_large, type, amount);
            }
        }

        private static void Count(Dictionary<string, long> into, string key, long n)
        {
            lock (into) into[key] = (into.TryGetValue(key, out var had) ? had : 0) + n;
        }

        public string Report(int n)
        {
            lock (_bytes)
                lock (_methods)
                {
                    var total = Math.Max(1, _bytes.Values.Sum());
                    return $"  (allocated, by type, sampled every ~100 KB:\n" +
                        string.Join("\n", _bytes.OrderByDescending(kv => kv.Value).Take(n).Select(kv => $"    {kv.Value / 1048576.0,8:F0} MB {100.0 * kv.Value / total,5:F1}%  {kv.Key}")) +
                        $")\n  (of it in the large object heap, {_large.Values.Sum() / 1048576.0:F0} MB:\n" +
                        string.Join("\n", _large.OrderByDescending(kv => kv.Value).Take(n).Select(kv => $"    {kv.Value / 1048576.0,8:F0} MB  {kv.Key}")) +
                        $")\n  (methods compiled: {_methods.Values.Sum():N0}; by class:\n" +
                        string.Join("\n", _methods.OrderByDescending(kv => kv.Value).Take(n).Select(kv => $"    {kv.Value,6}  {kv.Key}")) + ")" +
                        $"\n  (JIT ms by tier: {string.Join(", ", _jitTierMs.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F0}"))}; by class, of {_jitMs.Values.Sum():F0}:\n" +
                        string.Join("\n", _jitMs.OrderByDescending(kv => kv.Value).Take(2 * n).Select(kv => $"    {kv.Value,8:F0}  {kv.Key}")) + ")";
                }
        }
    }
}
