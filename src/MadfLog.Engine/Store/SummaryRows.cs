using System;
using System.Collections.Generic;

namespace MadfLog.Engine.Store
{
    /// <summary>An event_rollup row's key (day_rollup's, after the day and story): what the whole-store questions group by.</summary>
    internal readonly struct RollupKey : IEquatable<RollupKey>
    {
        public RollupKey(string agent, string workflow, string eventType, string category, string step, long pattern, int outcome)
        {
            Agent = agent; Workflow = workflow; EventType = eventType; Category = category; Step = step; Pattern = pattern; Outcome = outcome;
        }

        /// <summary>The agent's name, "" for none.</summary>
        public string Agent { get; }
        /// <summary>The workflow id, "" for none.</summary>
        public string Workflow { get; }
        public string EventType { get; }
        public string Category { get; }
        public string Step { get; }
        /// <summary>The pattern id, 0 for none.</summary>
        public long Pattern { get; }
        /// <summary>1 success, 0 failure, -1 unknown.</summary>
        public int Outcome { get; }

        public bool Equals(RollupKey other) => Pattern == other.Pattern && Outcome == other.Outcome
            && string.Equals(Agent, other.Agent, StringComparison.Ordinal) && string.Equals(Workflow, other.Workflow, StringComparison.Ordinal)
            && string.Equals(EventType, other.EventType, StringComparison.Ordinal) && string.Equals(Category, other.Category, StringComparison.Ordinal)
            && string.Equals(Step, other.Step, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is RollupKey o && Equals(o);

        public override int GetHashCode()
        {
            unchecked
            {
                var h = (int)Pattern * 31 + Outcome;
                h = h * 31 + Agent.GetHashCode();
                h = h * 31 + Workflow.GetHashCode();
                h = h * 31 + EventType.GetHashCode();
                h = h * 31 + Category.GetHashCode();
                return h * 31 + Step.GetHashCode();
            }
        }

        public static bool operator ==(RollupKey left, RollupKey right) => left.Equals(right);
        public static bool operator !=(RollupKey left, RollupKey right) => !left.Equals(right);
    }

    /// <summary>
    /// The counts of an event_rollup row (events, those with a duration, their duration, tokens, events with a context
    /// figure and those above the high-context threshold, time wasted, first and last time), or of a day_rollup row,
    /// which keeps no first and last time.
    /// </summary>
    internal class RollupCounts
    {
        public long Events { get; set; }
        public long Timed { get; set; }
        public long DurationMs { get; set; }
        public long Tokens { get; set; }
        public long CtxKnown { get; set; }
        public long CtxHot { get; set; }
        public long WastedMs { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; } = long.MinValue;

        public void Add(RollupCounts o)
        {
            Events += o.Events; Timed += o.Timed; DurationMs += o.DurationMs; Tokens += o.Tokens;
            CtxKnown += o.CtxKnown; CtxHot += o.CtxHot; WastedMs += o.WastedMs;
            First = Math.Min(First, o.First);
            Last = Math.Max(Last, o.Last);
        }
    }

    /// <summary>A week_rollup row's counts, and the same counts of a story_rollup row: events, errors (of those, the ones with a pattern), tokens, human interactions.</summary>
    internal class WeekCounts
    {
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Patterned { get; set; }
        public long Tokens { get; set; }
        public long Human { get; set; }

        /// <summary>Adds the events of one summary cell.</summary>
        public void Add(RollupCounts cell, bool error, bool patterned, bool human)
        {
            Events += cell.Events;
            if (error)
            {
                Errors += cell.Events;
                if (patterned) Patterned += cell.Events;
            }
            Tokens += cell.Tokens;
            if (human) Human += cell.Events;
        }
    }

    /// <summary>A story_rollup row's counts: a week's, with the story's first and last time.</summary>
    internal sealed class StoryCounts : WeekCounts
    {
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; } = long.MinValue;
    }

    /// <summary>
    /// A session's events with a context figure, split at the high-context threshold (hot: above it), with the errors
    /// among each side: session_rollup's counts and part of session_day's.
    /// </summary>
    internal class ContextSplit
    {
        /// <summary>Events with a context figure.</summary>
        public long CtxEvents { get; set; }
        public long Hot { get; set; }
        public long HotErrors { get; set; }
        public long Cool { get; set; }
        public long CoolErrors { get; set; }

        protected void AddSplit(ContextSplit o)
        {
            CtxEvents += o.CtxEvents; Hot += o.Hot; HotErrors += o.HotErrors; Cool += o.Cool; CoolErrors += o.CoolErrors;
        }
    }

    /// <summary>A session_rollup row: a session and agent's events with a context figure, its story (the greatest named) and the highest context.</summary>
    internal sealed class SessionCounts : ContextSplit
    {
        public string? Story { get; set; }
        public double MaxContext { get; set; }

        /// <summary>Adds one of the session's days.</summary>
        public void Add(string? story, SessionDayCounts day)
        {
            AddSplit(day);
            if (string.CompareOrdinal(story, Story) > 0) Story = story;
            if (day.MaxContext.HasValue) MaxContext = Math.Max(MaxContext, day.MaxContext.Value);
        }
    }

