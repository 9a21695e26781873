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
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static List<AgentPerformance> AgentPerformance(SqliteConnection c, QueryFilter f)
        {
            var source = Sources.For(f, Answers);
            if (source != Source.Events) return AgentPerformanceFromSummaries(c, f, source);
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            var rows = c.Query<AgentRow>(
                $@"SELECT e.agent_name AS Agent, count(*) AS Events, sum(e.success = 1) AS Ok, sum(e.success IS NOT NULL) AS Known, sum({Errors.InEvents}) AS Errors,
                          sum(e.tokens_used) AS Tokens, sum({HighContext.Sql("e.context_percent")}) AS Hot, sum(e.context_percent IS NOT NULL) AS CtxKnown,
                          sum({TimeWasted.Sql("e.success", "e.duration_ms", "e.time_saved_or_wasted_ms")}) AS WastedMs
                   FROM events e WHERE 1=1{where} GROUP BY e.agent_name", p).ToList();
            var durations = Durations(c, $"SELECT e.agent_name, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{where} ORDER BY e.agent_name", p);
            return rows.Select(r =>
            {
                durations.TryGetValue(r.Agent ?? "", out var d);
                return Performance(r, Percentile(d, 0.5), Percentile(d, 0.95));
            }).OrderByDescending(a => a.Events).ToList();
        }

        private static List<AgentPerformance> AgentPerformanceFromSummaries(SqliteConnection c, QueryFilter f, Source source)
        {
            var p = new DynamicParameters();
            var (table, where) = Sources.SummaryTable(c, source, f, p);
            var rows = c.Query<AgentRow>(
                $@"SELECT r.agent_name AS Agent, sum(r.events) AS Events, sum(CASE WHEN r.outcome = 1 THEN r.events END) AS Ok, sum(CASE WHEN r.outcome >= 0 THEN r.events END) AS Known,
                          sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END) AS Errors, sum(r.tokens) AS Tokens, sum(r.ctx_hot) AS Hot, sum(r.ctx_known) AS CtxKnown,
                          sum(r.wasted_ms) AS WastedMs
                   FROM {table} r WHERE 1=1{where} GROUP BY r.agent_name", p).ToList();
            // Medians and p95s from the per-agent duration histograms.
            var hist = Histograms(c, "agent", f, source);
            return rows.Select(r =>
            {
                hist.TryGetValue(r.Agent ?? "", out var h);
                return Performance(r, h == null ? 0 : Percentile(h, 0.5), h == null ? 0 : Percentile(h, 0.95));
            }).OrderByDescending(a => a.Events).ToList();
        }

        private static AgentPerformance Performance(AgentRow r, double median, double p95) => new AgentPerformance
        {
            Agent = r.Agent ?? "", Events = r.Events, Errors = r.Errors ?? 0, SuccessRate = (r.Known ?? 0) > 0 ? Math.Round((double)(r.Ok ?? 0) / r.Known!.Value, 4) : 0,
            MedianDurationMs = median, P95DurationMs = p95, Tokens = r.Tokens ?? 0, ContextPressure = r.CtxKnown > 0 ? Math.Round((double)r.Hot / r.CtxKnown, 4) : 0,
            TimeWastedMs = r.WastedMs ?? 0,
        };

        /// <summary>An agent's row from the events or the summaries (mapped by column name).</summary>
        private sealed class AgentRow
        {
            public string? Agent { get; set; }
            public long Events { get; set; }
            public long? Ok { get; set; }
            public long? Known { get; set; }
            public long? Errors { get; set; }
            public long? Tokens { get; set; }
            public long Hot { get; set; }
            public long CtxKnown { get; set; }
            public long? WastedMs { get; set; }
        }
    }
}
