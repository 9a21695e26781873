using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>The raw events, and distinct names for argument completion.</summary>
    internal static class EventsQuestion
    {
        /// <summary>Only the events answer.</summary>
        internal const Summarised Answers = Summarised.None;

        /// <summary>The raw events, oldest first, streamed (a first page is read from the time blocks that hold it, not by sorting every event).</summary>
        internal static IEnumerable<EventRecord> Events(SqliteConnection c, QueryFilter f, Analysis.EventFilter ef)
        {
            if (ef.First.HasValue) return InTimeOrder(c, f, blocks => Read(c, f, ef, blocks).ToList(), ef.First.Value, newest: false);
            return Read(c, f, ef);
        }

        // The filter's and the event filter's conditions on the events alias e, with their parameters (@limit: the page).
        private static (string where, DynamicParameters p) Conditions(QueryFilter f, Analysis.EventFilter ef)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            if (ef.EventTypes is { Length: > 0 }) { where += " AND e.event_type IN @types"; p.Add("types", ef.EventTypes); }
            if (ef.Categories is { Length: > 0 }) { where += " AND e.category IN @cats"; p.Add("cats", ef.Categories); }
            if (ef.Success.HasValue) { where += " AND e.success = @success"; p.Add("success", ef.Success.Value ? 1 : 0); }
            if (ef.PatternId.HasValue) { where += " AND e.pattern_id = @pattern"; p.Add("pattern", ef.PatternId.Value); }
            if (ef.SessionId != null) { where += " AND e.session_id = @session"; p.Add("session", ef.SessionId); }
            p.Add("limit", ef.First ?? -1);
            return (where, p);
        }

        private static IEnumerable<EventRecord> Read(SqliteConnection c, QueryFilter f, Analysis.EventFilter ef, string blocks = "")
        {
            var (where, p) = Conditions(f, ef);
            where += blocks;
            var rows = c.Query<(long id, long ts, string type, string cat, string? session, string? story, string? workflow, string? agent, long? duration, long? tokens, double? ctx, long? success, long? pattern, long? rule, long review, string? details)>(
                $@"SELECT e.id, e.timestamp, e.event_type, e.category, e.session_id, e.story_id, e.workflow_id, e.agent_name, e.duration_ms, e.tokens_used,
                          e.context_percent, e.success, e.pattern_id, e.created_rule, e.needs_review, e.details
                   FROM events e WHERE 1=1{where} ORDER BY e.timestamp, e.id LIMIT @limit", p, buffered: false);
            foreach (var r in rows)
                yield return new EventRecord
                {
                    Id = r.id, Timestamp = Time(r.ts), EventType = r.type, Category = r.cat, SessionId = r.session, StoryId = r.story, WorkflowId = r.workflow,
                    AgentName = r.agent, DurationMs = r.duration, TokensUsed = r.tokens, ContextPercent = r.ctx, Success = r.success.HasValue ? r.success != 0 : (bool?)null,
                    PatternId = r.pattern, CreatedRule = r.rule, NeedsReview = r.review != 0, Message = EventDetails.Message(r.details), Details = r.details,
                };
        }

        /// <summary>Distinct values for argument completion (stories in version order).</summary>
        internal static List<string> DistinctValues(SqliteConnection c, string column, string prefix, int max = 200)
        {
            if (column != "story_id" && column != "agent_name" && column != "session_id") throw new ArgumentException("not a completable column", nameof(column));
            var values = c.Query<string>($"SELECT DISTINCT {column} FROM events WHERE {column} LIKE @prefix ESCAPE '\\' ORDER BY 1 LIMIT @max",
                new { prefix = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%", max }).ToList();
            if (column == "story_id") values.Sort(StoryOrder.Instance);
            return values;
        }
    }
}
