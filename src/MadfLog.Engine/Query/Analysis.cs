using System.Collections.Generic;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Query.Questions;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// The analysis questions, each answered from the store as typed objects: the entry points the cmdlets call. Each
    /// question lives in its own file under Questions/ and declares what its summaries answer; <see cref="Sources.For"/>
    /// alone decides whether the summaries, the day summaries or the events answer it. An error is Domain.Errors
    /// (success false, not a cascade); a repeated error is an occurrence of a pattern that already occurred earlier (in
    /// an earlier story or earlier in the same one).
    /// </summary>
    public static class Analysis
    {
        /// <summary>Whether the whole-store summaries answer a filter (no time window, no story).</summary>
        public static bool FromSummaries(QueryFilter f) => Sources.For(f, Summarised.WholeStore | Summarised.ByAgent) == Source.Summaries;

        /// <summary>Whether the day-grain summaries can answer a filter (a story, or a window: whole days, with the parts of days it cuts read from their events).</summary>
        public static bool FromDaySummaries(QueryFilter f) => Sources.For(f, Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent) == Source.DaySummaries;

        public static List<ErrorSummaryItem> ErrorSummary(SqliteConnection c, QueryFilter f, int top = 20) => ErrorSummaryQuestion.ErrorSummary(c, f, top);

        public static long CountErrors(SqliteConnection c, QueryFilter f) => CountsQuestion.CountErrors(c, f);

        public static long CountEvents(SqliteConnection c, QueryFilter f) => CountsQuestion.CountEvents(c, f);

        public static List<AgentPerformance> AgentPerformance(SqliteConnection c, QueryFilter f) => AgentPerformanceQuestion.AgentPerformance(c, f);

        public static List<Bottleneck> Bottlenecks(SqliteConnection c, QueryFilter f, int top = 10) => BottlenecksQuestion.Bottlenecks(c, f, top);

        /// <summary>Per-story figures, stories in version order.</summary>
        public static List<StoryMetrics> Stories(SqliteConnection c, QueryFilter f) => StoriesQuestion.Stories(c, f);

        public static StoryComparison CompareStories(SqliteConnection c, string reference, string difference, QueryFilter f, int top = 5) =>
            CompareStoriesQuestion.CompareStories(c, reference, difference, f, top);

        public static List<TrendPoint> Trend(SqliteConnection c, QueryFilter f) => TrendQuestion.Trend(c, f);

        public static List<HumanInteractionSummary> HumanInteractions(SqliteConnection c, QueryFilter f, int top = int.MaxValue) => HumanInteractionsQuestion.HumanInteractions(c, f, top);

        public static List<ToolFailure> ToolFailures(SqliteConnection c, QueryFilter f) => ToolFailuresQuestion.ToolFailures(c, f);

        /// <summary>Per-session summaries; <paramref name="sessionPattern"/> is a session id with optional * and ? wildcards.</summary>
        public static List<SessionSummary> Sessions(SqliteConnection c, QueryFilter f, string? sessionPattern = null) => SessionsQuestion.Sessions(c, f, sessionPattern);

        public static List<ContextPressure> ContextPressure(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent, int top = int.MaxValue) =>
            ContextPressureQuestion.ContextPressure(c, f, threshold, top);

        /// <summary>Overall error rate above and below the context threshold (what follows high context).</summary>
        public static (double above, double below, long aboveEvents) ContextEffect(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent) =>
            ContextPressureQuestion.ContextEffect(c, f, threshold);

        public sealed class EventFilter
        {
            public string[]? EventTypes { get; set; }
            public string[]? Categories { get; set; }
            public bool? Success { get; set; }
            public long? PatternId { get; set; }
            public string? SessionId { get; set; }
            public int? First { get; set; }
        }

        /// <summary>The raw events, oldest first, streamed.</summary>
        public static IEnumerable<EventRecord> Events(SqliteConnection c, QueryFilter f, EventFilter ef) => EventsQuestion.Events(c, f, ef);

        /// <summary>Distinct values for argument completion (stories in version order).</summary>
        public static List<string> DistinctValues(SqliteConnection c, string column, string prefix, int max = 200) => EventsQuestion.DistinctValues(c, column, prefix, max);
    }
}
