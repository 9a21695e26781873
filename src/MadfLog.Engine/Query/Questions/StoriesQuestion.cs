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
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByStory | Summarised.Days | Summarised.DayParts;

        /// <summary>Per-story figures, stories in version order.</summary>
        internal static List<StoryMetrics> Stories(SqliteConnection c, QueryFilter f)
        {
            var source = Sources.For(f, Answers);
            if (source == Source.Summaries) return StoriesFromSummaries(c, f);
            if (source == Source.DaySummaries) return StoriesFromDays(c, f);
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            var repeated = RepeatedByGroup(c, "e.story_id", where, p);
            var rows = c.Query<StoryRow>(
                $@"SELECT e.story_id AS Story, count(*) AS Events, sum({Errors.InEvents}) AS Errors, sum(e.tokens_used) AS Tokens, sum(e.event_type = 'human_interaction') AS Human,
                          group_concat(DISTINCT e.agent_name) AS Agents, min(e.timestamp) AS FirstTs, max(e.timestamp) AS LastTs
                   FROM events e WHERE e.story_id IS NOT NULL{where} GROUP BY e.story_id", p);
            return rows.Select(r => Metrics(r, repeated.TryGetValue(r.Story ?? "", out var rep) ? rep : 0))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static List<StoryMetrics> StoriesFromSummaries(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = "";
            if (f.Stories is { Length: > 0 }) { where = " WHERE s.story_id IN @stories"; p.Add("stories", f.Stories); }
            var rows = c.Query<StoryRow>(
                $@"SELECT s.story_id AS Story, s.events AS Events, s.errors AS Errors, s.patterned AS Patterned, s.tokens AS Tokens, s.human AS Human,
                          (SELECT group_concat(a.agent_name) FROM story_agents a WHERE a.story_id = s.story_id) AS Agents, s.first_ts AS FirstTs, s.last_ts AS LastTs
                   FROM story_rollup s{where}", p).ToList();
            // Every occurrence of a pattern but its first is a repeat; the first is in patterns.first_story.
            var firsts = c.Query<(string story, long n)>(ActiveFirsts("first_story, count(*)", " AND first_story IS NOT NULL GROUP BY 1"))
                .ToDictionary(x => x.story, x => x.n);
            return rows.Select(r => Metrics(r, Math.Max(0, r.Patterned - (firsts.TryGetValue(r.Story ?? "", out var first) ? first : 0))))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        // A window (or a story) from the day summaries: counts and agents from day_rollup, each story's first and last time
        // from its blocks' spans per day (event_block_days) over the whole days, its spans per hour (hour_stories) over the
        // whole hours of the days a window cuts, and from the events of the parts of hours at its ends; repeats as in the
        // whole store, with the firsts that lie within the filter.
        private static List<StoryMetrics> StoriesFromDays(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var (table, where) = Sources.SummaryTable(c, Source.DaySummaries, f, p, agents: false);
            var rows = c.Query<StoryRow>(
                $@"SELECT r.story_id AS Story, sum(r.events) AS Events, coalesce(sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END), 0) AS Errors,
                          coalesce(sum(CASE WHEN {Errors.InRollup("r")} AND r.pattern_id <> 0 THEN r.events END), 0) AS Patterned, sum(r.tokens) AS Tokens,
                          coalesce(sum(CASE WHEN r.event_type = 'human_interaction' THEN r.events END), 0) AS Human, group_concat(DISTINCT nullif(r.agent_name, '')) AS Agents
                   FROM {table} r WHERE r.story_id <> ''{where} GROUP BY r.story_id", p).ToList();
            var (wholeFrom, wholeTo, _) = Sources.Days(f);
            var sp = new DynamicParameters(new { wholeFrom, wholeTo });
            var spanWhere = (wholeFrom.HasValue ? " AND b.day >= @wholeFrom" : "") + (wholeTo.HasValue ? " AND b.day < @wholeTo" : "");
            if (f.Stories is { Length: > 0 }) { spanWhere += " AND n.text IN @stories"; sp.Add("stories", f.Stories); }
            var spans = c.Query<(string story, long first, long last)>(
                $"SELECT n.text, min(b.min_ts), max(b.max_ts) FROM event_block_days b JOIN names n ON n.id = b.story WHERE b.story <> 0{spanWhere} GROUP BY n.text", sp).ToList();
            var hp = new DynamicParameters();
            var hours = Sources.HourWhere(f, hp, "r");
            if (hours != null)
                spans.AddRange(c.Query<(string, long, long)>($"SELECT r.story_id, min(r.first_ts), max(r.last_ts) FROM hour_stories r WHERE {hours}{Sources.StoryWhere(f, hp)} GROUP BY 1", hp));
            var parts = Sources.PartRows(c, f, "story_spans");
            if (parts != null) spans.AddRange(c.Query<(string, long, long)>($"SELECT story, first_ts, last_ts FROM {parts}"));
            var span = spans.GroupBy(s => s.story).ToDictionary(g => g.Key, g => (first: g.Min(s => s.first), last: g.Max(s => s.last)));
            foreach (var r in rows)
                if (span.TryGetValue(r.Story ?? "", out var s)) { r.FirstTs = s.first; r.LastTs = s.last; }
            var fp = new DynamicParameters();
            var firsts = c.Query<(string story, long n)>(ActiveFirsts("first_story, count(*)", " AND first_story IS NOT NULL" + FirstsWithin(f, fp) + " GROUP BY 1"), fp)
                .ToDictionary(x => x.story, x => x.n);
            return rows.Select(r => Metrics(r, Math.Max(0, r.Patterned - (firsts.TryGetValue(r.Story ?? "", out var first) ? first : 0))))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static StoryMetrics Metrics(StoryRow r, long repeated)
        {
            long n = r.Events, errors = r.Errors, tokens = r.Tokens ?? 0;
            return new StoryMetrics
            {
                Story = r.Story ?? "", Events = n, Errors = errors, ErrorRate = n > 0 ? Math.Round((double)errors / n, 4) : 0,
                RepeatedErrors = repeated, RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0,
                Tokens = tokens, TokensPerEvent = n > 0 ? Math.Round((double)tokens / n, 1) : 0, HumanInteractions = r.Human, Agents = List(r.Agents),
                Start = Time(r.FirstTs), End = Time(r.LastTs),
            };
        }

        /// <summary>A story's row from the events or story_rollup (mapped by column name; Patterned from the summaries only).</summary>
        private sealed class StoryRow
        {
            public string? Story { get; set; }
            public long Events { get; set; }
            public long Errors { get; set; }
            public long Patterned { get; set; }
            public long? Tokens { get; set; }
            public long Human { get; set; }
            public string? Agents { get; set; }
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
        }
    }
}
