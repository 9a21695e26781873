using System.Collections.Generic;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MadfLog.Engine.Text
{
    /// <summary>JSON writer settings shared by everything MadfLog writes, and JSON read as plain objects.</summary>
    public static class Json
    {
        /// <summary>
        /// Log lines and stored details keep characters like &lt; &gt; &amp; ' as they are (readable in the file and the
        /// database); the default encoder's HTML escaping protects nothing here, and reports escape on output.
        /// </summary>
        public static readonly JsonWriterOptions Readable = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>
        /// JSON text as dictionaries (objects, keys in order), object arrays, strings, longs, doubles, booleans and nulls;
        /// text that is not JSON comes back as it is.
        /// </summary>
        public static object? ToPlain(string? json)
        {
            if (string.IsNullOrWhiteSpace(json)) return null;
            try
            {
                using var doc = JsonDocument.Parse(json!);
                return Plain(doc.RootElement);
            }
            catch (JsonException)
            {
                return json;
            }
        }

        private static object? Plain(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var o = new List<KeyValuePair<string, object?>>();
                    foreach (var p in e.EnumerateObject()) o.Add(new KeyValuePair<string, object?>(p.Name, Plain(p.Value)));
                    return o;
                case JsonValueKind.Array: return e.EnumerateArray().Select(Plain).ToArray();
                case JsonValueKind.String: return e.GetString();
                // Boxed apart: one conditional of long and double would make every whole number a double.
                case JsonValueKind.Number: return e.TryGetInt64(out var l) ? (object)l : e.GetDouble();
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                default: return null;
            }
        }
    }
}
