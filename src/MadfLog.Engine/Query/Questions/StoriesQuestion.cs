using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per-story figures, with repeated errors.</summary>
    internal static class StoriesQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByStory;

        /// <summary>Per-story figures, stories in version order.</summary>
        internal static List<StoryMetrics> Stories(SqliteConnection c, QueryFilter f)
        {
            if (Sources.For(f, Answers) == Source.Summaries) return StoriesFromSummaries(c, f);
            var p = new DynamicParameters();
            var where = f.Where(p);
            var repeated = RepeatedByGroup(c, "e.story_id", where, p);
            var rows = c.Query<(string? story, long n, long errors, long? tokens, long human, string? agents, long start, long end)>(
                $@"SELECT e.story_id, count(*), sum({Errors.InEvents}), sum(e.tokens_used), sum(e.event_type = 'human_interaction'), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp)
                   FROM events e WHERE e.story_id IS NOT NULL{where} GROUP BY e.story_id", p);
            return rows.Select(r => Metrics(r.story ?? "", r.n, r.errors, repeated.TryGetValue(r.story ?? "", out var rep) ? rep : 0, r.tokens ?? 0, r.human, List(r.agents), r.start, r.end))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static List<StoryMetrics> StoriesFromSummaries(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = "";
            if (f.Stories is { Length: > 0 }) { where = " WHERE s.story_id IN @stories"; p.Add("stories", f.Stories); }
            var rows = c.Query<(string story, long n, long errors, long patterned, long tokens, long human, string? agents, long start, long end)>(
                $@"SELECT s.story_id, s.events, s.errors, s.patterned, s.tokens, s.human,
                          (SELECT group_concat(a.agent_name) FROM story_agents a WHERE a.story_id = s.story_id), s.first_ts, s.last_ts
                   FROM story_rollup s{where}", p).ToList();
            // Every occurrence of a pattern but its first is a repeat; the first is in patterns.first_story.
            // (Error patterns only: human interactions are mined too, for their topics.)
            var firsts = c.Query<(string story, long n)>(
                    $"SELECT first_story, count(*) FROM patterns WHERE merged_into IS NULL AND first_story IS NOT NULL AND id IN (SELECT pattern_id FROM event_rollup WHERE {Errors.InRollup()}){FirstIsActive} GROUP BY 1")
                .ToDictionary(x => x.story, x => x.n);
            return rows.Select(r => Metrics(r.story, r.n, r.errors, Math.Max(0, r.patterned - (firsts.TryGetValue(r.story, out var first) ? first : 0)),
                    r.tokens, r.human, List(r.agents), r.start, r.end))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static StoryMetrics Metrics(string label, long n, long errors, long repeated, long tokens, long human, string[] agents, long? start, long? end) => new StoryMetrics
        {
            Story = label, Events = n, Errors = errors, ErrorRate = n > 0 ? Math.Round((double)errors / n, 4) : 0,
            RepeatedErrors = repeated, RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0,
            Tokens = tokens, TokensPerEvent = n > 0 ? Math.Round((double)tokens / n, 1) : 0, HumanInteractions = human, Agents = agents,
            Start = start.HasValue ? Time(start.Value) : (DateTime?)null, End = end.HasValue ? Time(end.Value) : (DateTime?)null,
        };
    }
}
