using System;
using System.Reflection;
using System.Runtime;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Keeps a long import's memory flat in its size (docs/storage.md, "Where the import's memory goes"): what made the
    /// peak grow from 1M to 10M events was not live data but free space the collector left in gen2 and the large object
    /// heap (13-31 MB at 1M, 81-83 MB at 10M), which it does not compact on its own. After a commit, when the last
    /// collection found more than a quarter of the heap free (and at least <see cref="MinimumFreeBytes"/>), one blocking
    /// collection compacts both; a small import never reaches that, a large one pays a collection now and then.
    /// Only on runtimes that report the heap's free space (.NET Core 3 and later: PowerShell 7); elsewhere it does nothing.
    /// </summary>
    internal static class HeapCompaction
    {
        /// <summary>Below this much free space a compaction gives back too little to be worth its pause (a 1M-event import
        /// peaks at 13-58 MB free and pays nothing; 60-100 ms a compaction at 10M, a few times).</summary>
        internal const long MinimumFreeBytes = 64L << 20;

        // GC.GetGCMemoryInfo, which netstandard2.0 does not name: found once at run time.
        private static readonly MethodInfo? MemoryInfo = typeof(GC).GetMethod("GetGCMemoryInfo", Type.EmptyTypes);
        private static readonly PropertyInfo? Fragmented = MemoryInfo?.ReturnType.GetProperty("FragmentedBytes");
        private static readonly PropertyInfo? HeapSize = MemoryInfo?.ReturnType.GetProperty("HeapSizeBytes");

        /// <summary>The collector's free space and heap size at its last collection, or null where the runtime cannot tell.</summary>
        internal static (long free, long heap)? LastCollection()
        {
            if (MemoryInfo == null || Fragmented == null || HeapSize == null) return null;
            var info = MemoryInfo.Invoke(null, null);
            return ((long)Fragmented.GetValue(info)!, (long)HeapSize.GetValue(info)!);
        }

        /// <summary>Whether a heap with this much free space is worth compacting.</summary>
        internal static bool Worth(long free, long heap) => free >= MinimumFreeBytes && free * 4 > heap;

        /// <summary>Compacts gen2 and the large object heap when the last collection left them fragmented; true when it did.</summary>
        internal static bool CompactIfFragmented()
        {
            var last = LastCollection();
            if (last == null || !Worth(last.Value.free, last.Value.heap)) return false;
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            return true;
        }
    }
}
