using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Text.Json;
using MadfLog.Engine.Query;

namespace MadfLog.Formatting
{
    /// <summary>
    /// Members that MadfLog.types.ps1xml adds to the engine's result types, so objects read like PowerShell's own:
    /// an event's Details as an object (its JSON text stays in DetailsJson). Written in C# so they work in every host,
    /// including ones without ConvertFrom-Json.
    /// </summary>
    public static class Members
    {
        /// <summary>EventRecord.Details: the details JSON as a PSCustomObject (nested objects and arrays kept), or null.</summary>
        public static object? EventDetails(PSObject instance) =>
            instance.BaseObject is EventRecord e ? FromJson(e.Details) : null;

        /// <summary>EventRecord.DetailsJson: the details as stored, one JSON text.</summary>
        public static string? EventDetailsJson(PSObject instance) =>
            instance.BaseObject is EventRecord e ? e.Details : null;

        /// <summary>JSON text as PowerShell objects; text that is not JSON comes back as it is.</summary>
        public static object? FromJson(string? json)
        {
            if (string.IsNullOrWhiteSpace(json)) return null;
            try
            {
                using var doc = JsonDocument.Parse(json!);
                return Convert(doc.RootElement);
            }
            catch (JsonException)
            {
                return json;
            }
        }

        private static object? Convert(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var o = new PSObject();
                    foreach (var p in e.EnumerateObject()) o.Properties.Add(new PSNoteProperty(p.Name, Convert(p.Value)));
                    return o;
                case JsonValueKind.Array:
                    var list = new List<object?>();
                    foreach (var item in e.EnumerateArray()) list.Add(Convert(item));
                    return list.ToArray();
                case JsonValueKind.String: return e.GetString();
                case JsonValueKind.Number: return e.TryGetInt64(out var l) ? l : e.GetDouble();
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                default: return null;
            }
        }
    }
}
