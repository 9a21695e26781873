using System;
using System.IO;
using System.Threading;

namespace MadfLog.Bench
{
    /// <summary>
    /// What the peak working set is made of, sampled every 200 ms while an import runs: the process's anonymous and
    /// file-backed resident memory (/proc/self/status; Linux only), the collector's committed memory and heap, and
    /// SQLite's own allocations (its page cache among them). Printed for the sample with the largest resident set.
    /// </summary>
    internal sealed class MemorySampler : IDisposable
    {
        private readonly Timer _timer;
        private long _rss, _anon, _file, _gcCommitted, _gcHeap, _sqlite;
        private long _maxGcCommitted, _maxSqlite;
        // At the largest sample: each generation's size after the last collection (0, 1, 2, large objects, pinned) and its
        // free space, and what survived the last full collection (the live heap then, in gen2 and the large objects).
        private readonly long[] _generations = new long[5], _fragmentation = new long[5];
        private long _fullSurvived, _fullHeap, _fullIndex;

        public MemorySampler()
        {
            SQLitePCL.Batteries_V2.Init(); // as Microsoft.Data.Sqlite does on its first connection
            _timer = new Timer(_ => Sample(), null, 0, 200);
        }

        private void Sample()
        {
            long rss = 0, anon = 0, file = 0;
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                    else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line);
                    else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kb(line);
                }
            }
            catch (IOException) { return; }
            var info = GC.GetGCMemoryInfo();
            var sqlite = SQLitePCL.raw.sqlite3_memory_used();
            lock (this)
            {
                _maxGcCommitted = Math.Max(_maxGcCommitted, info.TotalCommittedBytes);
                _maxSqlite = Math.Max(_maxSqlite, sqlite);
                if (rss < _rss) return;
                _rss = rss; _anon = anon; _file = file;
                _gcCommitted = info.TotalCommittedBytes; _gcHeap = info.HeapSizeBytes; _sqlite = sqlite;
                var generations = info.GenerationInfo;
                for (var g = 0; g < _generations.Length && g < generations.Length; g++)
                {
                    _generations[g] = generations[g].SizeAfterBytes;
                    _fragmentation[g] = generations[g].FragmentationAfterBytes;
                }
                var full = LastFull();
                _fullSurvived = full.PromotedBytes; _fullHeap = full.HeapSizeBytes; _fullIndex = full.Index;
            }
        }

        // The newer of the last blocking and the last background gen2 collection.
        private static GCMemoryInfo LastFull()
        {
            var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            var background = GC.GetGCMemoryInfo(GCKind.Background);
            return blocking.Index >= background.Index ? blocking : background;
        }

        private static long Kb(string line) =>
            long.Parse(line.Substring(line.IndexOf(':') + 1).Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;

        public string Report()
        {
            Sample();
            lock (this)
                return $"  (memory at the largest sampled resident set, MB: resident {Mb(_rss)} = anonymous {Mb(_anon)} + files {Mb(_file)}; " +
                    $"the collector's committed {Mb(_gcCommitted)} (heap after its last collection {Mb(_gcHeap)}), SQLite's allocations {Mb(_sqlite)}; " +
                    $"largest sampled: committed {Mb(_maxGcCommitted)}, SQLite {Mb(_maxSqlite)})\n" +
                    $"  (the collector's heap there by generation after its last collection, MB (free space in it): gen0 {Mb(_generations[0])} ({Mb(_fragmentation[0])}), " +
                    $"gen1 {Mb(_generations[1])} ({Mb(_fragmentation[1])}), gen2 {Mb(_generations[2])} ({Mb(_fragmentation[2])}), large objects {Mb(_generations[3])} ({Mb(_fragmentation[3])}), " +
                    $"pinned {Mb(_generations[4])}; its last full collection (#{_fullIndex}) left {Mb(_fullHeap)}, of it {Mb(_fullSurvived)} surviving)";
        }

        private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0", System.Globalization.CultureInfo.InvariantCulture);

        public void Dispose() => _timer.Dispose();
    }
}
