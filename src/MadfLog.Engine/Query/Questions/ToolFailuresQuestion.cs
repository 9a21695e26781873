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
            List<ToolRow> rows;
            List<ToolErrorRow> errors;
            if (source != Source.Events)
            {
                var (table, sw) = Sources.SummaryTable(c, source, f, p, steps: true);
                rows = c.Query<ToolRow>(
                    $@"SELECT r.step AS Tool, r.agent_name AS Agent, sum(r.events) AS Calls, sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END) AS Failures
                       FROM {table} r WHERE r.event_type = 'tool_call'{sw} GROUP BY 1, 2", p).ToList();
                errors = c.Query<ToolErrorRow>(
                    $@"SELECT r.step AS Tool, r.agent_name AS Agent, coalesce(pt.display, pt.template) AS Template, sum(r.events) AS N
                       FROM {table} r JOIN patterns pt ON pt.id = r.pattern_id
                       WHERE r.event_type = 'tool_call' AND {Errors.InRollup("r")}{sw} GROUP BY 1, 2, r.pattern_id", p).ToList();
            }
            else
            {
                var where = f.Where(c, p);
                rows = c.Query<ToolRow>(
                    $@"SELECT {Steps.NameSql} AS Tool, e.agent_name AS Agent, count(*) AS Calls, sum({Errors.InEvents}) AS Failures
                       FROM events e WHERE e.event_type = 'tool_call'{where} GROUP BY 1, 2", p).ToList();
                errors = c.Query<ToolErrorRow>(
                    $@"SELECT {Steps.NameSql} AS Tool, e.agent_name AS Agent, coalesce(p.display, p.template) AS Template, count(*) AS N
                       FROM events e JOIN patterns p ON p.id = e.pattern_id
                       WHERE e.event_type = 'tool_call' AND {Errors.InEvents}{where} GROUP BY 1, 2, e.pattern_id", p).ToList();
            }
            // Each tool and agent's most frequent error pattern (ties: the template first in ordinal order).
            var top = errors.GroupBy(x => (x.Tool, x.Agent ?? ""))
                .ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.N).ThenBy(x => x.Template, StringComparer.Ordinal).First().Template);
            return rows.Select(r => new ToolFailure
            {
                Tool = r.Tool, Agent = r.Agent ?? "", Calls = r.Calls, Failures = r.Failures ?? 0,
                FailureRate = r.Calls > 0 ? Math.Round((double)(r.Failures ?? 0) / r.Calls, 4) : 0,
                TopError = top.TryGetValue((r.Tool, r.Agent ?? ""), out var t) ? t : null,
            }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ThenBy(t => t.Tool + "/" + t.Agent, StringComparer.Ordinal).ToList();
        }

        /// <summary>A tool's calls and failures by agent, from the events or the summaries (mapped by column name).</summary>
        private sealed class ToolRow
        {
            public string Tool { get; set; } = "";
            public string? Agent { get; set; }
            public long Calls { get; set; }
            public long? Failures { get; set; }
        }

        /// <summary>A tool's failures by agent and error pattern (mapped by column name).</summary>
        private sealed class ToolErrorRow
        {
            public string Tool { get; set; } = "";
            public string? Agent { get; set; }
            public string Template { get; set; } = "";
            public long N { get; set; }
        }
    }
}
