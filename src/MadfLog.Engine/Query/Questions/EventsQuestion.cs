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
        // Blocks: InTimeOrder's bounds, which replace the filter's own ("" for those).
        private static (string where, DynamicParameters p) Conditions(SqliteConnection c, QueryFilter f, Analysis.EventFilter ef, string blocks)
        {
            var p = new DynamicParameters();
            var where = f.Where(c, p, ids: blocks.Length == 0 ? null : blocks);
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
            var (where, p) = Conditions(c, f, ef, blocks);
            var rows = c.Query<EventRow>(
                $@"SELECT e.id, e.timestamp, e.event_type AS EventType, e.category, e.session_id AS SessionId, e.story_id AS StoryId, e.workflow_id AS WorkflowId,
                          e.agent_name AS AgentName, e.duration_ms AS DurationMs, e.tokens_used AS TokensUsed, e.context_percent AS ContextPercent, e.success,
                          e.pattern_id AS PatternId, e.created_rule AS CreatedRule, e.needs_review AS NeedsReview, e.details
                   FROM events e WHERE {(ef.First.HasValue
                       // A page: its ids first (ordering reads only times and ids), then only its rows are decoded.
                       ? $"e.id IN (SELECT e.id FROM events e WHERE 1=1{where} ORDER BY e.timestamp, e.id LIMIT @limit)"
                       : "1=1" + where)} ORDER BY e.timestamp, e.id LIMIT @limit", p, buffered: false);
            foreach (var r in rows)
                yield return new EventRecord
                {
                    Id = r.Id, Timestamp = Time(r.Timestamp), EventType = r.EventType, Category = r.Category, SessionId = r.SessionId, StoryId = r.StoryId, WorkflowId = r.WorkflowId,
                    AgentName = r.AgentName, DurationMs = r.DurationMs, TokensUsed = r.TokensUsed, ContextPercent = r.ContextPercent, Success = r.Success,
                    PatternId = r.PatternId, CreatedRule = r.CreatedRule, NeedsReview = r.NeedsReview, Message = EventDetails.Message(r.Details), Details = r.Details,
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
