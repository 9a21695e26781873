using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// The QuickLogger JSONL format: one JSON object per line, the events table's columns as snake_case
    /// (camelCase accepted), details a nested object, unknown fields folded into details.
    /// </summary>
    public sealed class MadfFormat : ILogFormat
    {
        public string Name => "Madf";

        public bool Recognizes(string path, ReadOnlySpan<byte> firstLine)
        {
            // A QuickLogger line names event_type (or eventType) at the top level.
            return firstLine.IndexOf(Encoding.ASCII.GetBytes("\"event_type\"")) >= 0
                || firstLine.IndexOf(Encoding.ASCII.GetBytes("\"eventType\"")) >= 0;
        }

        public ILineParser CreateParser(LogFileContext file) => new Parser(file.Options.Story);

        internal enum Field
        {
            Unknown, Timestamp, EventType, Category, SessionId, StoryId, WorkflowId, AgentName, DurationMs, TokensUsed,
            ContextPercent, Success, ConfidenceScore, Details, ImpactScore, TimeSavedOrWastedMs, UserSatisfactionDelta,
            CreatedRule, PatternDetected, NeedsReview, EventId,
        }

        // Normalised name (lower case, no underscores) → field, looked up by a hash of the span so parsing allocates nothing.
        private static readonly Int64Map<(string Name, Field Field)> Fields = BuildFields();

        private static Int64Map<(string Name, Field Field)> BuildFields()
        {
            var map = new Int64Map<(string Name, Field Field)>();
            foreach (Field f in Enum.GetValues(typeof(Field)))
                if (f != Field.Unknown)
                {
                    var name = f.ToString().ToLowerInvariant();
                    map.Set(Hash(name.AsSpan()), (name, f));
                }
            return map;
        }

        [MethodImpl(Hot.Path)]
        private static long Hash(ReadOnlySpan<char> s)
        {
            var h = 14695981039346656037UL;
            foreach (var c in s) { h ^= c; h *= 1099511628211UL; }
            return unchecked((long)h);
        }

        /// <summary>Maps "event_type", "eventType", "EventType" to one field: lower-case, underscores dropped.</summary>
        [MethodImpl(Hot.Path)]
        internal static Field Lookup(ReadOnlySpan<byte> name)
        {
            if (name.Length > 48) return Field.Unknown;
            Span<char> buf = stackalloc char[48];
            var n = 0;
            foreach (var b in name)
            {
                if (b == (byte)'_') continue;
                if (b >= 0x80) return Field.Unknown;
                buf[n++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            }
            var key = buf.Slice(0, n);
            return Fields.TryGetValue(Hash(key), out var entry) && key.SequenceEqual(entry.Name.AsSpan()) ? entry.Field : Field.Unknown;
        }

        internal static readonly long MinTimestamp = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        internal static readonly long MaxTimestamp = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        private sealed class Parser : ILineParser, IReplaysEarlierLines
        {
            private IdenticalLines _identical = new IdenticalLines();
            private long? _eventKey; // the line's event_id as its dedup key (null: none)

            private readonly string? _story;
            private readonly List<KeyValuePair<string, byte[]>> _unknown = new List<KeyValuePair<string, byte[]>>();
            // One cache per field, so each one's last value (the common hit: the next line is the same session) is checked first.
            private readonly Utf8StringCache _types = new Utf8StringCache(), _categories = new Utf8StringCache(), _sessions = new Utf8StringCache(),
                _stories = new Utf8StringCache(), _workflows = new Utf8StringCache(), _agents = new Utf8StringCache();
            private const int Remembered = 32;
            private readonly byte[]?[] _names = new byte[Remembered][];
            private readonly Field[] _fields = new Field[Remembered];
            // Each field's name as this file writes it, shared by the positions it is remembered at: lines of different
            // types put different fields at a position, and a copy of the name each time it changed was 47 MB per 1M events.
            private readonly byte[]?[] _written = new byte[(int)Field.EventId + 1][];
            private readonly DetailsShape.Splitter _splitter = new DetailsShape.Splitter();

            public Parser(string? story) { _story = story; }

            public long? EarliestPendingOffset => null;

            public void Replay(ReadOnlySpan<byte> line) => _identical.Next(StableHash.Hash(line));

            public byte[] SavedState() => _identical.State();

            public bool ContinueFrom(byte[] state)
            {
                if (!(IdenticalLines.FromState(state) is { } resumed)) return false;
                _identical = resumed;
                return true;
            }

            [MethodImpl(Hot.Path)]
            public LineOutcome Parse(ReadOnlySpan<byte> line, long lineNumber, long lineOffset, List<EventRow> output, out string? reason)
            {
                // Every line that reaches the parser counts, parsed or not, so a resumed file replays the same way. A line
                // with an event id is that id, so only its place in the window counts (no hash, no entry: most lines).
                var counted = false;
                try
                {
                    var row = ParseRow(line, out reason);
                    if (row != null && _eventKey != null)
                    {
                        _identical.Pass();
                        counted = true;
                        // An event with an id is that id (written twice, it is one event).
                        row.DedupKey = _eventKey.Value;
                        output.Add(row);
                        return LineOutcome.Parsed;
                    }
                    var hash = StableHash.Hash(line);
                    var occurrence = _identical.Next(hash);
                    counted = true;
                    if (row == null) return LineOutcome.Quarantined;
                    // A line without one is its content and its occurrence among identical lines of this file (repeats
                    // count, a copy of the file adds nothing).
                    row.DedupKey = IdenticalLines.Key(hash, occurrence);
                    output.Add(row);
                    return LineOutcome.Parsed;
                }
                catch (JsonException ex)
                {
                    reason = string.Format(Messages.Culture, Messages.ReasonInvalidJson, ex.Message.Split('\n')[0].Replace(" LineNumber: 0 |", ""));
                    return LineOutcome.Quarantined;
                }
                finally
                {
                    if (!counted) _identical.Next(StableHash.Hash(line));
                }
            }

            private byte[] Written(Field field, ReadOnlySpan<byte> name)
            {
                if (field == Field.Unknown) return name.ToArray();
                var written = _written[(int)field];
                if (written == null || !name.SequenceEqual(written)) _written[(int)field] = written = name.ToArray();
                return written;
            }

            [MethodImpl(Hot.Path)]
            private EventRow? ParseRow(ReadOnlySpan<byte> line, out string? reason)
            {
                _unknown.Clear();
                _eventKey = null;
                var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    reason = Messages.ReasonNotJsonObject;
                    return null;
                }
                var row = new EventRow();
                bool hasTs = false;
                ReadOnlySpan<byte> details = default;
                var hasDetails = false;
                var position = 0;
                var seen = 0u;
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.EndObject) break;
                    var nameSpan = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
                    // A logger writes its fields in the same order on every line: check the name seen at this position last time first.
                    Field field;
                    if (position < Remembered && _names[position] != null && !reader.ValueIsEscaped && nameSpan.SequenceEqual(_names[position]))
                        field = _fields[position];
                    else
                    {
                        field = reader.ValueIsEscaped ? Lookup(Encoding.UTF8.GetBytes(reader.GetString()!)) : Lookup(nameSpan);
                        if (position < Remembered && !reader.ValueIsEscaped) { _names[position] = Written(field, nameSpan); _fields[position] = field; }
                    }
                    position++;
                    // A column given twice ("timestamp" twice, or "event_type" and "eventType") has no one value to keep.
                    if (field != Field.Unknown)
                    {
                        var bit = 1u << (int)field;
                        if ((seen & bit) != 0) { reason = string.Format(Messages.Culture, Messages.ReasonFieldTwice, reader.GetString()); return null; }
                        seen |= bit;
                    }
                    var fieldName = field == Field.Unknown ? reader.GetString()! : null;
                    reader.Read();
                    var isNull = reader.TokenType == JsonTokenType.Null;
                    switch (field)
                    {
                        case Field.Timestamp:
                            if (!TryTimestamp(ref reader, out var ts, out reason)) return null;
                            row.Timestamp = ts; hasTs = true; break;
                        case Field.EventType: row.EventType = Text(ref reader, _types) ?? ""; break;
                        case Field.Category: row.Category = Text(ref reader, _categories) ?? ""; break;
                        case Field.SessionId: row.SessionId = Text(ref reader, _sessions); break;
                        case Field.StoryId: row.StoryId = Text(ref reader, _stories); break;
                        case Field.WorkflowId: row.WorkflowId = Text(ref reader, _workflows); break;
                        case Field.AgentName: row.AgentName = Text(ref reader, _agents); break;
                        case Field.DurationMs: if (!TryLong(ref reader, "duration_ms", out var d, out reason)) return null; row.DurationMs = d; break;
                        case Field.TokensUsed: if (!TryLong(ref reader, "tokens_used", out var t, out reason)) return null; row.TokensUsed = t; break;
                        case Field.TimeSavedOrWastedMs: if (!TryLong(ref reader, "time_saved_or_wasted_ms", out var w, out reason)) return null; row.TimeSavedOrWastedMs = w; break;
                        case Field.CreatedRule: if (!TryLong(ref reader, "created_rule", out var cr, out reason)) return null; row.CreatedRule = cr; break;
                        case Field.ContextPercent: if (!TryDouble(ref reader, "context_percent", out var cp, out reason)) return null; row.ContextPercent = cp; break;
                        case Field.ConfidenceScore: if (!TryDouble(ref reader, "confidence_score", out var cs, out reason)) return null; row.ConfidenceScore = cs; break;
                        case Field.ImpactScore: if (!TryDouble(ref reader, "impact_score", out var im, out reason)) return null; row.ImpactScore = im; break;
                        case Field.UserSatisfactionDelta: if (!TryDouble(ref reader, "user_satisfaction_delta", out var us, out reason)) return null; row.UserSatisfactionDelta = us; break;
                        case Field.Success: if (!TryBool(ref reader, "success", out var s, out reason)) return null; row.Success = s; break;
                        case Field.PatternDetected: if (!TryBool(ref reader, "pattern_detected", out var pd, out reason)) return null; row.PatternDetected = pd ?? false; break;
                        case Field.NeedsReview: if (!TryBool(ref reader, "needs_review", out var nr, out reason)) return null; row.NeedsReview = nr ?? false; break;
                        case Field.EventId:
                            // Identity only (it keys the event), not stored: the store keeps no per-event unique text.
                            _eventKey = EventIdKey(ref reader);
                            break;
                        case Field.Details:
                            if (isNull) break;
                            if (reader.TokenType != JsonTokenType.StartObject) { reason = string.Format(Messages.Culture, Messages.ReasonDetailsNotObject, Describe(reader.TokenType)); return null; }
                            var start = (int)reader.TokenStartIndex;
                            reader.Skip();
                            details = line.Slice(start, (int)reader.BytesConsumed - start);
                            hasDetails = true;
                            break;
                        default:
                            var from = (int)reader.TokenStartIndex;
                            reader.Skip();
                            _unknown.Add(new KeyValuePair<string, byte[]>(fieldName!, line.Slice(from, (int)reader.BytesConsumed - from).ToArray()));
                            break;
                    }
                }
                // Anything after the object other than whitespace is not one JSON value per line.
                if (reader.Read()) { reason = Messages.ReasonTextAfterObject; return null; }

                if (!hasTs) { reason = string.Format(Messages.Culture, Messages.ReasonMissingField, "timestamp"); return null; }
                if (row.EventType.Length == 0) { reason = string.Format(Messages.Culture, Messages.ReasonMissingField, "event_type"); return null; }
                if (row.Category.Length == 0) { reason = string.Format(Messages.Culture, Messages.ReasonMissingField, "category"); return null; }
                if (row.StoryId == null && _story != null) row.StoryId = _story;

                // One pass over the details gives what storage needs (shape and values) and what import reads (message, step).
                if (_unknown.Count > 0)
                {
                    row.Details = MergeDetails(details, hasDetails);
                    row.StoredDetails = _splitter.Of(row.Details);
                }
                else if (hasDetails) _splitter.Into(row, details);
                else row.StoredDetails = _splitter.Of(null);
                var split = row.StoredDetails!;
                if (row.Success == false || row.EventType.IndexOf("error", StringComparison.OrdinalIgnoreCase) >= 0)
                    row.Message = split.Message;
                if (row.EventType == "tool_call") row.Step = split.Tool;
                else if (row.EventType == "step") row.Step = split.Step;
                reason = null;
                return row;
            }

            private string MergeDetails(ReadOnlySpan<byte> details, bool hasDetails)
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms))
                {
                    w.WriteStartObject();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    if (hasDetails)
                    {
                        using var doc = JsonDocument.Parse(details.ToArray());
                        foreach (var p in doc.RootElement.EnumerateObject()) { seen.Add(p.Name); p.WriteTo(w); }
                    }
                    foreach (var u in _unknown)
                    {
                        if (!seen.Add(u.Key)) continue;
                        w.WritePropertyName(u.Key);
                        w.WriteRawValue(u.Value, skipInputValidation: true);
                    }
                    w.WriteEndObject();
                }
                return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
            }

            /// <summary>
            /// StableHash.Hash("madf:event_id", id) for the id as <see cref="Text"/> reads it, hashed from the line's bytes
            /// when they are its UTF-8 (no escape): a string per line for an id that is never stored was 60 MB per 1M events.
            /// </summary>
            [MethodImpl(Hot.Path)]
            private static long? EventIdKey(ref Utf8JsonReader r)
            {
                if ((r.TokenType == JsonTokenType.String || r.TokenType == JsonTokenType.Number) && !r.ValueIsEscaped && !r.HasValueSequence)
                    return StableHash.Hash("madf:event_id", r.ValueSpan);
                var text = Text(ref r);
                return text == null ? (long?)null : StableHash.Hash("madf:event_id", text);
            }
        }

        private static string Describe(JsonTokenType t) => t switch
        {
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.StartObject => "an object",
            _ => t.ToString().ToLowerInvariant(),
        };

        [MethodImpl(Hot.Path)]
        private static string? Text(ref Utf8JsonReader r, Utf8StringCache? cache = null)
        {
            switch (r.TokenType)
            {
                case JsonTokenType.String:
                    return cache != null && !r.ValueIsEscaped && !r.HasValueSequence ? cache.Get(r.ValueSpan) : r.GetString();
                case JsonTokenType.Number: return Encoding.UTF8.GetString(r.ValueSpan.ToArray());
                case JsonTokenType.Null: return null;
                default: r.Skip(); return null;
            }
        }

        [MethodImpl(Hot.Path)]
        private static bool TryTimestamp(ref Utf8JsonReader r, out long ms, out string? reason)
        {
            ms = 0; reason = null;
            if (r.TokenType == JsonTokenType.Number)
            {
                if (!r.TryGetInt64(out ms)) { if (r.TryGetDouble(out var dbl)) ms = (long)dbl; else { reason = Messages.ReasonTimestampNotMilliseconds; return false; } }
            }
            else if (r.TokenType == JsonTokenType.String)
            {
                if (r.TryGetDateTimeOffset(out var dto))
                {
                    // The reader takes a time without an offset as the machine's local time, so answers would depend on
                    // where the import ran: such a time is UTC (documented).
                    var written = r.ValueIsEscaped || r.HasValueSequence ? Encoding.UTF8.GetBytes(r.GetString()!) : r.ValueSpan;
                    if (!HasOffset(written)) dto = new DateTimeOffset(dto.DateTime, TimeSpan.Zero);
                }
                else
                {
                    var s = r.GetString();
                    if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out dto))
                    {
                        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ms)) goto check;
                        reason = string.Format(Messages.Culture, Messages.ReasonTimestampNotIso, Shorten(s));
                        return false;
                    }
                }
                ms = dto.ToUnixTimeMilliseconds();
            }
            else
            {
                reason = string.Format(Messages.Culture, Messages.ReasonTimestampType, Describe(r.TokenType));
                return false;
            }
        check:
            if (ms < MinTimestamp || ms > MaxTimestamp)
            {
                reason = string.Format(Messages.Culture, Messages.ReasonTimestampOutOfRange, ms);
                return false;
            }
            return true;
        }

        /// <summary>Whether an ISO-8601 text names its offset (Z, +hh:mm, -hhmm...) after the date.</summary>
        [MethodImpl(Hot.Path)]
        internal static bool HasOffset(ReadOnlySpan<byte> iso)
        {
            for (var i = 10; i < iso.Length; i++)
            {
                var b = iso[i];
                if (b == (byte)'Z' || b == (byte)'z' || b == (byte)'+' || b == (byte)'-') return true;
            }
            return false;
        }

        [MethodImpl(Hot.Path)]
        private static bool TryLong(ref Utf8JsonReader r, string name, out long? value, out string? reason)
        {
            value = null; reason = null;
            switch (r.TokenType)
            {
                case JsonTokenType.Null: return true;
                case JsonTokenType.Number:
                    if (r.TryGetInt64(out var l)) { value = l; return true; }
                    if (r.TryGetDouble(out var d) && InLongRange(d)) { value = (long)Math.Round(d); return true; }
                    // Too large for any field (1e30, 1e400): say so with the field's range, not "expected a number".
                    reason = Events.EventRanges.OutOfRange(name, Encoding.UTF8.GetString(r.ValueSpan.ToArray()));
                    return false;
                case JsonTokenType.String:
                    var s = r.GetString();
                    if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ls)) { value = ls; return true; }
                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var ds))
                    {
                        if (InLongRange(ds)) { value = (long)Math.Round(ds); return true; }
                        reason = Events.EventRanges.OutOfRange(name, Shorten(s));
                        return false;
                    }
                    reason = string.Format(Messages.Culture, Messages.ReasonNumberGotString, name, Shorten(s));
                    return false;
            }
            reason = string.Format(Messages.Culture, Messages.ReasonNumberGot, name, Describe(r.TokenType));
            if (r.TokenType == JsonTokenType.StartArray || r.TokenType == JsonTokenType.StartObject) r.Skip();
            return false;
        }

        [MethodImpl(Hot.Path)]
        private static bool TryDouble(ref Utf8JsonReader r, string name, out double? value, out string? reason)
        {
            value = null; reason = null;
            switch (r.TokenType)
            {
                case JsonTokenType.Null: return true;
                case JsonTokenType.Number:
                    if (r.TryGetDouble(out var d)) { value = d; return true; }
                    reason = Events.EventRanges.OutOfRange(name, Encoding.UTF8.GetString(r.ValueSpan.ToArray()));
                    return false;
                case JsonTokenType.String:
                    var s = r.GetString();
                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var ds)) { value = ds; return true; }
                    reason = string.Format(Messages.Culture, Messages.ReasonNumberGotString, name, Shorten(s));
                    return false;
            }
            reason = string.Format(Messages.Culture, Messages.ReasonNumberGot, name, Describe(r.TokenType));
            return false;
        }

        [MethodImpl(Hot.Path)]
        private static bool TryBool(ref Utf8JsonReader r, string name, out bool? value, out string? reason)
        {
            value = null; reason = null;
            switch (r.TokenType)
            {
                case JsonTokenType.Null: return true;
                case JsonTokenType.True: value = true; return true;
                case JsonTokenType.False: value = false; return true;
                case JsonTokenType.Number:
                    if (r.TryGetInt32(out var i) && (i == 0 || i == 1)) { value = i == 1; return true; }
                    break;
                case JsonTokenType.String:
                    var s = r.GetString();
                    if (s == "true" || s == "1" || s == "True") { value = true; return true; }
                    if (s == "false" || s == "0" || s == "False") { value = false; return true; }
                    reason = string.Format(Messages.Culture, Messages.ReasonBooleanGotString, name, Shorten(s));
                    return false;
            }
            reason = string.Format(Messages.Culture, Messages.ReasonBooleanGot, name, Describe(r.TokenType));
            return false;
        }

        // Inside long's range, NaN and infinities excluded (a cast of those is undefined); field ranges are checked after parsing.
        private static bool InLongRange(double d) => d >= -9.2e18 && d <= 9.2e18;

        private static string Shorten(string? s) => s == null ? "" : s.Length <= 40 ? s : s.Substring(0, 40) + "…";
    }
}
