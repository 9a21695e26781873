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
            }
        }

        private static long Kb(string line) =>
            long.Parse(line.Substring(line.IndexOf(':') + 1).Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;

        public string Report()
        {
            Sample();
            lock (this)
                return $"  (memory at the largest sampled resident set, MB: resident {Mb(_rss)} = anonymous {Mb(_anon)} + files {Mb(_file)}; " +
                    $"the collector's committed {Mb(_gcCommitted)} (heap after its last collection {Mb(_gcHeap)}), SQLite's allocations {Mb(_sqlite)}; " +
                    $"largest sampled: committed {Mb(_maxGcCommitted)}, SQLite {Mb(_maxSqlite)})";
        }

        private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0", System.Globalization.CultureInfo.InvariantCulture);

        public void Dispose() => _timer.Dispose();
    }
}
