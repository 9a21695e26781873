using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Dapper;
using DuckDB.NET.Data;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;

// Usage: dotnet run -c Release --project bench/MadfLog.Bench.DuckDb [N] [only questions whose name contains this] [store] — uses
//        the store that `bench queries N` built, or another file of the same N events (e.g. a copy `bench import N FOLDER` made).
//        dotnet run -c Release --project bench/MadfLog.Bench.DuckDb import [N] — DuckDB's read_json_auto over the realistic
//        logs that `bench import N` generated (into a DuckDB file: seconds, peak memory, bytes per line), to set beside
//        that bench's MadfLog figures; run the two one after the other on the same machine.
if (args.Length > 0 && args[0] == "import") return ImportWithReadJsonAuto(args.Length > 1 ? int.Parse(args[1]) : 1_000_000);
var n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var db = args.Length > 2 ? Path.GetFullPath(args[2]) : Path.Combine(Path.GetTempPath(), "madflog-bench-import", $"queries-{MadfLog.Bench.RealisticLogs.Version}-{n}.db");
if (!File.Exists(db)) { Console.Error.WriteLine($"{db} is missing: run 'dotnet run -c Release --project bench/MadfLog.Bench -- queries {n}' first"); return 1; }

using var sqlite = MadfDatabase.Open(db, forWrite: false);
using var duck = new DuckDBConnection("DataSource=:memory:");
duck.Open();
using (var create = duck.CreateCommand())
{
    create.CommandText = @"CREATE TABLE events (id BIGINT, timestamp BIGINT, event_type VARCHAR, category VARCHAR, session_id VARCHAR, story_id VARCHAR, agent_name VARCHAR,
        duration_ms BIGINT, tokens_used BIGINT, context_percent DOUBLE, success INTEGER, pattern_id BIGINT, step VARCHAR)";
    create.ExecuteNonQuery();
}
var load = Stopwatch.StartNew();
using (var appender = duck.CreateAppender("events"))
{
    foreach (var r in sqlite.Query<(long id, long ts, string type, string cat, string? session, string? story, string? agent, long? dur, long? tok, double? ctx, long? ok, long? pattern, string? details)>(
                 "SELECT id, timestamp, event_type, category, session_id, story_id, agent_name, duration_ms, tokens_used, context_percent, success, pattern_id, details FROM events", buffered: false))
    {
        string? step = null;
        if (r.details != null && (r.type == "tool_call" || r.type == "step"))
        {
            using var doc = JsonDocument.Parse(r.details);
            if (doc.RootElement.TryGetProperty(r.type == "tool_call" ? "tool" : "step", out var s) && s.ValueKind == JsonValueKind.String) step = s.GetString();
        }
        step = r.type == "tool_call" ? step ?? "unknown" : r.type == "step" ? step ?? "step" : r.type;
        appender.CreateRow().AppendValue(r.id).AppendValue(r.ts).AppendValue(r.type).AppendValue(r.cat).AppendValue(r.session).AppendValue(r.story).AppendValue(r.agent)
            .AppendValue(r.dur).AppendValue(r.tok).AppendValue(r.ctx).AppendValue(r.ok.HasValue ? (int?)r.ok.Value : null).AppendValue(r.pattern).AppendValue(step).EndRow();
    }
}
Console.WriteLine($"loaded {n:N0} events into DuckDB in {load.Elapsed.TotalSeconds:F1}s (MadfLog answers from its own store: {db}; {MadfLog.Bench.EngineBuild.Describe()})");

