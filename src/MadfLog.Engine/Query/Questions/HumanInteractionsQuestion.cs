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
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.ByStory;

        internal static List<HumanInteractionSummary> HumanInteractions(SqliteConnection c, QueryFilter f, int top = int.MaxValue)
        {
            if (Sources.For(f, Answers) == Source.Summaries)
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
    }
}
