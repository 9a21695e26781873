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
        internal const Summarised Answers = Summarised.WholeStore | Summarised.Days | Summarised.DaysByAgent;

        internal static List<ContextPressure> ContextPressure(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent, int top = int.MaxValue)
        {
            // The summaries keep the split at HighContext.Percent only; another threshold reads the events.
            var source = Sources.For(f, threshold == HighContext.Percent ? Answers : Summarised.None);
            if (source == Source.Summaries)
                return c.Query<(string session, string agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                        $@"SELECT session_id, agent_name, nullif(story_id, ''), max_context, events, ctx_hot, ctx_hot_errors, ctx_cool, ctx_cool_errors
                          FROM session_rollup WHERE {HighContext.Sql("max_context")} ORDER BY max_context DESC LIMIT @top", new { top = top == int.MaxValue ? -1 : top })
                    .Select(r => new ContextPressure
                    {
                        SessionId = r.session, Agent = r.agent, Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                        ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                        ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                    }).ToList();
            var p = new DynamicParameters();
            p.Add("top", top == int.MaxValue ? -1 : top);
            if (source == Source.DaySummaries)
            {
                // A story or whole days: the sessions' rows per day (session_day keeps the 80% split), events with a context figure only.
                var (table, dw) = Sources.SummaryTable(source, f, p, dayTable: "session_day");
                return c.Query<(string session, string agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                        $@"SELECT r.session_id, r.agent_name, nullif(max(r.story_id), ''), max(r.max_context), sum(r.ctx_events), sum(r.ctx_hot), sum(r.ctx_hot_errors), sum(r.ctx_cool), sum(r.ctx_cool_errors)
                           FROM {table} r WHERE r.ctx_events > 0{dw}
                           GROUP BY r.session_id, r.agent_name HAVING {HighContext.Sql("max(r.max_context)")} ORDER BY max(r.max_context) DESC, r.session_id, r.agent_name LIMIT @top", p)
                    .Select(r => new ContextPressure
                    {
                        SessionId = r.session, Agent = r.agent, Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                        ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                        ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                    }).ToList();
            }
            var where = f.Where(p);
            p.Add("t", threshold);
            return c.Query<(string session, string? agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                    $@"SELECT e.session_id, e.agent_name, max(e.story_id), max(e.context_percent), count(*), sum(e.context_percent > @t),
                              sum(e.context_percent > @t AND {Errors.InEvents}), sum(e.context_percent <= @t), sum(e.context_percent <= @t AND {Errors.InEvents})
                       FROM events e WHERE e.session_id IS NOT NULL AND e.context_percent IS NOT NULL{where}
                       GROUP BY e.session_id, e.agent_name HAVING max(e.context_percent) > @t ORDER BY max(e.context_percent) DESC, e.session_id, e.agent_name LIMIT @top", p)
                .Select(r => new ContextPressure
                {
                    SessionId = r.session, Agent = r.agent ?? "", Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                    ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                    ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                }).ToList();
        }

        /// <summary>Overall error rate above and below the context threshold (what follows high context).</summary>
        internal static (double above, double below, long aboveEvents) ContextEffect(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("t", threshold);
            var r = c.QuerySingle<(long hot, long hotErrors, long cool, long coolErrors)>(
                $@"SELECT coalesce(sum(e.context_percent > @t), 0), coalesce(sum(e.context_percent > @t AND {Errors.InEvents}), 0),
                          coalesce(sum(e.context_percent <= @t), 0), coalesce(sum(e.context_percent <= @t AND {Errors.InEvents}), 0)
                   FROM events e WHERE e.context_percent IS NOT NULL{where}", p);
            return (r.hot > 0 ? (double)r.hotErrors / r.hot : 0, r.cool > 0 ? (double)r.coolErrors / r.cool : 0, r.hot);
        }
    }
}
