using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Time per named step of one thread (the import's writer), summed over the run: a reading per step, not per row, so
    /// it costs nothing measurable. On Linux it reads the thread's CPU time (what a step costs, also on a busy machine
    /// where wall time mostly measures waiting for a core); elsewhere wall time. Import.ImportResult.WriterSteps
    /// reports it.
    /// </summary>
    public sealed class StepClock
    {
        private readonly Dictionary<string, long> _ticks = new Dictionary<string, long>(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        private long _since, _allocatedSince;

        public StepClock() { _since = Now(); _allocatedSince = AllocatedBytes(); }

        /// <summary>True when the steps are the thread's CPU time (Linux), false when wall time.</summary>
        public static bool ThreadCpu { get; } = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && TryThreadCpu(out _);

        /// <summary>The calling thread's CPU time so far in seconds (Linux), or null where it cannot be read.</summary>
        public static double? CurrentThreadCpuSeconds() => ThreadCpu && TryThreadCpu(out var ns) ? ns / 1e9 : (double?)null;

        /// <summary>Starts timing from now (the time before is nobody's).</summary>
        public void Start() { _since = Now(); _allocatedSince = AllocatedBytes(); }

        /// <summary>Adds the time since the last call (or <see cref="Start"/>) to <paramref name="step"/>.</summary>
        public void Lap(string step)
        {
            var now = Now();
            _ticks[step] = (_ticks.TryGetValue(step, out var t) ? t : 0) + (now - _since);
            _since = now;
            var allocated = AllocatedBytes();
            _bytes[step] = (_bytes.TryGetValue(step, out var b) ? b : 0) + (allocated - _allocatedSince);
            _allocatedSince = allocated;
        }

        /// <summary>Bytes allocated per step (0 where the runtime cannot tell a thread's allocations).</summary>
        public void CopyAllocationsTo(Dictionary<string, long> into)
        {
            foreach (var kv in _bytes) into[kv.Key] = kv.Value;
        }

        // GC.GetAllocatedBytesForCurrentThread, which netstandard2.0 does not name: found once at run time (.NET Core 3+).
        private static readonly Func<long>? ThreadAllocations = typeof(GC).GetMethod("GetAllocatedBytesForCurrentThread", Type.EmptyTypes) is { } m
            ? (Func<long>)Delegate.CreateDelegate(typeof(Func<long>), m) : null;

        /// <summary>Bytes the collector has handed the calling thread so far (0 where the runtime cannot tell).</summary>
        public static long AllocatedBytes() => ThreadAllocations?.Invoke() ?? 0;

        /// <summary>Seconds per step.</summary>
        public void CopyTo(Dictionary<string, double> into)
        {
            var perSecond = ThreadCpu ? 1e9 : Stopwatch.Frequency;
            foreach (var kv in _ticks) into[kv.Key] = Math.Round(kv.Value / perSecond, 2);
        }

        private static long Now() => ThreadCpu && TryThreadCpu(out var ns) ? ns : Stopwatch.GetTimestamp();

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec { public long Seconds; public long Nanoseconds; }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

        private static bool TryThreadCpu(out long nanoseconds)
        {
            nanoseconds = 0;
            try
            {
                if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) return false;
                nanoseconds = t.Seconds * 1_000_000_000 + t.Nanoseconds;
                return true;
            }
            catch (DllNotFoundException) { return false; }
            catch (EntryPointNotFoundException) { return false; }
        }
    }
}
