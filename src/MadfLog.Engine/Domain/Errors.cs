using System;
using MadfLog.Engine.Events;

namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// What an error is, in C# and in SQL: an event with success false that is not a cascade (a call that failed only
    /// because a sibling call failed, "Sibling tool call errored"). Every count of errors uses these.
    /// </summary>
    public static class Errors
    {
        /// <summary>The category of an event that failed only because another one did.</summary>
        public const string CascadeCategory = "cascade";

        public static bool IsError(bool? success, string? category) =>
            success == false && !string.Equals(category, CascadeCategory, StringComparison.Ordinal);

        public static bool IsError(EventRow e) => IsError(e.Success, e.Category);

        /// <summary>
        /// The error kinds, as a set of kinds ids: a scan tests one membership per event instead of decoding its success
        /// and category.
        /// </summary>
        public const string Kinds = "(SELECT k.id FROM kinds k WHERE k.success = 0 AND k.category NOT IN (SELECT id FROM names WHERE text = '" + CascadeCategory + "'))";

        /// <summary>An error in the events view (or event_rows) aliased <c>e</c>.</summary>
        public const string InEvents = "e.kind IN " + Kinds;

        /// <summary>An error in event_rollup (summary rows keep outcome 0/1/-1 and the category's text); alias may be empty.</summary>
        public static string InRollup(string alias = "")
        {
            var a = alias.Length == 0 ? "" : alias + ".";
            return $"{a}outcome = 0 AND {a}category <> '{CascadeCategory}'";
        }
    }

    /// <summary>What pattern mining reads: errors, and human interactions, whose patterns are what they were about.</summary>
    public static class Mining
    {
        public const string HumanInteraction = "human_interaction";

        public static bool IsMinable(EventRow e) => Errors.IsError(e) || e.EventType == HumanInteraction;

        /// <summary>The text an event's pattern is mined from: its message, or the one in its details' split.</summary>
        public static string? MessageOf(EventRow e) => e.Message ?? e.StoredDetails?.Message;

        /// <summary>Whether the import gives the event a pattern id: minable, with a message to mine.</summary>
        public static bool WillMine(EventRow e) => IsMinable(e) && !string.IsNullOrWhiteSpace(MessageOf(e));
    }
}
