using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per agent: events, success, durations, tokens, context pressure, time wasted.</summary>
    internal static class AgentPerformanceQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days;

        internal static List<AgentPerformance> AgentPerformance(SqliteConnection c, QueryFilter f)
        {
            var source = Sources.For(f, Answers);
            if (source != Source.Events) return AgentPerformanceFromSummaries(c, f, source);
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string? agent, long n, long ok, long known, long errors, long? tokens, long hot, long ctx, long? failedMs, long? waste)>(
                $@"SELECT e.agent_name, count(*), sum(e.success = 1), sum(e.success IS NOT NULL), sum({Errors.InEvents}), sum(e.tokens_used),
                          sum({HighContext.Sql("e.context_percent")}), sum(e.context_percent IS NOT NULL),
                          sum(CASE WHEN e.success = 0 THEN e.duration_ms END), sum(CASE WHEN e.time_saved_or_wasted_ms < 0 THEN -e.time_saved_or_wasted_ms END)
                   FROM events e WHERE 1=1{where} GROUP BY e.agent_name", p).ToList();
            var durations = Durations(c, $"SELECT e.agent_name, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{where} ORDER BY e.agent_name", p);
            return rows.Select(r =>
            {
                durations.TryGetValue(r.agent ?? "", out var d);
                return new AgentPerformance
                {
                    Agent = r.agent ?? "", Events = r.n, Errors = r.errors, SuccessRate = r.known > 0 ? Math.Round((double)r.ok / r.known, 4) : 0,
                    MedianDurationMs = Percentile(d, 0.5), P95DurationMs = Percentile(d, 0.95), Tokens = r.tokens ?? 0,
                    ContextPressure = r.ctx > 0 ? Math.Round((double)r.hot / r.ctx, 4) : 0, TimeWastedMs = (r.failedMs ?? 0) + (r.waste ?? 0),
                };
            }).OrderByDescending(a => a.Events).ToList();
        }

        private static List<AgentPerformance> AgentPerformanceFromSummaries(SqliteConnection c, QueryFilter f, Source source)
        {
            var p = new DynamicParameters();
            var (table, where) = Sources.SummaryTable(source, f, p);
            var rows = c.Query<(string agent, long n, long? ok, long? known, long? errors, long tokens, long hot, long ctx, long wasted)>(
                $@"SELECT r.agent_name, sum(r.events), sum(CASE WHEN r.outcome = 1 THEN r.events END), sum(CASE WHEN r.outcome >= 0 THEN r.events END),
                          sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END), sum(r.tokens), sum(r.ctx_hot), sum(r.ctx_known), sum(r.wasted_ms)
                   FROM {table} r WHERE 1=1{where} GROUP BY r.agent_name", p).ToList();
            // Medians and p95s from the per-agent duration histograms.
            var hist = Histograms(c, "agent", f, source);
            return rows.Select(r =>
            {
                hist.TryGetValue(r.agent, out var h);
                var median = h == null ? 0 : Percentile(h, 0.5);
                var p95 = h == null ? 0 : Percentile(h, 0.95);
                var known = r.known ?? 0;
                return new AgentPerformance
                {
                    Agent = r.agent, Events = r.n, Errors = r.errors ?? 0, SuccessRate = known > 0 ? Math.Round((double)(r.ok ?? 0) / known, 4) : 0,
                    MedianDurationMs = median, P95DurationMs = p95, Tokens = r.tokens, ContextPressure = r.ctx > 0 ? Math.Round((double)r.hot / r.ctx, 4) : 0, TimeWastedMs = r.wasted,
                };
            }).OrderByDescending(a => a.Events).ToList();
        }
    }
}
