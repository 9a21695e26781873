using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per story and per ISO week, with a forecast of the next story.</summary>
    internal static class TrendQuestion
    {
        /// <summary>
        /// What the weekly part's summaries answer: the whole store (week_rollup), and a -Story filter or a window
        /// (day_rollup, with the parts of days a window cuts from their events, and patterns.first_story and first_seen
        /// placing each pattern's first occurrence, which is not a repeat); not an -Agent filter (a pattern's first agent is not kept). The stories' part is StoriesQuestion's.
        /// </summary>
        internal const Summarised WeeksAnswer = Summarised.WholeStore | Summarised.ByStory | Summarised.Days | Summarised.DayParts;

        internal static List<TrendPoint> Trend(SqliteConnection c, QueryFilter f)
        {
            var stories = StoriesQuestion.Stories(c, f);
            var points = stories.Select(s => new TrendPoint
            {
                Kind = "Story", Period = s.Story, Events = s.Events, ErrorRate = s.ErrorRate, RepeatedErrorRate = s.RepeatedErrorRate,
                TokensPerEvent = s.TokensPerEvent, HumanInteractions = s.HumanInteractions,
            }).ToList();
            foreach (var w in Weeks(c, f))
                points.Add(w);
            var forecast = StoryForecast.Next(stories.Select(s => (s.Events, s.Errors)).ToList());
            if (forecast != null) points.Add(forecast);
            return points;
        }

        private static List<TrendPoint> Weeks(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            List<DayCountsRow> days;
            Func<string, long, long> repeatedIn; // (week, errors with a pattern) → repeated errors
            var source = Sources.For(f, WeeksAnswer);
            if (source != Source.Events)
            {
                var whole = source == Source.Summaries && f.Stories is not { Length: > 0 };
                var (table, where) = whole ? ("", "") : Sources.SummaryTable(c, Source.DaySummaries, f, p, agents: false);
                days = whole
                    ? c.Query<DayCountsRow>("SELECT week AS Day, events, errors, patterned, tokens, human FROM week_rollup").ToList()
                    : c.Query<DayCountsRow>(
                        $@"SELECT r.day AS Day, sum(r.events) AS Events, coalesce(sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END), 0) AS Errors,
                                  coalesce(sum(CASE WHEN {Errors.InRollup("r")} AND r.pattern_id <> 0 THEN r.events END), 0) AS Patterned,
                                  sum(r.tokens) AS Tokens, coalesce(sum(CASE WHEN r.event_type = 'human_interaction' THEN r.events END), 0) AS Human
                           FROM {table} r WHERE 1=1{where} GROUP BY r.day", p).ToList();
                // Every occurrence but a pattern's first is a repeat; under a filter, a first counts where and when it happened.
                var firsts = c.Query<long>(ActiveFirsts("first_seen", FirstsWithin(f, p)), p)
                    .GroupBy(ts => IsoWeeks.Name(ts)).ToDictionary(g => g.Key, g => (long)g.Count());
                repeatedIn = (week, patterned) => Math.Max(0, patterned - (firsts.TryGetValue(week, out var n) ? n : 0));
            }
            else
            {
                var where = f.Where(c, p);
                days = c.Query<DayCountsRow>(
                    $@"SELECT {IsoWeeks.DaySql("e.timestamp")} AS Day, count(*) AS Events, coalesce(sum({Errors.InEvents}), 0) AS Errors,
                              coalesce(sum({Errors.InEvents} AND e.pattern_id IS NOT NULL), 0) AS Patterned, coalesce(sum(e.tokens_used), 0) AS Tokens,
                              coalesce(sum(e.event_type = 'human_interaction'), 0) AS Human
                       FROM events e WHERE 1=1{where} GROUP BY 1", p).ToList();
                var repeated = RepeatedByGroup(c, IsoWeeks.DaySql("e.timestamp"), where, p)
                    .GroupBy(kv => IsoWeeks.Name(long.Parse(kv.Key, CultureInfo.InvariantCulture) * IsoWeeks.DayMs))
                    .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
                repeatedIn = (week, _) => repeated.TryGetValue(week, out var n) ? n : 0;
            }
            return days.GroupBy(d => IsoWeeks.Name(d.Day * IsoWeeks.DayMs)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            {
                var n = g.Sum(d => d.Events);
                var repeated = repeatedIn(g.Key, g.Sum(d => d.Patterned));
                return new TrendPoint
                {
                    Kind = "Week", Period = g.Key, Events = n, ErrorRate = n > 0 ? Math.Round((double)g.Sum(d => d.Errors) / n, 4) : 0,
                    RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0, TokensPerEvent = n > 0 ? Math.Round((double)g.Sum(d => d.Tokens) / n, 1) : 0,
                    HumanInteractions = g.Sum(d => d.Human),
                };
            }).ToList();
        }

        /// <summary>A day's (or, from week_rollup, a week's Monday's) counts (mapped by column name).</summary>
        private sealed class DayCountsRow
        {
            public long Day { get; set; }
            public long Events { get; set; }
            public long Errors { get; set; }
            public long Patterned { get; set; }
            public long Tokens { get; set; }
            public long Human { get; set; }
        }
    }
}
