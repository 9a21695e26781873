using System;
using System.Collections.Generic;

namespace MadfLog.Engine.Store
{
    /// <summary>An event_rollup row's key (day_rollup's, after the day and story): what the whole-store questions group by.</summary>
    public readonly struct RollupKey : IEquatable<RollupKey>
    {
        public RollupKey(string agent, string workflow, string eventType, string category, string step, long pattern, int outcome)
        {
            Agent = agent; Workflow = workflow; EventType = eventType; Category = category; Step = step; Pattern = pattern; Outcome = outcome;
        }

        public string Agent { get; }
        public string Workflow { get; }
        public string EventType { get; }
        public string Category { get; }
        public string Step { get; }
        /// <summary>The pattern id, 0 for none.</summary>
        public long Pattern { get; }
        /// <summary>1 success, 0 failure, -1 unknown.</summary>
        public int Outcome { get; }

        public RollupKey WithPattern(long pattern) => new RollupKey(Agent, Workflow, EventType, Category, Step, pattern, Outcome);

        public bool Equals(RollupKey o) => Pattern == o.Pattern && Outcome == o.Outcome && Agent == o.Agent && Workflow == o.Workflow
            && EventType == o.EventType && Category == o.Category && Step == o.Step;
        public override bool Equals(object? obj) => obj is RollupKey o && Equals(o);
        public override int GetHashCode() => (Agent, Workflow, EventType, Category, Step, Pattern, Outcome).GetHashCode();
        public static bool operator ==(RollupKey a, RollupKey b) => a.Equals(b);
        public static bool operator !=(RollupKey a, RollupKey b) => !a.Equals(b);
    }

