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
                var groups = c.Query<(string cat, string agent, string story, long n)>(
                    $"SELECT r.category, r.agent_name, r.story_id, r.n FROM human_groups r WHERE 1=1{Sources.AgentWhere(f, sp)}{Sources.StoryWhere(f, sp)} ORDER BY r.n DESC LIMIT @top", sp).ToList();
                return groups.Select(g => new HumanInteractionSummary
                {
                    Category = g.cat, Agent = g.agent, Story = g.story, Count = g.n,
                    Topics = c.Query<(string topic, long n)>(
                            @"SELECT coalesce(p.display, p.template), r.n FROM human_rollup r JOIN patterns p ON p.id = r.pattern_id
                              WHERE r.category = @cat AND r.agent_name = @agent AND r.story_id = @story ORDER BY r.n DESC, 1 LIMIT 3", new { g.cat, g.agent, g.story })
                        .Select(x => x.topic + (x.n > 1 ? $" ({x.n}×)" : "")).ToArray(),
                }).ToList();
            }
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            var rows = c.Query<(string cat, string? agent, string? story, string? details)>(
                $"SELECT e.category, e.agent_name, e.story_id, e.details FROM events e WHERE e.event_type = 'human_interaction'{where}", p).ToList();
            // What they were about: messages grouped by the same template miner as errors.
            var miner = new TemplateMiner();
            var topics = rows.Select(r => EventDetails.Message(r.details)).Select(m => m == null ? null : miner.Add(m)).ToList();
            return rows.Select((r, i) => (r, topic: topics[i]))
                .GroupBy(x => (x.r.cat, agent: x.r.agent ?? "", story: x.r.story ?? ""))
                .Select(g => new HumanInteractionSummary
                {
                    Category = g.Key.cat, Agent = g.Key.agent, Story = g.Key.story, Count = g.Count(),
                    Topics = g.Where(x => x.topic != null).GroupBy(x => miner.Resolve(x.topic!).Id)
                        .OrderByDescending(t => t.Count()).Take(3)
                        .Select(t => TemplateMiner.Display(EventDetails.Message(t.First().r.details), miner.Resolve(t.First().topic!).Tokens) + (t.Count() > 1 ? $" ({t.Count()}×)" : ""))
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
            var rows = c.Query<(string cat, string agent, string story, long pattern, string? topic, long n)>(
                $@"SELECT r.category, r.agent_name, r.story_id, r.pattern_id, coalesce(pt.display, pt.template), sum(r.events)
                   FROM {table} r LEFT JOIN patterns pt ON pt.id = r.pattern_id
                   WHERE r.event_type = 'human_interaction'{where} GROUP BY 1, 2, 3, 4", p).ToList();
            return rows.GroupBy(r => (r.cat, r.agent, r.story)).Select(g => new HumanInteractionSummary
            {
                Category = g.Key.cat, Agent = g.Key.agent, Story = g.Key.story, Count = g.Sum(r => r.n),
                Topics = g.Where(r => r.pattern != 0 && r.topic != null).OrderByDescending(r => r.n).ThenBy(r => r.topic, System.StringComparer.Ordinal).Take(3)
                    .Select(r => r.topic + (r.n > 1 ? $" ({r.n}×)" : "")).ToArray(),
            }).OrderByDescending(h => h.Count).ThenBy(h => h.Category + "\n" + h.Agent + "\n" + h.Story, System.StringComparer.Ordinal).Take(top).ToList();
        }
    }
}
