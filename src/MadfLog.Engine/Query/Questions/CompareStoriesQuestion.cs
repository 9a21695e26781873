using System;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Two stories side by side: rates, patterns gained and lost, agents added and removed.</summary>
    internal static class CompareStoriesQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByStory;

        internal static StoryComparison CompareStories(SqliteConnection c, string reference, string difference, QueryFilter f, int top = 5)
        {
            var both = new QueryFilter { Stories = new[] { reference, difference }, Agents = f.Agents, Since = f.Since, Until = f.Until };
            var stories = StoriesQuestion.Stories(c, both);
            var r = stories.FirstOrDefault(s => s.Story == reference) ?? new StoryMetrics { Story = reference };
            var d = stories.FirstOrDefault(s => s.Story == difference) ?? new StoryMetrics { Story = difference };
            var p = new DynamicParameters();
            p.Add("r", reference); p.Add("d", difference);
            // Errors per pattern in each story: from the import-time counts, or (with a time window or agents) from the
            // two stories' span of events.
            var counts = Sources.For(both, Answers) == Source.Summaries
                ? c.Query<PatternDelta>(
                    @"SELECT s.pattern_id AS PatternId, coalesce(p.display, p.template) AS Template,
                             sum(CASE WHEN s.story_id = @r THEN s.errors ELSE 0 END) AS ReferenceCount, sum(CASE WHEN s.story_id = @d THEN s.errors ELSE 0 END) AS DifferenceCount
                      FROM pattern_stories s JOIN patterns p ON p.id = s.pattern_id
                      WHERE s.story_id IN (@r, @d) AND s.errors > 0 GROUP BY s.pattern_id", p).ToList()
                : c.Query<PatternDelta>(
                    $@"SELECT e.pattern_id AS PatternId, coalesce(p.display, p.template) AS Template, sum(e.story_id = @r) AS ReferenceCount, sum(e.story_id = @d) AS DifferenceCount
                       FROM events e JOIN patterns p ON p.id = e.pattern_id
                       WHERE {Errors.InEvents}{both.Where(c, p)} GROUP BY e.pattern_id", p).ToList();
            var result = new StoryComparison
            {
                Reference = r, Difference = d,
                RepeatedErrorsChangePercent = Change(r.RepeatedErrorRate, d.RepeatedErrorRate),
                ErrorRateChangePercent = Change(r.ErrorRate, d.ErrorRate),
                PatternsGained = counts.Where(x => x.ReferenceCount == 0 && x.DifferenceCount > 0).OrderByDescending(x => x.DifferenceCount).Take(top).ToArray(),
                PatternsLost = counts.Where(x => x.ReferenceCount > 0 && x.DifferenceCount == 0).OrderByDescending(x => x.ReferenceCount).Take(top).ToArray(),
                AgentsAdded = d.Agents.Except(r.Agents).ToArray(),
                AgentsRemoved = r.Agents.Except(d.Agents).ToArray(),
            };
            result.Headline = result.RepeatedErrorsChangePercent.HasValue
                ? $"Repeated errors changed by {result.RepeatedErrorsChangePercent.Value:+0.#;-0.#;0}% from story {reference} to {difference} ({r.RepeatedErrorRate:P1} → {d.RepeatedErrorRate:P1} of events)."
                : $"Story {reference} has no repeated errors to compare with.";
            return result;
        }

        private static double? Change(double before, double after) => before > 0 ? Math.Round((after - before) / before * 100, 1) : (double?)null;
    }
}
