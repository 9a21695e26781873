using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Where time goes: steps, tools and workflows by total time, with percentiles and outliers.</summary>
    internal static class BottlenecksQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        private static readonly string Wasted = TimeWasted.Sql("e.success", "e.duration_ms", "e.time_saved_or_wasted_ms");

        // The columns of a part's day_rollup row (DayParts.DayRollupColumns) the question sums.
        private static readonly int PartEventType = Array.IndexOf(DayParts.DayRollupColumns, "event_type"), PartStep = Array.IndexOf(DayParts.DayRollupColumns, "step"),
            PartWorkflow = Array.IndexOf(DayParts.DayRollupColumns, "workflow_id"), PartTimed = Array.IndexOf(DayParts.DayRollupColumns, "timed"),
            PartDuration = Array.IndexOf(DayParts.DayRollupColumns, "duration_ms"), PartWasted = Array.IndexOf(DayParts.DayRollupColumns, "wasted_ms");

        internal static List<Bottleneck> Bottlenecks(SqliteConnection c, QueryFilter f, int top = 10)
        {
            var p = new DynamicParameters();
            List<TimeRow> rows;
            List<TimeRow> workflows;
            Dictionary<string, List<(int, long)>>? hist = null;
            Dictionary<string, List<long>>? durations = null;
            var source = Sources.For(f, Answers);
            if (source != Source.Events)
            {
                var (table, where) = Sources.SummaryTable(c, source, f, p, withParts: false);
                // One read of the rows grouped by step and workflow, summed here both ways (a cut window's rows are a union
                // of day, hour and part rows: reading it once per grouping cost twice).
                var byStep = new Dictionary<(string kind, string? name), TimeRow>();
                var byWorkflow = new Dictionary<string, TimeRow>(StringComparer.Ordinal);
                static void Add<TKey>(Dictionary<TKey, TimeRow> sums, TKey key, StepWorkflowRow r, string kind, string? name) where TKey : notnull
                {
                    if (!sums.TryGetValue(key, out var t)) sums[key] = t = new TimeRow { Kind = kind, Name = name };
                    t.Timed += r.Timed; t.TotalMs += r.TotalMs; t.WastedMs += r.WastedMs;
                }
                foreach (var r in c.Query<StepWorkflowRow>(
                             $@"SELECT CASE r.event_type WHEN 'tool_call' THEN 'tool' WHEN 'step' THEN 'step' ELSE 'event' END AS Kind, r.step AS Name, r.workflow_id AS Workflow,
                                       sum(r.timed) AS Timed, sum(r.duration_ms) AS TotalMs, sum(r.wasted_ms) AS WastedMs
                                FROM {table} r WHERE 1=1{where} GROUP BY 1, 2, 3", p))
                {
                    Add(byStep, (r.Kind, r.Name), r, r.Kind, r.Name);
                    if (r.Workflow is { Length: > 0 } w) Add(byWorkflow, w, r, "", w);
                }
                // The parts of hours at a window's ends, added here as their rows come (not through a temporary table).
                foreach (var x in Sources.PartRollupRows(c, f))
                {
                    var r = new StepWorkflowRow
                    {
                        Kind = Steps.Kind((string)x[PartEventType]!), Name = (string?)x[PartStep], Workflow = (string?)x[PartWorkflow],
                        Timed = (long)x[PartTimed]!, TotalMs = (long)x[PartDuration]!, WastedMs = (long)x[PartWasted]!,
                    };
                    Add(byStep, (r.Kind, r.Name), r, r.Kind, r.Name);
                    if (r.Workflow is { Length: > 0 } w) Add(byWorkflow, w, r, "", w);
                }
                rows = byStep.Values.Where(r => r.Timed > 0).ToList();
                workflows = byWorkflow.Values.Where(r => r.Timed > 0).ToList();
                if (f.Agents is not { Length: > 0 }) hist = Histograms(c, "step", f, source);
            }
            else
            {
                var where = f.Where(c, p);
                rows = c.Query<TimeRow>(
                    $@"SELECT {Steps.KindSql} AS Kind, {Steps.NameSql} AS Name, count(e.duration_ms) AS Timed, coalesce(sum(e.duration_ms), 0) AS TotalMs,
                              coalesce(sum({Wasted}), 0) AS WastedMs
                       FROM events e WHERE 1=1{where} GROUP BY 1, 2 HAVING count(e.duration_ms) > 0", p).ToList();
                workflows = c.Query<TimeRow>(
                    $@"SELECT e.workflow_id AS Name, count(e.duration_ms) AS Timed, coalesce(sum(e.duration_ms), 0) AS TotalMs,
                              coalesce(sum({Wasted}), 0) AS WastedMs
                       FROM events e WHERE e.workflow_id IS NOT NULL{where} GROUP BY 1 HAVING count(e.duration_ms) > 0", p).ToList();
            }
            Dictionary<string, List<(int, long)>>? workflowHist = hist != null ? Histograms(c, "workflow", f, source) : null;
            Dictionary<string, List<long>>? workflowDurations = null;
            if (hist == null)
            {
                var dp = new DynamicParameters();
                durations = Durations(c, $"SELECT {Steps.KindSql} || ':' || {Steps.NameSql}, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{f.Where(dp)} ORDER BY 1", dp);
                var wp = new DynamicParameters();
                workflowDurations = Durations(c, $"SELECT e.workflow_id, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL AND e.workflow_id IS NOT NULL{f.Where(wp)}", wp);
            }
            var grand = rows.Sum(r => r.TotalMs);
            // A step's durations as (value, count) pairs: exact from the events, or bucketed from the histogram.
            static List<(double value, long n)> Distribution(Dictionary<string, List<(int, long)>>? histograms, Dictionary<string, List<long>>? exact, string key) => histograms != null
                ? (histograms.TryGetValue(key, out var h) ? h.Select(x => (DurationBuckets.Value(x.Item1), x.Item2)).ToList() : new List<(double, long)>())
                : (exact!.TryGetValue(key, out var d) ? d.Select(ms => ((double)ms, 1L)).ToList() : new List<(double, long)>());
            Bottleneck Row(string kind, string name, long n, long total, long wasted, List<(double value, long n)> dist)
            {
                var median = Quantile(dist, 0.5);
                return new Bottleneck
                {
                    Kind = kind, Name = name, Count = n, TotalMs = total, ShareOfTime = grand > 0 ? Math.Round((double)total / grand, 4) : 0,
                    P95Ms = Quantile(dist, 0.95), MedianMs = median, TimeWastedMs = wasted,
                    Outliers = median > 0 ? dist.Where(x => x.value > 3 * median).Sum(x => x.n) : 0,
                };
            }
            var items = rows.Select(r => Row(r.Kind, r.Name ?? "", r.Timed, r.TotalMs, r.WastedMs, Distribution(hist, durations, r.Kind + ":" + r.Name))).ToList();
            if (workflows.Count > 1)
                items.AddRange(workflows.Select(w => Row("workflow", w.Name ?? "", w.Timed, w.TotalMs, w.WastedMs, Distribution(workflowHist, workflowDurations, w.Name ?? ""))));
            return items.OrderByDescending(b => b.TotalMs).ThenBy(b => b.Kind + b.Name, StringComparer.Ordinal).Take(top).ToList();
        }

        /// <summary>A step's and workflow's timed events in the summaries (mapped by column name).</summary>
        private sealed class StepWorkflowRow
        {
            public string Kind { get; set; } = "";
            public string? Name { get; set; }
            public string? Workflow { get; set; }
            public long Timed { get; set; }
            public long TotalMs { get; set; }
            public long WastedMs { get; set; }
        }

        /// <summary>A step's or a workflow's timed events, from the events or the summaries (mapped by column name;
        /// a workflow's row has no Kind).</summary>
        private sealed class TimeRow
        {
            public string Kind { get; set; } = "";
            public string? Name { get; set; }
            public long Timed { get; set; }
            public long TotalMs { get; set; }
            public long WastedMs { get; set; }
        }
    }
}
