using System;
using System.Diagnostics;
using System.IO;
using Dapper;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>
    /// The dedup keys alone at scale (Store/EventKeys): N random keys added in transactions of C, as an import of N events
    /// adds them, with the time to look them up (add), to write them (flush) and to commit, every tenth of the way.
    /// </summary>
    public sealed class KeysBench : IBench
    {
        public string Name => "keys";
        public string Description => "dedup keys alone: N random keys in commits of C (default 10,000,000 and 200,000): keys [N] [C]";

        public int Run(string[] args)
        {
            var n = args.Length > 0 ? int.Parse(args[0]) : 10_000_000;
            var per = args.Length > 1 ? int.Parse(args[1]) : 200_000;
            var folder = Path.Combine(Path.GetTempPath(), "madflog-bench-keys");
            Directory.CreateDirectory(folder);
            var db = Path.Combine(folder, "keys.db");
            foreach (var f in new[] { db, db + "-wal", db + "-shm" }) if (File.Exists(f)) File.Delete(f);
            using var c = MadfDatabase.Open(db);
            using var keys = new EventKeys(c); // across transactions, as the importer keeps it
            var random = new Random(1);
            var month = EventKeys.MonthOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var total = Stopwatch.StartNew();
            double add = 0, flush = 0, commit = 0;
            Console.WriteLine($"{"keys",12} {"add s",7} {"flush s",8} {"commit s",9}   (since the previous line)");
            for (var done = 0; done < n; )
            {
                var count = Math.Min(per, n - done);
                var sw = Stopwatch.StartNew();
                using (var tx = c.BeginTransaction())
                {
                    for (var i = 0; i < count; i++) keys.Add(random.NextInt64(long.MinValue, long.MaxValue), month);
                    add += sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    keys.Flush();
                    flush += sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    // The events an import would have written with them (event_rows' AUTOINCREMENT count, which EventKeys reads).
                    c.Execute("DELETE FROM sqlite_sequence WHERE name = 'event_rows'; INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', @seq)", new { seq = done + count }, tx);
                    tx.Commit();
                    commit += sw.Elapsed.TotalSeconds;
                }
                var before = done;
                done += count;
                if (done / (n / 10) != before / (n / 10) || done == n)
                {
                    Console.WriteLine($"{done,12:N0} {add,7:F2} {flush,8:F2} {commit,9:F2}");
                    add = flush = commit = 0;
                }
            }
            var size = new FileInfo(db).Length;
            Console.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s, {size / 1048576.0:F0} MB ({(double)size / n:F1} bytes/key), peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB");
            return 0;
        }
    }
}