var stories = Analysis.DistinctValues(sqlite, "story_id", "");
string a = stories[0], b = stories[stories.Count - 1];
const string err = "success = 0 AND category <> 'cascade'";
var all = new QueryFilter();
// The same filters as `bench queries`: one story (the middle one), one week from a midnight in the middle of the store,
// the same week from 13:00 to 13:00 (a window that cuts its first and last day), and from 13:27:42 (parts of hours at
// both ends, as -Since (Get-Date).AddDays(-7) gives).
var mid = stories[stories.Count / 2];
var (firstTs, lastTs) = sqlite.QuerySingle<(long, long)>("SELECT min(min_ts), max(max_ts) FROM event_blocks");
var midDay = DateTimeOffset.FromUnixTimeMilliseconds(firstTs + (lastTs - firstTs) / 2).UtcDateTime.Date;
var weekFilter = new QueryFilter { Since = new DateTimeOffset(midDay.AddDays(-3), TimeSpan.Zero), Until = new DateTimeOffset(midDay.AddDays(4), TimeSpan.Zero) };
var cutFilter = new QueryFilter { Since = weekFilter.Since.Value.AddHours(13), Until = weekFilter.Until.Value.AddHours(13) };
var minuteFilter = new QueryFilter { Since = cutFilter.Since.Value.AddMinutes(27).AddSeconds(42), Until = cutFilter.Until.Value.AddMinutes(27).AddSeconds(42) };
string Window(QueryFilter f) => $"timestamp >= {f.Since!.Value.ToUnixTimeMilliseconds()} AND timestamp < {f.Until!.Value.ToUnixTimeMilliseconds()}";
var filters = new (string name, QueryFilter f, string where)[]
{
    ("", all, "TRUE"), (" (1 story)", new QueryFilter { Stories = new[] { mid } }, $"story_id = '{mid}'"),
    (" (1 week)", weekFilter, Window(weekFilter)), (" (1 week, 13:00)", cutFilter, Window(cutFilter)),
    (" (1 week, 13:27:42)", minuteFilter, Window(minuteFilter)),
};
var questions = new List<(string name, Func<object> madf, string duckSql)>();
foreach (var (fname, f, w) in filters)
{
    questions.Add(("error summary" + fname, () => Analysis.ErrorSummary(sqlite, f), $"SELECT pattern_id, count(*) n, list(DISTINCT agent_name), list(DISTINCT story_id), min(timestamp), max(timestamp) FROM events WHERE {err} AND {w} GROUP BY pattern_id ORDER BY n DESC LIMIT 20"));
    questions.Add(("agent performance" + fname, () => Analysis.AgentPerformance(sqlite, f), $"SELECT agent_name, count(*), avg(success), median(duration_ms), quantile_disc(duration_ms, 0.95), sum(tokens_used), avg(CASE WHEN context_percent > 80 THEN 1.0 ELSE 0 END) FROM events WHERE {w} GROUP BY 1"));
    questions.Add(("bottlenecks" + fname, () => Analysis.Bottlenecks(sqlite, f), $"SELECT event_type, step, count(duration_ms), sum(duration_ms) t, quantile_disc(duration_ms, 0.95) FROM events WHERE {w} GROUP BY 1, 2 ORDER BY t DESC LIMIT 10"));
    questions.Add(("trend" + fname, () => Analysis.Trend(sqlite, f), $"SELECT story_id, count(*), sum(CASE WHEN {err} THEN 1 ELSE 0 END), sum(CASE WHEN k > 1 THEN 1 ELSE 0 END) FROM (SELECT *, CASE WHEN pattern_id IS NOT NULL AND {err} THEN row_number() OVER (PARTITION BY pattern_id ORDER BY timestamp) END k FROM events) WHERE {w} GROUP BY 1"));
    questions.Add(("human interactions" + fname, () => Analysis.HumanInteractions(sqlite, f, 50), $"SELECT category, agent_name, story_id, count(*) n FROM events WHERE event_type = 'human_interaction' AND {w} GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 50"));
    questions.Add(("tool failures" + fname, () => Analysis.ToolFailures(sqlite, f), $"SELECT step, agent_name, count(*), sum(CASE WHEN {err} THEN 1 ELSE 0 END) FROM events WHERE event_type = 'tool_call' AND {w} GROUP BY 1, 2"));
    questions.Add(("sessions" + fname, () => Analysis.Sessions(sqlite, f), $"SELECT session_id, max(story_id), list(DISTINCT agent_name), min(timestamp) s, max(timestamp), count(*), sum(CASE WHEN {err} THEN 1 ELSE 0 END), sum(tokens_used), max(context_percent), sum(CASE WHEN event_type = 'human_interaction' THEN 1 ELSE 0 END) FROM events WHERE session_id IS NOT NULL AND {w} GROUP BY 1 ORDER BY s, 1"));
    questions.Add(("context pressure" + fname, () => Analysis.ContextPressure(sqlite, f, top: 50), $"SELECT session_id, agent_name, max(context_percent) m, sum(CASE WHEN context_percent > 80 THEN 1 ELSE 0 END) FROM events WHERE session_id IS NOT NULL AND context_percent IS NOT NULL AND {w} GROUP BY 1, 2 HAVING m > 80 ORDER BY m DESC LIMIT 50"));
    // The top patterns' counts by story and by agent (DuckDB holds no details, so no examples).
    questions.Add(("error patterns" + fname, () => PatternAnalysis.ErrorPatterns(sqlite, f), $@"WITH top AS (SELECT pattern_id FROM events WHERE {err} AND pattern_id IS NOT NULL AND {w} GROUP BY 1 ORDER BY count(*) DESC LIMIT 20)
        SELECT pattern_id, story_id, agent_name, count(*) FROM events WHERE {err} AND {w} AND pattern_id IN (SELECT pattern_id FROM top) GROUP BY GROUPING SETS ((1, 2), (1, 3))"));
    // Retry runs (consecutive errors of one pattern in a session) and the three steps before each error, by window functions.
    questions.Add(("error sequences" + fname, () => PatternAnalysis.ErrorSequences(sqlite, f), $@"WITH errs AS (SELECT session_id, pattern_id, timestamp, id FROM events WHERE session_id IS NOT NULL AND event_type <> 'llm_call' AND {err} AND {w}),
        r AS (SELECT *, CASE WHEN pattern_id IS NOT NULL AND pattern_id = lag(pattern_id) OVER (PARTITION BY session_id ORDER BY timestamp, id) THEN 0 ELSE 1 END brk FROM errs),
        g AS (SELECT *, sum(brk) OVER (PARTITION BY session_id ORDER BY timestamp, id) run FROM r),
        runs AS (SELECT session_id, pattern_id, run, count(*) len FROM g WHERE pattern_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) >= 2)
        SELECT pattern_id, count(*), sum(len - 1) rep, max(len), count(DISTINCT session_id) FROM runs GROUP BY 1 ORDER BY rep DESC LIMIT 20
        ;
        SELECT concat_ws(' > ', s3, s2, s1, step) k, count(*) n, count(DISTINCT session_id) FROM (
            SELECT *, lag(step, 1) OVER w s1, lag(step, 2) OVER w s2, lag(step, 3) OVER w s3 FROM events
            WHERE session_id IS NOT NULL AND event_type <> 'llm_call' AND {w} WINDOW w AS (PARTITION BY session_id ORDER BY timestamp, id))
        WHERE {err} AND s3 IS NOT NULL GROUP BY 1 HAVING count(*) >= 3 ORDER BY n DESC LIMIT 20"));
    questions.Add(("events, first 1000" + fname, () => Analysis.Events(sqlite, f, new Analysis.EventFilter { First = 1000 }).ToList(), $"SELECT * FROM events WHERE {w} ORDER BY timestamp, id LIMIT 1000"));
}
questions.Add(("compare stories", () => Analysis.CompareStories(sqlite, a, b, all), $"SELECT story_id, count(*), sum(CASE WHEN {err} THEN 1 ELSE 0 END), sum(tokens_used), sum(CASE WHEN event_type = 'human_interaction' THEN 1 ELSE 0 END) FROM events WHERE story_id IN ('{a}', '{b}') GROUP BY 1"));
questions.Add(("storage (events by month)", () => MadfLog.Engine.Lifecycle.StorageReport.Get(db), "SELECT strftime(make_timestamp(timestamp * 1000), '%Y-%m'), count(*) FROM events GROUP BY 1"));
var only = args.Length > 1 ? args[1] : null;

var asked = questions.Where(q => only == null || q.name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
// A question may take several statements (separated by a line holding ';'), timed together.
void Duck(string sql)
{
    foreach (var statement in sql.Split("\n        ;\n"))
    {
        using var cmd = duck.CreateCommand(); cmd.CommandText = statement; using var rd = cmd.ExecuteReader(); while (rd.Read()) { }
    }
}
// Every question once on both sides before any is timed: the process's first calls (code not yet optimized, pages not
// yet read) are then nobody's, where they were charged to whichever question was listed first.
foreach (var (_, madf, sql) in asked) { madf(); Duck(sql); }
double Median(Action run) { run(); var t = Enumerable.Range(0, 5).Select(_ => { var sw = Stopwatch.StartNew(); run(); return sw.Elapsed.TotalMilliseconds; }).OrderBy(x => x).ToList(); return t[2]; }
Console.WriteLine($"{"question",-36} {"MadfLog ms",11} {"DuckDB ms",10} {"DuckDB/MadfLog",15}");
foreach (var (name, madf, sql) in asked)
{
    var m = Median(() => madf());
    var d = Median(() => Duck(sql));
    Console.WriteLine($"{name,-36} {m,11:F1} {d,10:F1} {d / Math.Max(m, 0.01),15:F1}x");
}
return 0;

static int ImportWithReadJsonAuto(int n)
{
    var folder = Path.Combine(Path.GetTempPath(), "madflog-bench-import");
    var logs = Path.Combine(folder, $"{MadfLog.Bench.RealisticLogs.Version}-{n}");
    if (!File.Exists(logs + ".complete")) { Console.Error.WriteLine($"{logs} is missing: run 'dotnet run -c Release --project bench/MadfLog.Bench -- import {n}' first"); return 1; }
    var file = Path.Combine(folder, $"duckdb-{n}.duckdb");
    foreach (var f in new[] { file, file + ".wal" }) if (File.Exists(f)) File.Delete(f);
    var sw = Stopwatch.StartNew();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    long lines;
    using (var duck = new DuckDBConnection("DataSource=" + file))
    {
        duck.Open();
        using var cmd = duck.CreateCommand();
        // The two inputs have different fields: one table each, as read_json_auto infers them.
        cmd.CommandText = $@"CREATE TABLE madf AS SELECT * FROM read_json_auto('{logs}/madf/*.jsonl');
            CREATE TABLE transcripts AS SELECT * FROM read_json_auto('{logs}/claude/**/*.jsonl', union_by_name = true);
            CHECKPOINT;";
        cmd.ExecuteNonQuery();
        cmd.CommandText = "SELECT (SELECT count(*) FROM madf) + (SELECT count(*) FROM transcripts)";
        lines = Convert.ToInt64(cmd.ExecuteScalar());
    }
    sw.Stop();
    var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    var size = new FileInfo(file).Length;
    Console.WriteLine($"{"tool",-24} {"lines",10} {"seconds",8} {"lines/s",10} {"peak MB",8} {"db MB",7} {"bytes/line",10}");
    Console.WriteLine($"{"DuckDB read_json_auto",-24} {lines,10:N0} {sw.Elapsed.TotalSeconds,8:F2} {lines / sw.Elapsed.TotalSeconds,10:N0} {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0,8:F0} {size / 1048576.0,7:F0} {(double)size / lines,10:F0}");
    Console.WriteLine($"  (CPU {used:F2} s; no dedup, no summaries, details kept as DuckDB infers them; a transcript line is about one event)");
    return 0;
}
