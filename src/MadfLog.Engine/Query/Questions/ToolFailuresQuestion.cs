using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per tool and agent: calls, failures and the most common error.</summary>
    internal static class ToolFailuresQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static List<ToolFailure> ToolFailures(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var source = Sources.For(f, Answers);
            if (source != Source.Events)
            {
                var (table, sw) = Sources.SummaryTable(c, source, f, p);
                var srows = c.Query<(string tool, string agent, long calls, long? failures)>(
                    $@"SELECT r.step, r.agent_name, sum(r.events), sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END)
                       FROM {table} r WHERE r.event_type = 'tool_call'{sw} GROUP BY 1, 2", p).ToList();
                var stop = c.Query<(string tool, string agent, string template, long n)>(
                    $@"SELECT r.step, r.agent_name, coalesce(pt.display, pt.template), sum(r.events)
                       FROM {table} r JOIN patterns pt ON pt.id = r.pattern_id
                       WHERE r.event_type = 'tool_call' AND {Errors.InRollup("r")}{sw} GROUP BY 1, 2, r.pattern_id", p)
                    .GroupBy(x => (x.tool, x.agent)).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.n).ThenBy(x => x.template, StringComparer.Ordinal).First().template);
                return srows.Select(r => new ToolFailure
                {
                    Tool = r.tool, Agent = r.agent, Calls = r.calls, Failures = r.failures ?? 0,
                    FailureRate = r.calls > 0 ? Math.Round((double)(r.failures ?? 0) / r.calls, 4) : 0,
                    TopError = stop.TryGetValue((r.tool, r.agent), out var t) ? t : null,
                }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ThenBy(t => t.Tool + "/" + t.Agent, StringComparer.Ordinal).ToList();
            }
            var where = f.Where(c, p);
            var rows = c.Query<(string tool, string? agent, long calls, long failures)>(
                $@"SELECT {Steps.NameSql}, e.agent_name, count(*), sum({Errors.InEvents})
                   FROM events e WHERE e.event_type = 'tool_call'{where} GROUP BY 1, 2", p).ToList();
            var top = c.Query<(string tool, string? agent, string template, long n)>(
                $@"SELECT {Steps.NameSql}, e.agent_name, coalesce(p.display, p.template), count(*)
                   FROM events e JOIN patterns p ON p.id = e.pattern_id
                   WHERE e.event_type = 'tool_call' AND {Errors.InEvents}{where} GROUP BY 1, 2, e.pattern_id", p)
                .GroupBy(x => (x.tool, x.agent ?? "")).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.n).ThenBy(x => x.template, StringComparer.Ordinal).First().template);
            return rows.Select(r => new ToolFailure
            {
                Tool = r.tool, Agent = r.agent ?? "", Calls = r.calls, Failures = r.failures,
                FailureRate = r.calls > 0 ? Math.Round((double)r.failures / r.calls, 4) : 0,
                TopError = top.TryGetValue((r.tool, r.agent ?? ""), out var t) ? t : null,
            }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ThenBy(t => t.Tool + "/" + t.Agent, StringComparer.Ordinal).ToList();
        }
    }
}
