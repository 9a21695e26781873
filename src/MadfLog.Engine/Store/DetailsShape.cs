using System;
using System.Text;
using System.Text.Json;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Splits a details object into its shape and its values, the way event_rows stores it (see Schema version 7):
    /// the shape is the object's JSON with its keys and true/false/null written in place and a placeholder where each
    /// of up to four values goes. Value k (1-4) is either a literal, placeholder \u000k: a number (an integer when it
    /// is one) or a long string or nested JSON as its exact JSON text; or a short string kept once in names,
    /// placeholder \u000(k+4), whose id is stored. Shapes (key sets) and short strings (tools, paths, models) repeat
    /// across events, so an event's details cost a few bytes. The events view puts the values back with replace(),
    /// which is safe because valid JSON never holds a raw control character.
    /// </summary>
    public static class DetailsShape
    {
        public const int Slots = 4;

        /// <summary>Strings up to this many bytes (as written, with escapes) are kept once in names: tool names, paths, models.</summary>
        public const int ShortString = 32;

        /// <summary>
        /// Encodes details into a shape and values (a long or JSON text literal, a <see cref="Name"/>, or null when unused).
        /// Returns false when the text is not
        /// one JSON object or needs more than four values: it is then stored whole.
        /// </summary>
        public static bool TryEncode(string details, out string shape, object?[] values)
        {
            shape = "";
            Array.Clear(values, 0, values.Length);
            if (details.Length == 0 || details.Length > 4096 || details[0] != '{') return false;
            var bytes = Encoding.UTF8.GetBytes(details);
            try
            {
                var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                var sb = new StringBuilder(details.Length);
                sb.Append('{');
                var used = 0;
                var first = true;
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.EndObject) break;
                    if (reader.TokenType != JsonTokenType.PropertyName) return false;
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append('"').Append(Raw(bytes, reader)).Append("\":");
                    if (!reader.Read()) return false;
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.String:
                            var raw = Raw(bytes, reader);
                            if (!Slot(sb, values, ref used, reader.ValueSpan.Length <= ShortString ? new Name(raw) : (object)("\"" + raw + "\""))) return false;
                            break;
                        case JsonTokenType.Number:
                            var text = Raw(bytes, reader);
                            object number = IsCanonicalInteger(text, out var n) ? n : (object)text;
                            if (!Slot(sb, values, ref used, number)) return false;
                            break;
                        case JsonTokenType.True: sb.Append("true"); break;
                        case JsonTokenType.False: sb.Append("false"); break;
                        case JsonTokenType.Null: sb.Append("null"); break;
                        case JsonTokenType.StartObject:
                        case JsonTokenType.StartArray:
                            var start = (int)reader.TokenStartIndex;
                            reader.Skip();
                            var nested = Encoding.UTF8.GetString(bytes, start, (int)reader.BytesConsumed - start);
                            if (!Slot(sb, values, ref used, nested)) return false;
                            break;
                        default:
                            return false;
                    }
                }
                if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return false; // trailing content: keep whole
                sb.Append('}');
                shape = sb.ToString();
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        /// <summary>Details as stored: the shape (null: stored whole in d1) and values, for the text they were made from.</summary>
        public sealed class Split
        {
            public Split(string? source)
            {
                Source = source;
                if (source != null && TryEncode(source, out var shape, Values)) Shape = shape;
            }

            public string? Source { get; }
            public string? Shape { get; }
            public object?[] Values { get; } = new object?[Slots];
        }

        /// <summary>A short string value kept in names; its text is the string as written between the quotes.</summary>
        public sealed class Name
        {
            public Name(string text) { Text = text; }
            public string Text { get; }
        }

        private static bool Slot(StringBuilder sb, object?[] values, ref int used, object value)
        {
            if (used == Slots) return false;
            values[used] = value;
            used++;
            sb.Append((char)(value is Name ? used + Slots : used));
            return true;
        }

        // The token as written (escapes kept); strings and names start one byte after their opening quote.
        private static string Raw(byte[] bytes, in Utf8JsonReader reader)
        {
            var quoted = reader.TokenType == JsonTokenType.String || reader.TokenType == JsonTokenType.PropertyName;
            return Encoding.UTF8.GetString(bytes, (int)reader.TokenStartIndex + (quoted ? 1 : 0), reader.ValueSpan.Length);
        }

        // Only integers whose text SQLite prints back the same way are stored as integers (no "-0", "01", "1e3", "1.0").
        private static bool IsCanonicalInteger(string text, out long value)
        {
            value = 0;
            if (text.Length == 0 || text.Length > 19) return false;
            var start = text[0] == '-' ? 1 : 0;
            if (start == text.Length) return false;
            for (var i = start; i < text.Length; i++) if (text[i] < '0' || text[i] > '9') return false;
            if (text[start] == '0' && (text.Length - start > 1 || start == 1)) return false;
            return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out value);
        }
    }
}
