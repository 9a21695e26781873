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

        // The columns of a part's day_rollup row (DayParts.DayRollupColumns) the question reads.
        private static readonly int PartEventType = Column("event_type"), PartCategory = Column("category"), PartStep = Column("step"), PartAgent = Column("agent_name"),
            PartPattern = Column("pattern_id"), PartOutcome = Column("outcome"), PartEvents = Column("events");

        private static int Column(string name) => Array.IndexOf(DayParts.DayRollupColumns, name);

        internal static List<ToolFailure> ToolFailures(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var source = Sources.For(f, Answers);
            List<ToolRow> rows;
            List<ToolErrorRow> errors;
            if (source != Source.Events)
            {
                var (table, sw) = Sources.SummaryTable(c, source, f, p, withParts: false);
                // One read of the tool calls grouped by tool, agent, pattern and whether they failed; the calls and failures
                // and each failure's pattern are summed from it (a cut window's rows are a union of day and hour rows:
                // reading it once per grouping cost twice). The parts of hours at a window's ends are added as their rows
                // come (not through a temporary table), grouped alike.
                var sums = new Dictionary<(string tool, string? agent, long pattern, long failed), long>();
                void Add((string, string?, long, long) key, long n) => sums[key] = sums.TryGetValue(key, out var m) ? m + n : n;
                foreach (var (tool, agent, pattern, failed, n) in c.Query<(string tool, string? agent, long pattern, long failed, long n)>(
                             $@"SELECT r.step, r.agent_name, r.pattern_id, {Errors.InRollup("r")}, sum(r.events)
                                FROM {table} r WHERE r.event_type = 'tool_call'{sw} GROUP BY 1, 2, 3, 4", p))
                    Add((tool, agent, pattern, failed), n);
                foreach (var x in Sources.PartRollupRows(c, f))
                {
                    if ((string?)x[PartEventType] != "tool_call") continue;
                    var outcome = (long)x[PartOutcome]!;
                    var failed = Errors.IsError(outcome < 0 ? (bool?)null : outcome == 1, (string?)x[PartCategory]) ? 1L : 0L;
                    Add(((string)x[PartStep]!, (string?)x[PartAgent], (long)x[PartPattern]!, failed), (long)x[PartEvents]!);
                }
                var groups = sums.Select(x => (x.Key.tool, x.Key.agent, x.Key.pattern, x.Key.failed, n: x.Value)).ToList();
                var templates = c.Query<(long id, string template)>(
                        "SELECT id, coalesce(display, template) FROM patterns WHERE id IN (SELECT value FROM json_each(@ids))",
                        new { ids = "[" + string.Join(",", groups.Where(g => g.failed != 0).Select(g => g.pattern).Distinct()) + "]" })
                    .ToDictionary(x => x.id, x => x.template);
                rows = groups.GroupBy(g => (g.tool, g.agent)).Select(g => new ToolRow
                {
                    Tool = g.Key.tool, Agent = g.Key.agent, Calls = g.Sum(x => x.n),
                    Failures = g.Any(x => x.failed != 0) ? g.Where(x => x.failed != 0).Sum(x => x.n) : (long?)null,
                }).ToList();
                errors = groups.Where(g => g.failed != 0 && templates.ContainsKey(g.pattern))
                    .Select(g => new ToolErrorRow { Tool = g.tool, Agent = g.agent, Template = templates[g.pattern], N = g.n }).ToList();
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
