using System;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Events
{
    /// <summary>Reads well-known members of an event's details JSON.</summary>
    public static class EventDetails
    {
        /// <summary>
        /// Where an event's message is, in order of preference (also read by the import's DetailsShape.Splitter). Human
        /// interactions are often logged as { kind, question }: the question is what they were about, else their kind.
        /// </summary>
        public static readonly string[] MessageKeys = { "message", "error", "error_message", "errorMessage", "question", "kind" };
        private static readonly string[] QuotedMessageKeys = Array.ConvertAll(MessageKeys, k => "\"" + k + "\"");

        /// <summary>Where a call's input is: a shell's command, a file tool's target, any other tool's input.</summary>
        public static readonly string[] InputKeys = { "command", "target", "input" };

        /// <summary>Where a call's tool or a workflow step's name is.</summary>
        private static readonly string[] StepKeys = { "tool", "step" };

        /// <summary>A failed call as error signatures read it: its tool (or workflow step), its input and its message.</summary>
        [MethodImpl(Hot.Path)]
        public static (string? Tool, string? Input, string? Message) Call(string? details)
        {
            if (string.IsNullOrEmpty(details) || details![0] != '{') return (null, null, null);
            try
            {
                using var doc = JsonDocument.Parse(details);
                var root = doc.RootElement;
                string? First(string[] names)
                {
                    foreach (var name in names)
                        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString();
                    return null;
                }
                return (First(StepKeys), First(InputKeys), First(MessageKeys));
            }
            catch (JsonException) { return (null, null, null); }
        }

        /// <summary>The event's message: the first of <see cref="MessageKeys"/> it has.</summary>
        public static string? Message(string? details)
        {
            if (string.IsNullOrEmpty(details)) return null;
            // Most details hold none of the keys: not parsed (a key written with escapes is).
            if (details!.IndexOf('\\') < 0 && Array.TrueForAll(QuotedMessageKeys, k => details.IndexOf(k, StringComparison.Ordinal) < 0)) return null;
            try
            {
                using var doc = JsonDocument.Parse(details!);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
                foreach (var name in MessageKeys)
                {
                    if (doc.RootElement.TryGetProperty(name, out var v))
                        return v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText();
                }
            }
            catch (JsonException) { }
            return null;
        }
    }
}
