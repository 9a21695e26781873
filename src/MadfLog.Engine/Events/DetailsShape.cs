using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Events
{
    /// <summary>
    /// Splits a details object into its shape and its values, the way event_rows stores it (docs/storage.md):
    /// the shape is the object's JSON with its keys and true/false/null written in place and a placeholder where each
    /// of up to <see cref="Slots"/> values goes (<see cref="Placeholder"/>). Value k is either a literal: a number (an
    /// integer when it is one) or a string or nested JSON as its exact JSON text; or a string of at most
    /// <see cref="LongestName"/> bytes kept once in names, whose id is stored. Shapes (key sets) and strings (tools,
    /// paths, models) repeat across events, so an event's details cost a few bytes. The events view puts the values back
    /// with replace(), which is safe because valid JSON never holds a raw control character.
    /// A string stored as a literal keeps its quotes, and the start its key's strings share (an id's type prefix, such
    /// as a message or tool-use id's, or a common folder), in the shape: the row holds only the rest (<see cref="Quoted"/>).
    /// An object with more values keeps all but one in place and its remaining members, from the last slot's on, as
    /// one literal: their exact JSON text (keys included). A key whose strings rarely repeat (ids such as tool_use_id,
    /// messages with numbers in them) has them stored as literals: a names row and its index entry for a string seen
    /// once cost twice the string. A key's first few different short strings that recur are written into the shape
    /// itself (<see cref="Splitter.InShape"/>), so keys with few values (tools, models, stop reasons) take no slot.
    /// </summary>
    public static class DetailsShape
    {
        /// <summary>
        /// Values per event row (d1..d3). Each slot costs every row a byte of record header. Schema 13 gave rows eight, so
        /// that a Claude Code response's seven members fit (its usage tail as one literal, about 110 bytes, was the
        /// largest part of a row); since its model and stop reason are written into the shape (<see cref="Splitter.InShape"/>)
        /// it needs five, and schema 32 dropped d6..d8 (3 bytes per row). Since schema 84 the last slot holds up to
        /// <see cref="MostPacked"/> small integers packed into one (<see cref="PackedPart"/>), so the response's four
        /// counts take two slots, and rows have three (2 bytes less per row; only the responses used d4 and d5).
        /// </summary>
        public const int Slots = 3;

        /// <summary>The slots rows had from schema 32 to 83 (d1..d5): what migrations of those schemas split into.</summary>
        internal const int SlotsOf32 = 5;

        /// <summary>
        /// How many integers the last slot may hold packed into one: an object whose values from the last slot's on are
        /// all integers in [0, 2^<see cref="PackedBits"/>) (counts: tokens, lines, matches) keeps them in that slot, at
        /// <see cref="PackedBits"/> bits each, instead of its members as one literal (their keys included).
        /// </summary>
        public const int MostPacked = 3;

        /// <summary>Bits per packed integer: three fit SQLite's 63 bits of a non-negative integer.</summary>
        public const int PackedBits = 21;

        /// <summary>The largest integer that is packed (2^<see cref="PackedBits"/> - 1), and the mask of a part's bits.</summary>
        public const long PackedMask = (1L << PackedBits) - 1;

        // The character of the last (lowest) packed part; parts before it take the characters before (22-24 for three).
        private const int LastPackedPart = 24;

        /// <summary>
        /// The control character standing for packed part j (0-based, in the object's order) of <paramref name="parts"/>
        /// in the last slot: 22-24, where the character tells the part's bits, c standing for bits from
        /// <see cref="PackedBits"/> * (24 - c) (the last part is the lowest, so two parts of small counts take 6 bytes).
        /// </summary>
        public static char PackedPart(int j, int parts) => (char)(LastPackedPart - (parts - 1 - j));

        /// <summary>The shift of the bits packed part character <paramref name="c"/> (22-24) stands for.</summary>
        public static int PackedShift(int c) => PackedBits * (LastPackedPart - c);

        /// <summary>
        /// What placeholder character <paramref name="c"/> stands for: the slot (1-based) of its value, 0 for any other
        /// character; <paramref name="name"/> when the value is a names id, <paramref name="shift"/> &gt;= 0 when it is a
        /// part of the last slot's packed integers (the bits it starts at), else -1.
        /// </summary>
        [MethodImpl(Hot.Small)]
        public static int SlotOf(int c, out bool name, out int shift)
        {
            name = false;
            shift = -1;
            if (c >= 1 && c <= 4) return c;
            if (c >= 14 && c <= 17) return c - 9;
            name = true;
            if (c >= 5 && c <= 8) return c - 4;
            if (c >= 18 && c <= 21) return c - 13;
            name = false;
            if (c > LastPackedPart - MostPacked && c <= LastPackedPart) { shift = PackedShift(c); return Slots; }
            return 0;
        }

        /// <summary>Packed part <paramref name="shift"/> of a last slot's value.</summary>
        public static long Unpacked(long packed, int shift) => (packed >> shift) & PackedMask;

        /// <summary>
        /// The control character standing for value k (1-based) in a shape: as a literal, k for k 1-4 and 9 + k for
        /// k 5-8 (14-17); as a names id, k + 4 (5-8) and 13 + k (18-21). Slots 1-4 keep the characters of stores
        /// written before there were eight (schema 13), and 9-13 (JSON whitespace, vertical tab, form feed) are never
        /// used; 6-8 are only in rows written between schemas 13 and 31 (schema 32 converts them).
        /// </summary>
        public static char Placeholder(int k, bool name) => (char)(k <= 4 ? (name ? k + 4 : k) : (name ? 13 + k : 9 + k));

        /// <summary>Strings up to this many bytes (as written, with escapes) are short: tool names, models, most paths.</summary>
        public const int ShortString = 32;

        /// <summary>
        /// Strings up to this many bytes are kept once in names from their second sighting (absolute paths, commands,
        /// recurring messages); see <see cref="Splitter"/>.
        /// </summary>
        public const int LongestName = 256;

        /// <summary>Longer details are stored whole: shaping pays off on the many small ones.</summary>
        public const int MaxShaped = 4096;

        /// <summary>
        /// Details as stored, for the text they were made from: the shape (null: stored whole in d1) and the values
        /// (a long, a JSON text literal, a <see cref="Name"/>, or null when unused); and, read in the same pass, the
        /// well-known members import needs (the message and the tool or step), so nobody parses the details again.
        /// </summary>
        public sealed class Split
        {
            internal Split(string? source, int slots = Slots) { Source = source; Values = new object?[slots]; }

            public string? Source { get; }
            public string? Shape { get; internal set; }
            public object?[] Values { get; }

            /// <summary>The message as <see cref="Events.EventDetails.Message"/> reads it (a string, or other JSON as text).</summary>
            public string? Message { get; internal set; }

            /// <summary>details.tool and details.step when they are strings.</summary>
            public string? Tool { get; internal set; }
            public string? Step { get; internal set; }

            /// <summary>
            /// The details text put back from the shape and values (as <see cref="Join"/> does from a stored row): the text
            /// split, when it had no whitespace between its tokens (<see cref="Splitter.Into"/>). Only for a split with a shape.
            /// </summary>
            [MethodImpl(Hot.Path)]
            internal string Joined()
            {
                var shape = Shape!;
                var sb = new StringBuilder(shape.Length + 64);
                var start = 0;
                for (var i = 0; i < shape.Length; i++)
                {
                    var k = SlotOf(shape[i], out _, out var shift);
                    if (k == 0 || k > Values.Length) continue;
                    sb.Append(shape, start, i - start);
                    start = i + 1;
                    switch (Values[k - 1])
                    {
                        case long l: sb.Append((shift >= 0 ? Unpacked(l, shift) : l).ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                        case Name n: sb.Append('"').Append(n.Text).Append('"'); break;
                        case Quoted q: sb.Append(q.Json, 1 + q.Skip, q.Json.Length - 2 - q.Skip); break;
                        case string s: sb.Append(s); break;
                    }
                }
                return sb.Append(shape, start, shape.Length - start).ToString();
            }
        }

        /// <summary>
        /// A string value stored as a literal: <see cref="Json"/> is its exact JSON text, quotes included (what redaction
        /// checks); the shape holds its opening quote and first <see cref="Skip"/> bytes (as written, ASCII) before its
        /// placeholder and its closing quote after, so the row stores only <see cref="Stored"/>, what lies between.
        /// </summary>
        public sealed class Quoted
        {
            public Quoted(string json, int skip) { Json = json; Skip = skip; }
            public string Json { get; }
            public int Skip { get; }
            private string? _stored;
            public string Stored => _stored ??= Json.Substring(1 + Skip, Json.Length - 2 - Skip);
        }

        /// <summary>A short string value kept in names; its text is the string as written between the quotes.</summary>
        public sealed class Name
        {
            public Name(string text) { Text = text; }
            public string Text { get; }
        }

        /// <summary>
        /// Puts stored details back together as the events view does (its replace() of each placeholder): the shape
        /// (null: <paramref name="values"/>[0] is the whole details), the values as SQLite gives them as text (a names
        /// id as its digits), and the text of a names id (null when there is none). As in the view, a missing value or
        /// name becomes nothing, and the last slot's packed parts are its integer's bits. Rows of schemas 32 to 83 (five
        /// values, <see cref="SlotsOf32"/>) are put back as that view did: a row without a fifth value has only
        /// placeholders 1-8 put back; values 6-8 (of rows written before schema 32) when <paramref name="values"/> holds them.
        /// </summary>
        public static string? Join(string? shape, string?[] values, Func<long, string?> name)
        {
            if (shape == null) return values[0];
            var fifth = values.Length > 4 && values[4] != null;
            var last = Math.Min(8, values.Length);
            StringBuilder? sb = null;
            var start = 0;
            for (var i = 0; i < shape.Length; i++)
            {
                int c = shape[i];
                var k = SlotOf(c, out var isName, out var shift);
                if (k == 0 || k > last || c >= 14 && c <= 21 && !fifth) continue;
                if (shift >= 0 && values.Length != Slots) continue; // packed parts are this layout's
                sb ??= new StringBuilder(shape.Length + 64);
                sb.Append(shape, start, i - start);
                start = i + 1;
                var v = values[k - 1];
                if (shift >= 0)
                {
                    if (v != null) sb.Append(Unpacked(LeadingInteger(v), shift).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (!isName) sb.Append(v);
                else if (v != null && long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var id)
                         && name(id) is string text)
                    sb.Append('"').Append(text).Append('"');
            }
            if (sb == null) return shape;
            return sb.Append(shape, start, shape.Length - start).ToString();
        }

        // A value as SQLite's >> reads it (the view's packed parts): the integer its text starts with, after any spaces
        // (0 when there is none); only a row written by hand holds anything but an integer there.
        private static long LeadingInteger(string text)
        {
            var i = 0;
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            var negative = i < text.Length && text[i] == '-';
            if (i < text.Length && (text[i] == '-' || text[i] == '+')) i++;
            long value = 0;
            for (; i < text.Length && text[i] >= '0' && text[i] <= '9'; i++) value = unchecked(value * 10 + (text[i] - '0'));
            return negative ? -value : value;
        }

        private static readonly byte[][] MessageKeys = Array.ConvertAll(Events.EventDetails.MessageKeys, Encoding.ASCII.GetBytes);
        private static readonly byte[] ToolKey = Encoding.ASCII.GetBytes("tool"), StepKey = Encoding.ASCII.GetBytes("step");

        /// <summary>
        /// Splits details; one instance per thread (it keeps a buffer and decodes repeated shapes and names once).
        /// </summary>
        public sealed class Splitter
        {
            private readonly int _slots;
            private readonly bool _packs;

            public Splitter() : this(Slots) { }

            /// <summary>A splitter into <paramref name="slots"/> values (a migration of an older layout's); only this layout's packs integers.</summary>
            internal Splitter(int slots) { _slots = slots; _packs = slots == Slots; }

            private readonly Utf8StringCache _shapes = new Utf8StringCache(512);
            private readonly Utf8StringCache _names = new Utf8StringCache(ShortString);
            private byte[] _shape = new byte[256];
            private byte[] _utf8 = new byte[256];

            // Per key (by the hash of its name): whether its short strings repeat, judged on the first Sample of them; and
            // its first InShape different short strings, which are written into the shape itself.
            private const int Sample = 256;
            private sealed class KeyValues
            {
                public int Seen;
                public HashSet<long>? Distinct = new HashSet<long>();
                public bool Inline;
                public readonly Int64Map<bool> Shaped = new Int64Map<bool>(32);
                public HashSet<long>? SeenOnce = new HashSet<long>(); // candidates for Shaped: seen once, at most SeenOnceKept
            }

            private const int SeenOnceKept = 64;

            /// <summary>
            /// How many different short strings of a key are written into the shape (in place, with their quotes) rather
            /// than stored as a value, from their second sighting on: a key with a few values (a tool, a model, a stop
            /// reason, a step) then costs its rows no byte and no slot, so a Claude Code response's seven members need five
            /// slots. Each such string makes its own shapes (one names row each), so only a key's first few recurring ones
            /// get there (a string seen once, an id or a one-off message, never does), and at most <see cref="ShapesMade"/>
            /// shapes per splitter; a key's other strings are names ids or literals as before.
            /// </summary>
            public const int InShape = 16;

            /// <summary>Shapes a splitter makes with strings in them before it writes none there any more (see <see cref="InShape"/>).</summary>
            public const int ShapesMade = 4096;
            private readonly Int64Map<bool> _shapesMade = new Int64Map<bool>();

            private enum Place { Name, Literal, Shape }
            private readonly Int64Map<KeyValues> _keys = new Int64Map<KeyValues>();

            // Per key (by the hash of its name): the start its literal strings share, learned on the first PrefixSample of
            // them (none is shared before), as written and ASCII only (it must not end inside an escape or a character).
            private const int PrefixSample = 64, LongestPrefix = 64;
            private sealed class KeyPrefix
            {
                public int Seen;
                public byte[] Bytes = Array.Empty<byte>();
                public int Length;
            }
            private readonly Int64Map<KeyPrefix> _prefixes = new Int64Map<KeyPrefix>();

            /// <summary>How many bytes at the start of this literal string of the key go into the shape.</summary>
            [MethodImpl(Hot.Path)]
            private int SharedPrefix(ReadOnlySpan<byte> key, ReadOnlySpan<byte> text)
            {
                var hash = StableHash.Hash(key) ^ key.Length;
                if (!_prefixes.TryGetValue(hash, out var p))
                {
                    if (_prefixes.Count >= 4096) return 0; // arbitrary keys (a map used as an object)
                    _prefixes.Set(hash, p = new KeyPrefix());
                }
                if (p.Seen >= PrefixSample) return p.Length > 0 && text.StartsWith(new ReadOnlySpan<byte>(p.Bytes, 0, p.Length)) ? p.Length : 0;
                if (p.Seen++ == 0)
                {
                    var n = 0;
                    while (n < text.Length && n < LongestPrefix && text[n] < 0x80 && text[n] != (byte)'\\') n++;
                    p.Bytes = text.Slice(0, n).ToArray();
                    p.Length = n;
                }
                else
                {
                    var n = 0;
                    while (n < p.Length && n < text.Length && text[n] == p.Bytes[n]) n++;
                    p.Length = n;
                }
                return 0;
            }

            // Longer strings seen so far (by hash), to keep one in names from its second sighting on.
            private readonly Int64Map<bool> _seenLong = new Int64Map<bool>();

            /// <summary>
            /// Where a string of this key goes: a short one into the shape when it is one of the key's first
            /// <see cref="InShape"/> different strings seen twice, else to names, unless most of the key's values were new (ids:
            /// literals); a longer one to names once it has been seen before (a path or command that recurs, not a
            /// message with numbers in it).
            /// </summary>
            [MethodImpl(Hot.Path)]
            private Place PlaceOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
            {
                if (value.Length > LongestName) return Place.Literal;
                if (value.Length > ShortString)
                {
                    if (_seenLong.Count >= 100_000) _seenLong.Clear(); // memory stays bounded; a recurring string is soon seen again
                    return _seenLong.TryAdd(StableHash.Hash(value) ^ value.Length, true) ? Place.Literal : Place.Name;
                }
                var hash = StableHash.Hash(key) ^ key.Length;
                if (!_keys.TryGetValue(hash, out var values))
                {
                    if (_keys.Count >= 4096) return Place.Name; // arbitrary keys (a map used as an object): as before
                    _keys.Set(hash, values = new KeyValues());
                }
                var valueHash = StableHash.Hash(value) ^ value.Length;
                var shaped = !values.Inline && _shapesMade.Count < ShapesMade && (values.Shaped.ContainsKey(valueHash) || Recurs(values, valueHash));
                if (values.Distinct == null) return values.Inline ? Place.Literal : shaped ? Place.Shape : Place.Name;
                values.Distinct.Add(valueHash);
                if (++values.Seen < Sample) return shaped ? Place.Shape : Place.Name;
                // Judged once: a key is an id when nine in ten of its values were different.
                values.Inline = values.Distinct.Count * 10 >= values.Seen * 9;
                values.Distinct = null;
                return values.Inline ? Place.Literal : shaped ? Place.Shape : Place.Name;
            }

            // Whether a string not yet in the key's shapes goes there now: on its second sighting, while the key has room.
            private static bool Recurs(KeyValues values, long valueHash)
            {
                if (values.SeenOnce == null) return false;
                if (values.SeenOnce.Remove(valueHash))
                {
                    values.Shaped.TryAdd(valueHash, true);
                    if (values.Shaped.Count >= InShape) values.SeenOnce = null;
                    return true;
                }
                if (values.SeenOnce.Count < SeenOnceKept) values.SeenOnce.Add(valueHash);
                return false;
            }

            /// <summary>Splits details text (null gives an empty split).</summary>
            public Split Of(string? details)
            {
                var split = new Split(details, _slots);
                if (details == null || details.Length == 0 || details[0] != '{') return split;
                var max = Encoding.UTF8.GetMaxByteCount(details.Length);
                if (_utf8.Length < max) _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
                var n = Encoding.UTF8.GetBytes(details, 0, details.Length, _utf8, 0);
                Fill(split, new ReadOnlySpan<byte>(_utf8, 0, n));
                return split;
            }

            /// <summary>
            /// Splits details in hand as UTF-8 (a parser's line or buffer) into the row: the row keeps the split, and its
            /// text is made from it only if read, when the split puts back exactly these bytes (a shape, and no whitespace
            /// between tokens, which a shape drops); otherwise the text is decoded now. <paramref name="written"/>: the
            /// caller wrote the bytes itself with an unindented <see cref="Utf8JsonWriter"/>, which puts no whitespace
            /// between tokens, so they are not scanned for it (a scan of every transcript event's details was about 2% of
            /// an import's CPU).
            /// </summary>
            [MethodImpl(Hot.Path)]
            public void Into(EventRow row, ReadOnlySpan<byte> details, bool written = false)
            {
                var split = Of(details, null);
                if (split.Shape != null && (written || WithoutSpaces(details))) { row.DetailsFromSplit(split); return; }
                row.Details = Utf8StringCache.Decode(details);
                row.StoredDetails = split;
            }

            private static readonly byte[] JsonSpaces = { (byte)' ', (byte)'\t', (byte)'\n', (byte)'\r' };

            // Whether JSON text has no whitespace outside its strings. Most details have none at all (one vectorized
            // search); otherwise each string is skipped to its closing quote by a search too, not byte by byte (the byte
            // loop was about 2% of an import's CPU).
            [MethodImpl(Hot.Path)]
            private static bool WithoutSpaces(ReadOnlySpan<byte> json)
            {
                if (json.IndexOfAny(JsonSpaces) < 0) return true;
                var i = 0;
                while (i < json.Length)
                {
                    var b = json[i++];
                    if (b == (byte)'"')
                    {
                        while (true)
                        {
                            if (i >= json.Length) return true;
                            var next = json.Slice(i).IndexOfAny((byte)'"', (byte)'\\');
                            if (next < 0) return true;
                            i += next;
                            if (json[i] == (byte)'\\') { i += 2; continue; }
                            i++;
                            break;
                        }
                    }
                    else if (IsJsonSpace(b)) return false;
                }
                return true;
            }

            /// <summary>Splits details already in hand as UTF-8 (the parser's line), for the text <paramref name="source"/>.</summary>
            [MethodImpl(Hot.Path)]
            public Split Of(ReadOnlySpan<byte> details, string? source)
            {
                var split = new Split(source, _slots);
                if (details.Length == 0 || details[0] != (byte)'{') return split;
                Fill(split, details);
                return split;
            }

            [MethodImpl(Hot.Path)]
            private void Fill(Split split, ReadOnlySpan<byte> json)
            {
                var messageRank = int.MaxValue;
                try
                {
                    var reader = new Utf8JsonReader(json);
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return;
                    var length = 0;
                    Put(ref length, (byte)'{');
                    var used = 0;
                    _packed = 0;
                    var shaped = true;
                    var inShape = false;
                    // Where the current member starts, in the shape (after its comma) and in the JSON (its key's quote);
                    // and, once a value beyond the last slot comes, where the tail (the last slot's member on) starts in the JSON.
                    int memberShape = 0, memberJson = 0, lastShape = 0, lastJson = 0, tailJson = -1;
                    while (reader.Read())
                    {
                        if (reader.TokenType == JsonTokenType.EndObject) break;
                        if (reader.TokenType != JsonTokenType.PropertyName) return;
                        if (length > 1) Put(ref length, (byte)',');
                        memberShape = length;
                        memberJson = (int)reader.TokenStartIndex;
                        var key = reader.ValueSpan;
                        Put(ref length, (byte)'"');
                        Put(ref length, reader.ValueSpan);
                        Put(ref length, (byte)'"');
                        Put(ref length, (byte)':');
                        var rank = MessageRank(ref reader);
                        var isTool = reader.ValueTextEquals(ToolKey);
                        var isStep = !isTool && reader.ValueTextEquals(StepKey);
                        if (!reader.Read()) return;
                        // A string written into the shape takes no slot (and after the last slot it starts no tail).
                        var place = reader.TokenType == JsonTokenType.String ? PlaceOf(key, reader.ValueSpan) : Place.Literal;
                        var valued = reader.TokenType is JsonTokenType.Number or JsonTokenType.StartObject or JsonTokenType.StartArray
                            || reader.TokenType == JsonTokenType.String && place != Place.Shape;
                        if (valued && used == _slots - 1) { lastShape = memberShape; lastJson = memberJson; }
                        if (valued && used == _slots && tailJson < 0) tailJson = lastJson;
                        switch (reader.TokenType)
                        {
                            case JsonTokenType.String:
                                var text = reader.ValueSpan;
                                var escaped = reader.ValueIsEscaped;
                                if (rank < messageRank || rank == messageRank && rank != int.MaxValue) { messageRank = rank; split.Message = Unescaped(ref reader); }
                                if (isTool) split.Tool = Unescaped(ref reader);
                                if (isStep) split.Step = Unescaped(ref reader);
                                if (place == Place.Shape)
                                {
                                    // As written, quotes and escapes included, as the view would have put its name back.
                                    Put(ref length, (byte)'"');
                                    Put(ref length, text);
                                    Put(ref length, (byte)'"');
                                    inShape = true;
                                }
                                else if (place == Place.Name)
                                    shaped &= Slot(split, ref length, ref used, new Name(text.Length <= ShortString ? _names.Get(text) : Utf8StringCache.Decode(text)));
                                else
                                {
                                    var start = (int)reader.TokenStartIndex;
                                    var skip = SharedPrefix(key, text);
                                    Put(ref length, (byte)'"');
                                    Put(ref length, text.Slice(0, skip));
                                    shaped &= Slot(split, ref length, ref used, new Quoted(Utf8StringCache.Decode(json.Slice(start, text.Length + 2)), skip));
                                    Put(ref length, (byte)'"');
                                }
                                break;
                            case JsonTokenType.Number:
                                if (rank <= messageRank && rank != int.MaxValue) { messageRank = rank; split.Message = Utf8StringCache.Decode(reader.ValueSpan); }
                                shaped &= Slot(split, ref length, ref used, CanonicalInteger(reader.ValueSpan, out var number) ? Boxed(number) : Utf8StringCache.Decode(reader.ValueSpan));
                                break;
                            case JsonTokenType.True: Put(ref length, True); Other(split, rank, ref messageRank, "true"); break;
                            case JsonTokenType.False: Put(ref length, False); Other(split, rank, ref messageRank, "false"); break;
                            case JsonTokenType.Null: Put(ref length, Null); Other(split, rank, ref messageRank, "null"); break;
                            case JsonTokenType.StartObject:
                            case JsonTokenType.StartArray:
                                var from = (int)reader.TokenStartIndex;
                                reader.Skip();
                                var nested = Utf8StringCache.Decode(json.Slice(from, (int)reader.BytesConsumed - from));
                                Other(split, rank, ref messageRank, nested);
                                shaped &= Slot(split, ref length, ref used, nested);
                                break;
                            default:
                                return;
                        }
                    }
                    // Anything after the object (or an object that does not close) is stored whole.
                    if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) { Unshape(split); return; }
                    if (tailJson >= 0 && _packed > 1)
                    {
                        // The values from the last slot's on were all small integers: packed into it, each placeholder
                        // telling its part's bits.
                        long packed = 0;
                        for (var j = 0; j < _packed; j++)
                        {
                            var part = PackedPart(j, _packed);
                            _shape[_packedAt[j]] = (byte)part;
                            packed |= _packedValues[j] << PackedShift(part);
                        }
                        split.Values[_slots - 1] = Boxed(packed);
                    }
                    else if (tailJson >= 0)
                    {
                        // The last value becomes the members from its own on, as written (the object's closing brace stays in the shape).
                        var end = json.Length - 1;
                        while (end > tailJson && json[end] != (byte)'}') end--;
                        while (end > tailJson && IsJsonSpace(json[end - 1])) end--;
                        length = lastShape;
                        Put(ref length, (byte)Placeholder(_slots, name: false));
                        split.Values[_slots - 1] = Utf8StringCache.Decode(json.Slice(tailJson, end - tailJson));
                        shaped = true;
                    }
                    Put(ref length, (byte)'}');
                    if (inShape && _shapesMade.Count < ShapesMade) _shapesMade.TryAdd(StableHash.Hash(new ReadOnlySpan<byte>(_shape, 0, length)) ^ length, true);
                    if (shaped && json.Length <= MaxShaped) split.Shape = _shapes.Get(new ReadOnlySpan<byte>(_shape, 0, length));
                    else Unshape(split);
                }
                catch (JsonException)
                {
                    Unshape(split);
                }
            }

            private static void Unshape(Split split)
            {
                split.Shape = null;
                Array.Clear(split.Values, 0, split.Values.Length);
            }

            [MethodImpl(Hot.Path)]
            private static int MessageRank(ref Utf8JsonReader reader)
            {
                for (var i = 0; i < MessageKeys.Length; i++) if (reader.ValueTextEquals(MessageKeys[i])) return i;
                return int.MaxValue;
            }

            // A later member of the same rank wins, as JsonDocument's lookup would have it.
            private static void Other(Split split, int rank, ref int messageRank, string text)
            {
                if (rank == int.MaxValue || rank > messageRank) return;
                messageRank = rank;
                split.Message = text;
            }

            private string Unescaped(ref Utf8JsonReader reader) =>
                reader.ValueIsEscaped || reader.ValueSpan.Length > ShortString ? reader.GetString()! : _names.Get(reader.ValueSpan);

            private static bool IsJsonSpace(byte b) => b == (byte)' ' || b == (byte)'\t' || b == (byte)'\n' || b == (byte)'\r';

            // The integers of the last slot on, while they may be packed (PackedPart): how many (0: none, or one that may not
            // be), where each one's placeholder is in the shape, and their values.
            private int _packed;
            private readonly int[] _packedAt = new int[MostPacked];
            private readonly long[] _packedValues = new long[MostPacked];

            private static bool Packable(object value) => value is long l && l >= 0 && l <= PackedMask;

            private bool Slot(Split split, ref int length, ref int used, object value)
            {
                if (used == _slots)
                {
                    // A member of the tail, which the end of the object stores, unless it is one more integer to pack.
                    if (_packed > 0 && _packed < MostPacked && Packable(value))
                    {
                        _packedAt[_packed] = length;
                        _packedValues[_packed++] = (long)value;
                        Put(ref length, (byte)PackedPart(0, 1)); // its part is known at the end
                    }
                    else _packed = 0;
                    return true;
                }
                split.Values[used] = value;
                used++;
                if (used == _slots && _packs && Packable(value))
                {
                    _packedAt[0] = length;
                    _packedValues[0] = (long)value;
                    _packed = 1;
                }
                Put(ref length, (byte)Placeholder(used, value is Name));
                return true;
            }

            [MethodImpl(Hot.Small)]
            private void Put(ref int length, byte b)
            {
                if (length == _shape.Length) Array.Resize(ref _shape, _shape.Length * 2);
                _shape[length++] = b;
            }

            [MethodImpl(Hot.Small)]
            private void Put(ref int length, ReadOnlySpan<byte> bytes)
            {
                if (length + bytes.Length > _shape.Length) Array.Resize(ref _shape, Math.Max(_shape.Length * 2, length + bytes.Length));
                bytes.CopyTo(new Span<byte>(_shape, length, bytes.Length));
                length += bytes.Length;
            }
        }

        private static readonly byte[] True = Encoding.ASCII.GetBytes("true"), False = Encoding.ASCII.GetBytes("false"), Null = Encoding.ASCII.GetBytes("null");

        // Only integers whose text SQLite prints back the same way are stored as integers (no "-0", "01", "1e3", "1.0").
        // Small integers (counts, attempts, exit codes, line numbers: most numbers in details) boxed once, not per value.
        private static readonly object[] SmallIntegers = BoxAll(-16, 1024);

        private static object[] BoxAll(int from, int to)
        {
            var boxes = new object[to - from];
            for (var i = 0; i < boxes.Length; i++) boxes[i] = (long)(from + i);
            return boxes;
        }

        private static object Boxed(long n) => n >= -16 && n < 1024 ? SmallIntegers[n + 16] : n;

        private static bool CanonicalInteger(ReadOnlySpan<byte> text, out long value)
        {
            value = 0;
            if (text.Length == 0 || text.Length > 18) return false;
            var negative = text[0] == (byte)'-';
            var start = negative ? 1 : 0;
            if (start == text.Length) return false;
            if (text[start] == (byte)'0' && (text.Length - start > 1 || negative)) return false;
            for (var i = start; i < text.Length; i++)
            {
                var d = text[i] - (byte)'0';
                if (d < 0 || d > 9) return false;
                value = value * 10 + d;
            }
            if (negative) value = -value;
            return true;
        }
    }
}
