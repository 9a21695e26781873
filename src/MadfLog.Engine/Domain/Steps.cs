using MadfLog.Engine.Events;

namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// The step an event is reported under (bottlenecks, summaries, sequences, rule effectiveness): the tool of a
    /// tool_call, the workflow step of a step event, otherwise the event type.
    /// </summary>
    public static class Steps
    {
        /// <summary>
        /// A tool_call that names no tool. The same word the transcript parser gives a tool use without a name, and what
        /// the import-time summaries (event_rollup.step) already hold for such calls.
        /// </summary>
        public const string UnnamedTool = "unknown";

        /// <summary>A step event that names no step is reported under its type, like any other event.</summary>
        public const string UnnamedStep = "step";

        /// <summary>The raw name from a tool_call's tool or a step event's step (null for other events or when missing).</summary>
        public static string? NameFromDetails(string eventType, string? tool, string? step) =>
            eventType == "tool_call" ? tool : eventType == "step" ? step : null;

        /// <summary>The name a step is reported under, given the event's raw step name (<see cref="EventRow.Step"/>).</summary>
        public static string Name(string eventType, string? step) =>
            eventType == "tool_call" ? step ?? UnnamedTool : eventType == "step" ? step ?? UnnamedStep : eventType;

        public static string Name(EventRow e) => Name(e.EventType, e.Step);

        /// <summary>The details' key that names a tool call's tool or a step's step (null for other events).</summary>
        public static string? DetailsKey(string eventType) => eventType == "tool_call" ? "tool" : eventType == "step" ? "step" : null;

        /// <summary>The same name in SQL, over the events view aliased <c>e</c>.</summary>
        public static readonly string NameSql = NameSqlOf("e.event_type", "e.details");

        /// <summary>
        /// The same name in SQL from an event type and its details (read only for tool calls and steps). Only a string
        /// names a step, as the import reads it (a number, true or an object is no name: unnamed).
        /// </summary>
        public static string NameSqlOf(string eventType, string details) =>
            $"CASE WHEN {eventType} = 'tool_call' THEN {StringOr(details, DetailsKey("tool_call")!, UnnamedTool)}" +
            $" WHEN {eventType} = 'step' THEN {StringOr(details, DetailsKey("step")!, UnnamedStep)}" +
            $" ELSE {eventType} END";

        private static string StringOr(string details, string key, string unnamed) =>
            $"CASE WHEN json_type({details}, '$.{key}') = 'text' THEN json_extract({details}, '$.{key}') ELSE '{unnamed}' END";

        /// <summary>What kind of step a name is: tool, step or event.</summary>
        public static string Kind(string eventType) => eventType == "tool_call" ? "tool" : eventType == "step" ? "step" : "event";

        /// <summary>The same kind in SQL, over the events view aliased <c>e</c>.</summary>
        public static readonly string KindSql = KindSqlOf("e.event_type");

        /// <summary>The same kind in SQL from an event type.</summary>
        public static string KindSqlOf(string eventType) => $"CASE {eventType} WHEN 'tool_call' THEN 'tool' WHEN 'step' THEN 'step' ELSE 'event' END";
    }
}