    /// <summary>A session_day row: a session's events on one day in one story for one agent, with the context split of those with a context figure.</summary>
    internal sealed class SessionDayCounts : ContextSplit
    {
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Tokens { get; set; }
        public long Human { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; } = long.MinValue;
        public double? MaxContext { get; set; }

        public void Add(SessionDayCounts o)
        {
            Events += o.Events; Errors += o.Errors; Tokens += o.Tokens; Human += o.Human;
            AddSplit(o);
            First = Math.Min(First, o.First);
            Last = Math.Max(Last, o.Last);
            if (o.MaxContext.HasValue) MaxContext = Math.Max(MaxContext ?? double.MinValue, o.MaxContext.Value);
        }
    }

    /// <summary>
    /// Summary rows in memory, keyed as their tables are: what the import adds up between flushes and
    /// <see cref="SummaryTables.Write"/> upserts.
    /// </summary>
    internal sealed class SummaryRows
    {
        public Dictionary<RollupKey, RollupCounts> Rollup { get; } = new Dictionary<RollupKey, RollupCounts>();
        public Dictionary<string, StoryCounts> Stories { get; } = new Dictionary<string, StoryCounts>();
        public HashSet<(string Story, string Agent)> StoryAgents { get; } = new HashSet<(string, string)>();
        /// <summary>Errors per pattern and story.</summary>
        public Dictionary<(long Pattern, string Story), long> PatternStories { get; } = new Dictionary<(long, string), long>();
        /// <summary>By the Monday of the week (days since 1970-01-01).</summary>
        public Dictionary<long, WeekCounts> Weeks { get; } = new Dictionary<long, WeekCounts>();
        public Dictionary<(string Session, string Agent), SessionCounts> Sessions { get; } = new Dictionary<(string, string), SessionCounts>();
        /// <summary>Human interactions per category, agent, story ("" for none) and pattern (0 for none): human_rollup, and summed without the pattern, human_groups.</summary>
        public Dictionary<(string Category, string Agent, string Story, long Pattern), long> Human { get; } = new Dictionary<(string, string, string, long), long>();
        public Dictionary<(string Agent, int Bucket), long> AgentHist { get; } = new Dictionary<(string, int), long>();
        public Dictionary<(string Kind, string Step, int Bucket), long> StepHist { get; } = new Dictionary<(string, string, int), long>();
        public Dictionary<(string Workflow, int Bucket), long> WorkflowHist { get; } = new Dictionary<(string, int), long>();
        /// <summary>Each pattern's earliest event counted here: its time and story ("" for none), for patterns.first_story.</summary>
        public Dictionary<long, (long Ts, string Story)> Firsts { get; } = new Dictionary<long, (long, string)>();
        // The day grain, per story ("" for none): day_rollup (no first and last time), day_hist, session_day.
        public Dictionary<(long Day, string Story, RollupKey Group), RollupCounts> Days { get; } = new Dictionary<(long, string, RollupKey), RollupCounts>();
        /// <summary>Counts by bucket (over the range of buckets met) per day, story, scope and key: one entry per histogram, not per bucket.</summary>
        internal Dictionary<(long Day, string Story, string Scope, string Key), BucketCounts> DayHist { get; } = new Dictionary<(long, string, string, string), BucketCounts>();
        /// <summary>Keyed by the story as logged (null: none; the table stores "").</summary>
        public Dictionary<(long Day, string? Story, string Session, string Agent), SessionDayCounts> SessionDays { get; } =
            new Dictionary<(long, string?, string, string), SessionDayCounts>();
        // The hour grain, the same rows per hour: hour_rollup, hour_hist, session_hour; and each story's span per hour (hour_stories).
        public Dictionary<(long Hour, string Story, RollupKey Group), RollupCounts> Hours { get; } = new Dictionary<(long, string, RollupKey), RollupCounts>();
        internal Dictionary<(long Hour, string Story, string Scope, string Key), BucketCounts> HourHist { get; } = new Dictionary<(long, string, string, string), BucketCounts>();
        /// <summary>Keyed by the story as logged (null: none; the table stores ""): counted per event, session_day's rows summed from them.</summary>
        public Dictionary<(long Hour, string? Story, string Session, string Agent), SessionDayCounts> SessionHours { get; } =
            new Dictionary<(long, string?, string, string), SessionDayCounts>();
        public Dictionary<(long Hour, string Story), (long First, long Last)> HourStories { get; } = new Dictionary<(long, string), (long, long)>();

        public void Clear()
        {
            Rollup.Clear(); Stories.Clear(); StoryAgents.Clear(); PatternStories.Clear(); Weeks.Clear(); Sessions.Clear(); Human.Clear();
            AgentHist.Clear(); StepHist.Clear(); WorkflowHist.Clear(); Firsts.Clear(); Days.Clear(); DayHist.Clear(); SessionDays.Clear();
            Hours.Clear(); HourHist.Clear(); SessionHours.Clear(); HourStories.Clear();
        }
    }
}
