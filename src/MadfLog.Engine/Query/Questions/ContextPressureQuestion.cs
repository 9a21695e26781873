using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Sessions whose context went above the threshold, and the error rates above and below it.</summary>
    internal static class ContextPressureQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static List<ContextPressure> ContextPressure(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent, int top = int.MaxValue)
        {
            // The summaries keep the split at HighContext.Percent only; another threshold reads the events.
            var source = Sources.For(f, threshold == HighContext.Percent ? Answers : Summarised.None);
            if (source == Source.Summaries)
                return c.Query<SessionContextRow>(
                        $@"SELECT session_id AS SessionId, agent_name AS Agent, nullif(story_id, '') AS Story, max_context AS MaxContext, events AS Events, ctx_hot AS Hot,
                                  ctx_hot_errors AS HotErrors, ctx_cool AS Cool, ctx_cool_errors AS CoolErrors
                          FROM session_rollup WHERE {HighContext.Sql("max_context")} ORDER BY max_context DESC LIMIT @top", new { top = top == int.MaxValue ? -1 : top })
                    .Select(Pressure).ToList();
            var p = new DynamicParameters();
            p.Add("top", top == int.MaxValue ? -1 : top);
            if (source == Source.DaySummaries)
            {
                // A story or whole days: the sessions' rows per day (session_day keeps the 80% split), events with a context figure only.
                var (table, dw) = Sources.SummaryTable(c, source, f, p, dayTable: "session_day");
                return c.Query<SessionContextRow>(
                        $@"SELECT r.session_id AS SessionId, r.agent_name AS Agent, nullif(max(r.story_id), '') AS Story, max(r.max_context) AS MaxContext, sum(r.ctx_events) AS Events,
                                  sum(r.ctx_hot) AS Hot, sum(r.ctx_hot_errors) AS HotErrors, sum(r.ctx_cool) AS Cool, sum(r.ctx_cool_errors) AS CoolErrors
                           FROM {table} r WHERE r.ctx_events > 0{dw}
                           GROUP BY r.session_id, r.agent_name HAVING {HighContext.Sql("max(r.max_context)")} ORDER BY max(r.max_context) DESC, r.session_id, r.agent_name LIMIT @top", p)
                    .Select(Pressure).ToList();
            }
            var where = f.Where(c, p);
            p.Add("t", threshold);
            return c.Query<SessionContextRow>(
                    $@"SELECT e.session_id AS SessionId, e.agent_name AS Agent, max(e.story_id) AS Story, max(e.context_percent) AS MaxContext, count(*) AS Events,
                              sum(e.context_percent > @t) AS Hot, sum(e.context_percent > @t AND {Errors.InEvents}) AS HotErrors, sum(e.context_percent <= @t) AS Cool,
                              sum(e.context_percent <= @t AND {Errors.InEvents}) AS CoolErrors
                       FROM events e WHERE e.session_id IS NOT NULL AND e.context_percent IS NOT NULL{where}
                       GROUP BY e.session_id, e.agent_name HAVING max(e.context_percent) > @t ORDER BY max(e.context_percent) DESC, e.session_id, e.agent_name LIMIT @top", p)
                .Select(Pressure).ToList();
        }

        private static ContextPressure Pressure(SessionContextRow r) => new ContextPressure
        {
            SessionId = r.SessionId, Agent = r.Agent ?? "", Story = r.Story, MaxContextPercent = r.MaxContext, Events = r.Events, EventsAbove80 = r.Hot,
            ErrorRateAbove80 = r.Hot > 0 ? Math.Round((double)r.HotErrors / r.Hot, 4) : 0,
            ErrorRateBelow80 = r.Cool > 0 ? Math.Round((double)r.CoolErrors / r.Cool, 4) : 0,
        };

        /// <summary>A session and agent's events with a context figure, split at the threshold, from any of the three sources (mapped by column name).</summary>
        private sealed class SessionContextRow : SplitRow
        {
            public string SessionId { get; set; } = "";
            public string? Agent { get; set; }
            public string? Story { get; set; }
            public double MaxContext { get; set; }
            public long Events { get; set; }
        }

        /// <summary>Events above the threshold (hot) and at or below it (cool), and the errors among each (mapped by column name).</summary>
        private class SplitRow
        {
            public long Hot { get; set; }
            public long HotErrors { get; set; }
            public long Cool { get; set; }
            public long CoolErrors { get; set; }
        }

        /// <summary>Overall error rate above and below the context threshold (what follows high context).</summary>
        internal static (double above, double below, long aboveEvents) ContextEffect(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent)
        {
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            p.Add("t", threshold);
            var r = c.QuerySingle<SplitRow>(
                $@"SELECT coalesce(sum(e.context_percent > @t), 0) AS Hot, coalesce(sum(e.context_percent > @t AND {Errors.InEvents}), 0) AS HotErrors,
                          coalesce(sum(e.context_percent <= @t), 0) AS Cool, coalesce(sum(e.context_percent <= @t AND {Errors.InEvents}), 0) AS CoolErrors
                   FROM events e WHERE e.context_percent IS NOT NULL{where}", p);
            return (r.Hot > 0 ? (double)r.HotErrors / r.Hot : 0, r.Cool > 0 ? (double)r.CoolErrors / r.Cool : 0, r.Hot);
        }
    }
}
