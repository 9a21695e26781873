using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per-session summaries.</summary>
    internal static class SessionsQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        /// <summary>Per-session summaries; <paramref name="sessionPattern"/> is a session id with optional * and ? wildcards.</summary>
        internal static List<SessionSummary> Sessions(SqliteConnection c, QueryFilter f, string? sessionPattern = null)
        {
            var p = new DynamicParameters();
            // session_day answers the whole store too (every day's rows), and an -Agent filter (it is keyed by agent).
            var day = Sources.For(f, Answers) != Source.Events;
            var (table, where) = day ? Sources.SummaryTable(Source.DaySummaries, f, p, dayTable: "session_day") : ("", f.Where(p));
            var alias = day ? "r" : "e";
            if (sessionPattern != null)
            {
                var like = sessionPattern.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%').Replace('?', '_');
                where += $" AND {alias}.session_id LIKE @session ESCAPE '\\'";
                p.Add("session", like);
            }
            // The whole store, a story or whole days: each session's rows per day, story and agent (session_day) instead of its events.
            var sql = day
                ? $@"SELECT r.session_id, nullif(max(r.story_id), ''), group_concat(DISTINCT nullif(r.agent_name, '')), min(r.first_ts), max(r.last_ts), sum(r.events), sum(r.errors),
                            sum(r.tokens), max(r.max_context), sum(r.human)
                     FROM {table} r WHERE 1=1{where} GROUP BY r.session_id ORDER BY min(r.first_ts), r.session_id"
                : $@"SELECT e.session_id, max(e.story_id), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp), count(*), sum({Errors.InEvents}),
                              sum(e.tokens_used), max(e.context_percent), sum(e.event_type = 'human_interaction')
                       FROM events e WHERE e.session_id IS NOT NULL{where} GROUP BY e.session_id ORDER BY min(e.timestamp), e.session_id";
            return c.Query<(string id, string? story, string? agents, long start, long end, long n, long errors, long? tokens, double? ctx, long human)>(sql, p)
                .Select(r => new SessionSummary
                {
                    SessionId = r.id, Story = r.story, Agents = List(r.agents), Start = Time(r.start), End = Time(r.end), DurationMs = r.end - r.start,
                    Events = r.n, Errors = r.errors, Tokens = r.tokens ?? 0, MaxContextPercent = r.ctx, HumanInteractions = r.human,
                }).ToList();
        }
    }
}