    /// <summary>The counts of an event_rollup row, or of a day_rollup row (which keeps no first and last time).</summary>
    public sealed class RollupCounts
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
            Events += o.Events; Timed += o.Timed; DurationMs += o.DurationMs; Tokens += o.Tokens; CtxKnown += o.CtxKnown; CtxHot += o.CtxHot; WastedMs += o.WastedMs;
            First = Math.Min(First, o.First);
            Last = Math.Max(Last, o.Last);
        }
    }

    /// <summary>A story_rollup row's counts.</summary>
    public sealed class StoryCounts
    {
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Patterned { get; set; }
        public long Tokens { get; set; }
        public long Human { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; } = long.MinValue;

        public void Add(StoryCounts o)
        {
            Events += o.Events; Errors += o.Errors; Patterned += o.Patterned; Tokens += o.Tokens; Human += o.Human;
            First = Math.Min(First, o.First);
            Last = Math.Max(Last, o.Last);
        }
    }

    /// <summary>A week_rollup row's counts.</summary>
    public sealed class WeekCounts
    {
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Patterned { get; set; }
        public long Tokens { get; set; }
        public long Human { get; set; }

        public void Add(WeekCounts o) { Events += o.Events; Errors += o.Errors; Patterned += o.Patterned; Tokens += o.Tokens; Human += o.Human; }
    }

    /// <summary>A session_rollup row: a session and agent's events with a context figure, split at the high-context threshold.</summary>
    public sealed class SessionCounts
    {
        public string? Story { get; set; }
        public double MaxContext { get; set; }
        public long Events { get; set; }
        public long Hot { get; set; }
        public long HotErrors { get; set; }
        public long Cool { get; set; }
        public long CoolErrors { get; set; }

        public void Add(SessionCounts o)
        {
            Events += o.Events; Hot += o.Hot; HotErrors += o.HotErrors; Cool += o.Cool; CoolErrors += o.CoolErrors;
            Story = string.CompareOrdinal(o.Story, Story) > 0 ? o.Story : Story;
            MaxContext = Math.Max(MaxContext, o.MaxContext);
        }
    }

    /// <summary>A session_day row: a session's events on one day in one story for one agent; the context split counts events with a context figure.</summary>
    public sealed class SessionDayCounts
    {
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Tokens { get; set; }
        public long Human { get; set; }
        public long CtxEvents { get; set; }
        public long Hot { get; set; }
        public long HotErrors { get; set; }
        public long Cool { get; set; }
        public long CoolErrors { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; } = long.MinValue;
        public double? MaxContext { get; set; }

        public void Add(SessionDayCounts o)
        {
            Events += o.Events; Errors += o.Errors; Tokens += o.Tokens; Human += o.Human;
            CtxEvents += o.CtxEvents; Hot += o.Hot; HotErrors += o.HotErrors; Cool += o.Cool; CoolErrors += o.CoolErrors;
            First = Math.Min(First, o.First);
            Last = Math.Max(Last, o.Last);
            if (o.MaxContext.HasValue) MaxContext = Math.Max(MaxContext ?? double.MinValue, o.MaxContext.Value);
        }
    }

    /// <summary>
    /// Summary rows in memory, keyed as the tables are: what the import adds up between flushes and
    /// <see cref="SummaryTables.Write"/> upserts.
    /// </summary>
    public sealed class SummaryRows
    {
        public Dictionary<RollupKey, RollupCounts> Groups { get; } = new Dictionary<RollupKey, RollupCounts>();
        public Dictionary<string, StoryCounts> Stories { get; } = new Dictionary<string, StoryCounts>();
        public HashSet<(string Story, string Agent)> StoryAgents { get; } = new HashSet<(string, string)>();
        /// <summary>Errors per pattern and story.</summary>
        public Dictionary<(long Pattern, string Story), long> PatternStories { get; } = new Dictionary<(long, string), long>();
        /// <summary>By the Monday of the week (days since 1970-01-01).</summary>
        public Dictionary<long, WeekCounts> Weeks { get; } = new Dictionary<long, WeekCounts>();
        public Dictionary<(string Session, string Agent), SessionCounts> Sessions { get; } = new Dictionary<(string, string), SessionCounts>();
        public Dictionary<(string Category, string Agent, string Story, long Pattern), long> Human { get; } = new Dictionary<(string, string, string, long), long>();
        public Dictionary<(string Agent, int Bucket), long> AgentHist { get; } = new Dictionary<(string, int), long>();
        public Dictionary<(string Kind, string Step, int Bucket), long> StepHist { get; } = new Dictionary<(string, string, int), long>();
        public Dictionary<(string Workflow, int Bucket), long> WorkflowHist { get; } = new Dictionary<(string, int), long>();
        /// <summary>Each pattern's earliest event counted here: its time and story (patterns.first_story).</summary>
        public Dictionary<long, (long Ts, string Story)> Firsts { get; } = new Dictionary<long, (long, string)>();
        // Day-grain summaries per story (day_rollup, day_hist, session_day), for questions with a story or whole days.
        public Dictionary<(long Day, string Story, RollupKey Group), RollupCounts> Days { get; } = new Dictionary<(long, string, RollupKey), RollupCounts>();
        /// <summary>Counts by bucket in an array (index: bucket) per day, story, scope and key: one entry per histogram, not per bucket.</summary>
        public Dictionary<(long Day, string Story, string Scope, string Key), long[]> DayHist { get; } = new Dictionary<(long, string, string, string), long[]>();
        public Dictionary<(long Day, string Story, string Session, string Agent), SessionDayCounts> SessionDays { get; } = new Dictionary<(long, string, string, string), SessionDayCounts>();

        /// <summary>Adds another set of rows (a batch summarised on the preparing thread) into this one.</summary>
        public void Merge(SummaryRows o)
        {
            foreach (var kv in o.Groups)
                if (!Groups.TryGetValue(kv.Key, out var g)) Groups[kv.Key] = kv.Value; else g.Add(kv.Value);
            foreach (var kv in o.Stories)
                if (!Stories.TryGetValue(kv.Key, out var st)) Stories[kv.Key] = kv.Value; else st.Add(kv.Value);
            StoryAgents.UnionWith(o.StoryAgents);
            foreach (var kv in o.PatternStories) Add(PatternStories, kv.Key, kv.Value);
            foreach (var kv in o.Weeks)
                if (!Weeks.TryGetValue(kv.Key, out var wk)) Weeks[kv.Key] = kv.Value; else wk.Add(kv.Value);
            foreach (var kv in o.Sessions)
                if (!Sessions.TryGetValue(kv.Key, out var sv)) Sessions[kv.Key] = kv.Value; else sv.Add(kv.Value);
            foreach (var kv in o.Human) Add(Human, kv.Key, kv.Value);
            foreach (var kv in o.AgentHist) Add(AgentHist, kv.Key, kv.Value);
            foreach (var kv in o.StepHist) Add(StepHist, kv.Key, kv.Value);
            foreach (var kv in o.WorkflowHist) Add(WorkflowHist, kv.Key, kv.Value);
            foreach (var kv in o.Firsts)
                if (!Firsts.TryGetValue(kv.Key, out var f) || kv.Value.Ts < f.Ts) Firsts[kv.Key] = kv.Value;
            foreach (var kv in o.Days)
                if (!Days.TryGetValue(kv.Key, out var d)) Days[kv.Key] = kv.Value; else d.Add(kv.Value);
            foreach (var kv in o.DayHist)
            {
                if (!DayHist.TryGetValue(kv.Key, out var h)) { DayHist[kv.Key] = kv.Value; continue; }
                if (h.Length < kv.Value.Length) { Array.Resize(ref h, kv.Value.Length); DayHist[kv.Key] = h; }
                for (var i = 0; i < kv.Value.Length; i++) h[i] += kv.Value[i];
            }
            foreach (var kv in o.SessionDays)
                if (!SessionDays.TryGetValue(kv.Key, out var sd)) SessionDays[kv.Key] = kv.Value; else sd.Add(kv.Value);
        }

        public void Clear()
        {
            Groups.Clear(); Stories.Clear(); StoryAgents.Clear(); PatternStories.Clear(); Weeks.Clear(); Sessions.Clear();
            Human.Clear(); AgentHist.Clear(); StepHist.Clear(); WorkflowHist.Clear(); Firsts.Clear(); Days.Clear(); DayHist.Clear(); SessionDays.Clear();
        }

        public static void Add<T>(Dictionary<T, long> d, T key, long n) where T : notnull => d[key] = d.TryGetValue(key, out var m) ? m + n : n;

        /// <summary>Adds n to one bucket of a day histogram.</summary>
        public void AddBucket((long Day, string Story, string Scope, string Key) key, int bucket, long n)
        {
            if (!DayHist.TryGetValue(key, out var h)) DayHist[key] = h = new long[bucket + 16];
            else if (h.Length <= bucket) { Array.Resize(ref h, bucket + 16); DayHist[key] = h; }
            h[bucket] += n;
        }
    }
}
