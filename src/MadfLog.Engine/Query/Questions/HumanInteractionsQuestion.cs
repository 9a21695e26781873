using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Human interactions per category, agent and story, with their most common topics.</summary>
    internal static class HumanInteractionsQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.ByStory | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static List<HumanInteractionSummary> HumanInteractions(SqliteConnection c, QueryFilter f, int top = int.MaxValue)
        {
            var source = Sources.For(f, Answers);
            if (source == Source.DaySummaries) return FromDays(c, f, top);
            if (source == Source.Summaries)
            {
                // The largest groups first (an index on their totals keeps this flat), then their three most common topics.
                var sp = new DynamicParameters();
                sp.Add("top", top == int.MaxValue ? -1 : top);
                var groups = c.Query<HumanRow>(
                    $"SELECT r.category AS Category, r.agent_name AS Agent, r.story_id AS Story, r.n AS N FROM human_groups r WHERE 1=1{Sources.AgentWhere(f, sp)}{Sources.StoryWhere(f, sp)} ORDER BY r.n DESC LIMIT @top", sp).ToList();
                return groups.Select(g => new HumanInteractionSummary
                {
                    Category = g.Category, Agent = g.Agent ?? "", Story = g.Story ?? "", Count = g.N,
                    Topics = c.Query<(string topic, long n)>(
                            @"SELECT coalesce(p.display, p.template), r.n FROM human_rollup r JOIN patterns p ON p.id = r.pattern_id
                              WHERE r.category = @cat AND r.agent_name = @agent AND r.story_id = @story ORDER BY r.n DESC, 1 LIMIT 3", new { cat = g.Category, agent = g.Agent, story = g.Story })
                        .Select(x => x.topic + (x.n > 1 ? $" ({x.n}×)" : "")).ToArray(),
                }).ToList();
            }
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            var rows = c.Query<HumanRow>(
                $"SELECT e.category AS Category, e.agent_name AS Agent, e.story_id AS Story, e.details AS Details FROM events e WHERE e.event_type = 'human_interaction'{where}", p).ToList();
            // What they were about: messages grouped by the same template miner as errors.
            var miner = new TemplateMiner();
            var topics = rows.Select(r => EventDetails.Message(r.Details)).Select(m => m == null ? null : miner.Add(m)).ToList();
            return rows.Select((r, i) => (r, topic: topics[i]))
                .GroupBy(x => (cat: x.r.Category, agent: x.r.Agent ?? "", story: x.r.Story ?? ""))
                .Select(g => new HumanInteractionSummary
                {
                    Category = g.Key.cat, Agent = g.Key.agent, Story = g.Key.story, Count = g.Count(),
                    Topics = g.Where(x => x.topic != null).GroupBy(x => miner.Resolve(x.topic!).Id)
                        .OrderByDescending(t => t.Count()).Take(3)
                        .Select(t => TemplateMiner.Display(EventDetails.Message(t.First().r.Details), miner.Resolve(t.First().topic!).Tokens) + (t.Count() > 1 ? $" ({t.Count()}×)" : ""))
                        .ToArray(),
                })
                .OrderByDescending(s => s.Count).Take(top).ToList();
        }

        // A window or a story from day_rollup, whose key holds the category, agent, story and pattern: the groups' counts
        // and, as the whole-store summaries give them, their three most common topics by pattern.
        private static List<HumanInteractionSummary> FromDays(SqliteConnection c, QueryFilter f, int top)
        {
            var p = new DynamicParameters();
            var (table, where) = Sources.SummaryTable(c, Source.DaySummaries, f, p);
            var rows = c.Query<HumanRow>(
                $@"SELECT r.category AS Category, r.agent_name AS Agent, r.story_id AS Story, r.pattern_id AS Pattern, coalesce(pt.display, pt.template) AS Topic, sum(r.events) AS N
                   FROM {table} r LEFT JOIN patterns pt ON pt.id = r.pattern_id
                   WHERE r.event_type = 'human_interaction'{where} GROUP BY 1, 2, 3, 4", p).ToList();
            return rows.GroupBy(r => (cat: r.Category, agent: r.Agent ?? "", story: r.Story ?? "")).Select(g => new HumanInteractionSummary
            {
                Category = g.Key.cat, Agent = g.Key.agent, Story = g.Key.story, Count = g.Sum(r => r.N),
                Topics = g.Where(r => r.Pattern != 0 && r.Topic != null).OrderByDescending(r => r.N).ThenBy(r => r.Topic, System.StringComparer.Ordinal).Take(3)
                    .Select(r => r.Topic + (r.N > 1 ? $" ({r.N}×)" : "")).ToArray(),
            }).OrderByDescending(h => h.Count).ThenBy(h => h.Category + "\n" + h.Agent + "\n" + h.Story, System.StringComparer.Ordinal).Take(top).ToList();
        }

        /// <summary>Human interactions by category, agent and story (mapped by column name): a group's count from the summaries
        /// (with its pattern and topic from the day summaries), or one event with its details.</summary>
        private sealed class HumanRow
        {
            public string Category { get; set; } = "";
            public string? Agent { get; set; }
            public string? Story { get; set; }
            public long Pattern { get; set; }
            public string? Topic { get; set; }
            public long N { get; set; }
            public string? Details { get; set; }
        }
    }
}
