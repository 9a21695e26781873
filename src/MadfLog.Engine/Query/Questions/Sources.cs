using System;
using Dapper;
using MadfLog.Engine.Domain;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Where a question's answer is read from.</summary>
    public enum Source
    {
        /// <summary>The whole-store summaries written at import (event_rollup, story_rollup, week_rollup, ...).</summary>
        Summaries,
        /// <summary>The day-grain summaries (day_rollup, day_hist, session_day), for a story or whole days.</summary>
        DaySummaries,
        /// <summary>The events view, bounded to the time blocks the filter meets.</summary>
        Events,
    }

    /// <summary>What a question's summary tables can answer; each question declares it and <see cref="Sources.For"/> decides.</summary>
    [Flags]
    public enum Summarised
    {
        /// <summary>Only the events answer (no summary keeps what the question needs).</summary>
        None = 0,
        /// <summary>The whole store, no filter: whole-store summaries.</summary>
        WholeStore = 1,
        /// <summary>The whole-store summaries are keyed by agent, so an -Agent filter still reads them.</summary>
        ByAgent = 2,
        /// <summary>The whole-store summaries are keyed by story, so a -Story filter still reads them.</summary>
        ByStory = 4,
        /// <summary>Day-grain summaries answer a story or a window of whole days.</summary>
        Days = 8,
    }

    /// <summary>
    /// The one dispatcher: which source answers a question under a filter. Whole-store questions (no time window, no
    /// story) read the import-time summaries; a story, or a window of whole days (-Since/-Until at midnight UTC), reads
    /// the day-grain summaries (a week reads seven days of rows); anything else (a window that cuts a day, a filter the
    /// question's summaries are not keyed by) reads the events, bounded to the id range of the time blocks it meets
    /// (docs/storage.md).
    /// </summary>
    public static class Sources
    {
        public static Source For(QueryFilter f, Summarised summarised)
        {
            var window = f.Since.HasValue || f.Until.HasValue;
            var stories = f.Stories is { Length: > 0 };
            var agents = f.Agents is { Length: > 0 };
            if ((summarised & Summarised.WholeStore) != 0 && !window
                && (!stories || (summarised & Summarised.ByStory) != 0) && (!agents || (summarised & Summarised.ByAgent) != 0))
                return Source.Summaries;
            if ((summarised & Summarised.Days) != 0 && (window || stories) && Midnight(f.Since) && Midnight(f.Until))
                return Source.DaySummaries;
            return Source.Events;
        }

        private static bool Midnight(DateTimeOffset? t) => !t.HasValue || t.Value.ToUnixTimeMilliseconds() % IsoWeeks.DayMs == 0;

        /// <summary>An -Agent filter on summary rows (alias r).</summary>
        internal static string AgentWhere(QueryFilter f, DynamicParameters p)
        {
            if (f.Agents is not { Length: > 0 }) return "";
            p.Add("agents", f.Agents);
            return " AND r.agent_name IN @agents";
        }

        /// <summary>The summary table that answers a source (whole store or day grain) and its WHERE conditions on alias r.</summary>
        internal static (string table, string where) SummaryTable(Source source, QueryFilter f, DynamicParameters p, bool agents = true)
        {
            if (source != Source.DaySummaries) return ("event_rollup", agents ? AgentWhere(f, p) : "");
            var where = agents ? AgentWhere(f, p) : "";
            if (f.Since.HasValue) { where += " AND r.day >= @sinceDay"; p.Add("sinceDay", IsoWeeks.DayOf(f.Since.Value.ToUnixTimeMilliseconds())); }
            if (f.Until.HasValue) { where += " AND r.day < @untilDay"; p.Add("untilDay", IsoWeeks.DayOf(f.Until.Value.ToUnixTimeMilliseconds())); }
            if (f.Stories is { Length: > 0 })
            {
                // The days of the stories' span (the tables are keyed by day first; no story index), then the stories.
                where += $@" AND r.day BETWEEN {IsoWeeks.DaySql("(SELECT min(first_ts) FROM story_rollup WHERE story_id IN @stories)")}
                             AND {IsoWeeks.DaySql("(SELECT max(last_ts) FROM story_rollup WHERE story_id IN @stories)")} AND r.story_id IN @stories";
                p.Add("stories", f.Stories);
            }
            return ("day_rollup", where);
        }
    }
}
