using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>
    /// -IncludeArchive on a store with archived months: the first call (building the combined store of active and archived
    /// events), a repeated call (the cache reused), and questions with and without the archives, each opened as a cmdlet does.
    /// </summary>
    public sealed class ArchiveBench : IBench
    {
        public string Name => "archive";
        public string Description => "-IncludeArchive on a copy of a store: archive STORE [runs=5] [days kept: half its span]; rotates the copy once (archive beside it), then times the first call after it (the combined store the rotation carried), a build with no cache, a repeated call and questions with and without the archives";

        public int Run(string[] args)
        {
            if (args.Length == 0) { Console.Error.WriteLine("usage: archive STORE [runs] [days]: STORE is rotated in place, so pass a copy"); return 64; }
            var db = Path.GetFullPath(args[0]);
            var runs = args.Length > 1 ? int.Parse(args[1]) : 5;
            var archive = db + "-archive";
            using (var c = MadfDatabase.Open(db))
            {
                if (CombinedStore.Archives(c).Count == 0)
                {
                    var (first, last) = c.QuerySingle<(long, long)>("SELECT min(min_ts), max(max_ts) FROM event_blocks");
                    var now = new DateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(last).UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
                    var days = args.Length > 2 ? int.Parse(args[2]) : (int)((now.ToUnixTimeMilliseconds() - (first + (last - first) / 2)) / 86_400_000);
                    RotationResult? r = null;
                    var (rotationWall, rotationCpu) = Measure(() => r = new Rotation(new RotationOptions { DatabasePath = db, LogPaths = Array.Empty<string>(), ArchivePath = archive, RetentionDays = days, Now = now }).Run());
                    Console.WriteLine($"rotation ({days} days kept on {now:yyyy-MM-dd}): moved {r!.EventsMoved:N0} events in {rotationWall / 1000:F1} s wall, {rotationCpu / 1000:F1} s CPU");
                }
                var archives = CombinedStore.Archives(c);
                Console.WriteLine($"active: {EventStorage.Count(c):N0} events, {Rotation.DatabaseBytes(db) / 1048576.0:F0} MB; archived: {archives.Sum(a => a.Events):N0} events in {archives.Count} files ({string.Join(", ", archives.Select(a => a.Period))}), {archives.Sum(a => new FileInfo(a.ArchivePath).Length) / 1048576.0:F0} MB");
            }

            // The first call after the rotation: the combined store the rotation carried across the move, when it rotated the
            // store here (a store rotated before, or by an older build, has none: this call builds it).
            var (carriedWall, carriedCpu) = Measure(() => MadfStore.OpenWithArchives(db).Dispose());
            Console.WriteLine($"first -IncludeArchive call after the rotation (the combined store it carried): {carriedWall:F0} ms wall, {carriedCpu:F0} ms CPU");
            CombinedStore.Remove(archive);
            // The parts of a build, timed apart (the build MadfStore.OpenWithArchives does, on a fresh cache).
            using (var c = MadfDatabase.Open(db, forWrite: false))
            {
                var clock = Stopwatch.StartNew();
                CombinedStore.Prepare(c, db, CombinedStore.Archives(c), part => { Console.WriteLine($"  {part}: {clock.Elapsed.TotalSeconds:F1} s"); clock.Restart(); });
            }
            CombinedStore.Remove(archive);
            var (wall, cpu) = Measure(() => MadfStore.OpenWithArchives(db).Dispose());
            Console.WriteLine($"-IncludeArchive call with no cache (builds the combined store): {wall / 1000:F1} s wall, {cpu / 1000:F1} s CPU; cache {CombinedStore.Bytes(archive) / 1048576.0:F0} MB in {CombinedStore.Folder(archive)}");
            var repeated = Enumerable.Range(0, runs).Select(_ => Measure(() => MadfStore.OpenWithArchives(db).Dispose())).ToList();
            Console.WriteLine($"repeated call (cache reused; opening only): median {Median(repeated.Select(x => x.wall))} ms wall, {Median(repeated.Select(x => x.cpu))} ms CPU");
            AfterChanges(db);

            QueryFilter all = new QueryFilter(), story, week;
            using (var s = MadfStore.OpenWithArchives(db))
            {
                var stories = s.KnownNames("story_id");
                story = new QueryFilter { Stories = new[] { stories[0] } };
                var oldest = s.Events(all, new Analysis.EventFilter { First = 1 }).First().Timestamp.Date;
                week = new QueryFilter { Since = new DateTimeOffset(oldest.AddDays(7), TimeSpan.Zero), Until = new DateTimeOffset(oldest.AddDays(14), TimeSpan.Zero) };
            }
            var questions = new (string name, Func<MadfStore, object> ask)[]
            {
                ("error summary (all)", s => s.ErrorSummary(all, 20)),
                ("agent performance (1 week, archived)", s => s.AgentPerformance(week)),
                ("bottlenecks (1 story)", s => s.Bottlenecks(story, 10)),
                ("sessions (1 story)", s => s.Sessions(story, null)),
                ("error sequences (all)", s => s.ErrorSequences(all, 20, 3, null)),
                ("events, first 1000 (all)", s => s.Events(all, new Analysis.EventFilter { First = 1000 }).ToList()),
            };
            Console.WriteLine($"{"question (a store opened per run, as a cmdlet)",-48} {"active ms",10} {"+archive ms",12} {"cpu ms",8}");
            foreach (var (name, ask) in questions)
            {
                var active = Enumerable.Range(0, runs).Select(_ => Measure(() => { using var s = MadfStore.OpenRead(db); ask(s); })).ToList();
                var with = Enumerable.Range(0, runs).Select(_ => Measure(() => { using var s = MadfStore.OpenWithArchives(db); ask(s); })).ToList();
                Console.WriteLine($"{name,-48} {Median(active.Select(x => x.wall)),10} {Median(with.Select(x => x.wall)),12} {Median(with.Select(x => x.cpu)),8}");
            }
            return 0;
        }

        // A call after each everyday change to the active store (the combined store brought up to date, not built again):
        // an import of new events, review flags, a created rule, two patterns merged.
        private static void AfterChanges(string db)
        {
            long last;
            using (var c = MadfDatabase.Open(db, forWrite: false)) last = c.ExecuteScalar<long>("SELECT max(max_ts) FROM event_blocks");
            var logs = Path.Combine(Path.GetTempPath(), "madflog-archive-bench-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                var start = DateTimeOffset.FromUnixTimeMilliseconds(last).AddHours(1);
                var files = TestSupport.SampleLogGenerator.WriteDailyFiles(new TestSupport.SampleLogGenerator(new TestSupport.SampleOptions
                    { Seed = 11, Stories = new[] { "bench-new" }, DaysPerStory = 1, SessionsPerAgentPerDay = 1, StepsPerSession = 40, Start = start }).Generate(), logs);
                var imported = new Engine.Import.LogImporter(new Engine.Import.ImportOptions { DatabasePath = db }).Import(files).Imported;
                Report($"call after importing {imported:N0} new events", db);
            }
            finally { Directory.Delete(logs, recursive: true); }
            void Change(string what, Action<Microsoft.Data.Sqlite.SqliteConnection, Microsoft.Data.Sqlite.SqliteTransaction> change)
            {
                using (var c = MadfDatabase.Open(db))
                using (var tx = c.BeginTransaction()) { change(c, tx); tx.Commit(); }
                Report("call after " + what, db);
            }
            List<long> ids;
            using (var c = MadfDatabase.Open(db, forWrite: false)) ids = c.Query<long>("SELECT id FROM event_rows ORDER BY id DESC LIMIT 100").ToList();
            Change("review flags on 100 events", (c, tx) => EventStorage.SetNeedsReview(c, tx, "id IN @ids", true, new { ids }));
            Change("a rule created from 100 events", (c, tx) => EventStorage.SetCreatedRule(c, tx, "id IN @ids", new { Id = 1L, ids }));
            Change("two patterns merged", (c, tx) =>
            {
                var two = c.Query<long>("SELECT id FROM patterns WHERE merged_into IS NULL AND event_count > 0 ORDER BY event_count, id LIMIT 2", transaction: tx).ToList();
                if (two.Count == 2) Engine.Patterns.PatternStore.MergeInto(c, tx, two[0], two[1], Engine.Rules.RuleStore.MovePattern);
            });
        }

        // One -IncludeArchive call, timed, with the parts of bringing the combined store up to date.
        private static void Report(string what, string db)
        {
            var parts = new List<string>();
            var (wall, cpu) = Measure(() =>
            {
                using var c = MadfDatabase.Open(db, forWrite: false);
                var clock = Stopwatch.StartNew();
                CombinedStore.Prepare(c, db, CombinedStore.Archives(c), part => { parts.Add($"{part} {clock.Elapsed.TotalMilliseconds:F0} ms"); clock.Restart(); });
            });
            Console.WriteLine($"{what}: {wall:F0} ms wall, {cpu:F0} ms CPU ({string.Join("; ", parts)})");
        }

        // Wall and process CPU milliseconds of one run.
        private static (double wall, double cpu) Measure(Action run)
        {
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run();
            var wall = sw.Elapsed.TotalMilliseconds;
            process.Refresh();
            return (wall, (process.TotalProcessorTime - cpu0).TotalMilliseconds);
        }

        private static string Median(IEnumerable<double> values)
        {
            var sorted = values.OrderBy(v => v).ToList();
            return sorted[sorted.Count / 2].ToString("F0", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
