using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>Median time of every analysis question on a store of N events (the import bench's realistic logs, <see cref="RealisticLogs"/>).</summary>
    public sealed class QueryBench : IBench
    {
        public string Name => "queries";
        public string Description => "median ms of each question on N events (default 1,000,000): queries [N] [runs=5]";

        public int Run(string[] args)
        {
            var n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
            var runs = args.Length > 1 ? int.Parse(args[1]) : 5;
            var folder = Path.Combine(Path.GetTempPath(), "madflog-bench-import");
            Directory.CreateDirectory(folder);
            var logs = ImportBench.EnsureLogs(folder, n);
            var db = Path.Combine(folder, $"queries-{RealisticLogs.Version}-{n}.db");
            if (!File.Exists(db)) new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { logs });

            using var c = MadfDatabase.Open(db, forWrite: false);
            var events = c.ExecuteScalar<long>("SELECT count(*) FROM events");
            var stories = Analysis.DistinctValues(c, "story_id", "");
            var all = new QueryFilter();
            var one = new QueryFilter { Stories = new[] { stories[stories.Count / 2] } };
            // One week in the middle of the store, from a midnight (UTC), as "-Since 2026-11-02 -Until 2026-11-09" gives.
            var (first, last) = c.QuerySingle<(long, long)>("SELECT min(timestamp), max(timestamp) FROM event_rows");
            var mid = DateTimeOffset.FromUnixTimeMilliseconds(first + (last - first) / 2).UtcDateTime.Date;
            var week = new QueryFilter { Since = new DateTimeOffset(mid.AddDays(-3), TimeSpan.Zero), Until = new DateTimeOffset(mid.AddDays(4), TimeSpan.Zero) };
            var questions = new List<(string, Func<object>)>
            {
                ("error summary (all)", () => Analysis.ErrorSummary(c, all)),
                ("error summary (1 story)", () => Analysis.ErrorSummary(c, one)),
                ("agent performance", () => Analysis.AgentPerformance(c, all)),
                ("bottlenecks", () => Analysis.Bottlenecks(c, all)),
                ("compare stories", () => Analysis.CompareStories(c, stories[0], stories[stories.Count - 1], all)),
                ("trend", () => Analysis.Trend(c, all)),
                ("human interactions", () => Analysis.HumanInteractions(c, all, 50)),
                ("tool failures", () => Analysis.ToolFailures(c, all)),
                ("sessions (1 story)", () => Analysis.Sessions(c, one)),
                ("context pressure", () => Analysis.ContextPressure(c, all, top: 50)),
                ("agent performance (1 week)", () => Analysis.AgentPerformance(c, week)),
                ("agent performance (1 story)", () => Analysis.AgentPerformance(c, one)),
                ("bottlenecks (1 week)", () => Analysis.Bottlenecks(c, week)),
                ("bottlenecks (1 story)", () => Analysis.Bottlenecks(c, one)),
                ("tool failures (1 story)", () => Analysis.ToolFailures(c, one)),
                ("tool failures (1 week)", () => Analysis.ToolFailures(c, week)),
                ("context pressure (1 week)", () => Analysis.ContextPressure(c, week, top: 50)),
                ("sessions (1 week)", () => Analysis.Sessions(c, week)),
                ("events (first 1000)", () => Analysis.Events(c, one, new Analysis.EventFilter { First = 1000 }).ToList()),
            };
            Console.WriteLine($"{events:N0} events, {stories.Count} stories; median of {runs} runs after one warm-up");
            Console.WriteLine($"{"question",-30} {"median ms",10} {"target",8}");
            foreach (var (name, q) in questions)
            {
                q();
                var times = Enumerable.Range(0, runs).Select(_ => { var sw = Stopwatch.StartNew(); q(); return sw.Elapsed.TotalMilliseconds; }).OrderBy(t => t).ToList();
                var median = times[times.Count / 2];
                Console.WriteLine($"{name,-30} {median,10:F0} {(median <= 50 ? "ok" : "> 50"),8}");
            }
            return 0;
        }
    }
}
