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
            var (table, where) = day ? Sources.SummaryTable(c, Source.DaySummaries, f, p, dayTable: "session_day") : ("", f.Where(c, p));
            var alias = day ? "r" : "e";
            if (sessionPattern != null)
            {
                var like = sessionPattern.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%').Replace('?', '_');
                where += $" AND {alias}.session_id LIKE @session ESCAPE '\\'";
                p.Add("session", like);
            }
            // The whole store, a story or whole days: each session's rows per day, story and agent (session_day) instead of its events.
            var sql = day
                ? $@"SELECT r.session_id AS SessionId, nullif(max(r.story_id), '') AS Story, group_concat(DISTINCT nullif(r.agent_name, '')) AS Agents, min(r.first_ts) AS FirstTs,
                            max(r.last_ts) AS LastTs, sum(r.events) AS Events, sum(r.errors) AS Errors, sum(r.tokens) AS Tokens, max(r.max_context) AS MaxContext, sum(r.human) AS Human
                     FROM {table} r WHERE 1=1{where} GROUP BY r.session_id ORDER BY min(r.first_ts), r.session_id"
                : $@"SELECT e.session_id AS SessionId, max(e.story_id) AS Story, group_concat(DISTINCT e.agent_name) AS Agents, min(e.timestamp) AS FirstTs, max(e.timestamp) AS LastTs,
                              count(*) AS Events, sum({Errors.InEvents}) AS Errors, sum(e.tokens_used) AS Tokens, max(e.context_percent) AS MaxContext,
                              sum(e.event_type = 'human_interaction') AS Human
                       FROM events e WHERE e.session_id IS NOT NULL{where} GROUP BY e.session_id ORDER BY min(e.timestamp), e.session_id";
            return c.Query<SessionRow>(sql, p)
                .Select(r => new SessionSummary
                {
                    SessionId = r.SessionId, Story = r.Story, Agents = List(r.Agents), Start = Time(r.FirstTs), End = Time(r.LastTs), DurationMs = r.LastTs - r.FirstTs,
                    Events = r.Events, Errors = r.Errors, Tokens = r.Tokens ?? 0, MaxContextPercent = r.MaxContext, HumanInteractions = r.Human,
                }).ToList();
        }

        /// <summary>A session's row as both sources give it (mapped by column name).</summary>
        private sealed class SessionRow
        {
            public string SessionId { get; set; } = "";
            public string? Story { get; set; }
            public string? Agents { get; set; }
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
            public long Events { get; set; }
            public long Errors { get; set; }
            public long? Tokens { get; set; }
            public double? MaxContext { get; set; }
            public long Human { get; set; }
        }
    }
}
