using System.Text.Json;

namespace MadfLog.Engine.Events
{
    /// <summary>Reads well-known members of an event's details JSON.</summary>
    public static class EventDetails
    {
        /// <summary>The event's message: details.message, else details.error, else details.error_message.</summary>
        public static string? Message(string? details)
        {
            if (string.IsNullOrEmpty(details)) return null;
            try
            {
                using var doc = JsonDocument.Parse(details!);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
                foreach (var name in new[] { "message", "error", "error_message", "errorMessage" })
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
