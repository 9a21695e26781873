using System;
using System.Linq;
using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// A details literal of exactly <see cref="Length"/> base-62 characters (0-9A-Za-z: the Claude Code message and
    /// tool-use ids after their shared start <c>msg_01</c> / <c>toolu_01</c>, which the shape holds) stored as a BLOB of
    /// <see cref="PackedLength"/> bytes instead of 22 of text (schema 81, docs/storage.md): each 4 characters as 3 bytes
    /// big-endian (62^4 &lt; 2^24), the last 2 as 2 bytes. Fixed length, so any such text round-trips, leading zeros
    /// included. No other slot value is a BLOB, so the storage type alone marks a packed one; the events view unpacks it
    /// in SQL (<see cref="Sql"/>) and every C# reader of the slots through <see cref="Unpack"/>. Only in the first
    /// <see cref="Slots"/> slots.
    /// </summary>
    public static class PackedId
    {
        public const int Length = 22, PackedLength = 17;

        /// <summary>
        /// The slots an id is packed in: d1 only. The Claude Code parser writes an id first after the members the shape
        /// holds (a response's model, a tool result's tool), so it is value 1 (all 314,071 of the realistic 1M store are
        /// in d1, none in d2..d5); and the view's unpacking makes every statement on the view dearer to prepare: a new
        /// connection's first read of details through it took 1.9 -> 3.4 ms unpacking d1, -> 7.5 ms unpacking all five.
        /// </summary>
        public const int Slots = 1;

        /// <summary>The digits in the order of their values (as SQL's code points: '0' + v, 'A' + v - 10, 'a' + v - 36).</summary>
        public const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

        private const int Groups = 5, GroupChars = 4, GroupBytes = 3;

        [MethodImpl(Hot.Small)]
        private static int ValueOf(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : c >= 'a' && c <= 'z' ? c - 'a' + 36 : -1;

        /// <summary>Whether <paramref name="length"/> characters of <paramref name="text"/> from <paramref name="start"/> are exactly an id.</summary>
        [MethodImpl(Hot.Path)]
        public static bool Is(string text, int start, int length)
        {
            if (length != Length) return false;
            for (var i = start; i < start + Length; i++)
                if (ValueOf(text[i]) < 0) return false;
            return true;
        }

        /// <summary>The packed bytes of an id (<see cref="Is"/> must hold).</summary>
        public static byte[] Pack(string text, int start)
        {
            var packed = new byte[PackedLength];
            Pack(text, start, packed);
            return packed;
        }

        /// <summary>Packs an id (<see cref="Is"/> must hold) into the first <see cref="PackedLength"/> bytes of <paramref name="packed"/>.</summary>
        [MethodImpl(Hot.Path)]
        public static void Pack(string text, int start, Span<byte> packed)
        {
            var at = 0;
            for (var g = 0; g <= Groups; g++)
            {
                var chars = g < Groups ? GroupChars : Length - Groups * GroupChars;
                var bytes = g < Groups ? GroupBytes : PackedLength - Groups * GroupBytes;
                var v = 0;
                for (var i = 0; i < chars; i++) v = v * 62 + ValueOf(text[start + g * GroupChars + i]);
                for (var i = bytes - 1; i >= 0; i--) { packed[at + i] = (byte)v; v >>= 8; }
                at += bytes;
            }
        }

        /// <summary>The text an id was packed from; null when <paramref name="packed"/> is not <see cref="PackedLength"/> bytes of one.</summary>
        [MethodImpl(Hot.Path)]
        public static string? Unpack(ReadOnlySpan<byte> packed)
        {
            if (packed.Length != PackedLength) return null;
            var text = new char[Length];
            var at = 0;
            for (var g = 0; g <= Groups; g++)
            {
                var chars = g < Groups ? GroupChars : Length - Groups * GroupChars;
                var bytes = g < Groups ? GroupBytes : PackedLength - Groups * GroupBytes;
                var v = 0;
                for (var i = 0; i < bytes; i++) v = v << 8 | packed[at + i];
                at += bytes;
                for (var i = chars - 1; i >= 0; i--) { text[g * GroupChars + i] = Digits[v % 62]; v /= 62; }
                if (v != 0) return null; // a group over 62^4 - 1: not an id's
            }
            return new string(text);
        }

        /// <summary>A slot value as stored, for SQL and migrations: an id's text as its packed bytes, anything else as it is.</summary>
        public static object? Packed(object? value) => value is string s && Is(s, 0, s.Length) ? Pack(s, 0) : value;

        /// <summary>Every byte value in order: a byte's position in it, less one, is its value (SQLite's instr() on BLOBs).</summary>
        private static readonly string ByteValues = "X'" + string.Concat(Enumerable.Range(0, 256).Select(b => b.ToString("X2"))) + "'";

        /// <summary>
        /// SQL, for plain SQLite with no functions of ours: the id <paramref name="column"/> (a packed BLOB) holds, as text.
        /// A byte's value is its place in a BLOB of every byte; each group's number, and then each digit's value, is
        /// worked out once (LIMIT on the selects keeps SQLite from putting an expression in at every use of its name);
        /// the text is one char() of the digits' code points. On the realistic 1M store, 314,071 ids: 1.7 s of CPU,
        /// against 2.3 s with a substr() of the digits per character and 3.4 s through hex() and a hex digit at a time.
        /// </summary>
        public static string Sql(string column)
        {
            string Byte(int i) => $"instr(a, substr({column}, {i + 1}, 1))";
            // instr() counts from 1: the sums take back 65793 (1 * 65536 + 1 * 256 + 1) and 257.
            var numbers = Enumerable.Range(0, Groups + 1).Select(g => g < Groups
                ? $"{Byte(g * GroupBytes)} * 65536 + {Byte(g * GroupBytes + 1)} * 256 + {Byte(g * GroupBytes + 2)} - 65793 AS n{g}"
                : $"{Byte(g * GroupBytes)} * 256 + {Byte(g * GroupBytes + 1)} - 257 AS n{g}");
            var values = Enumerable.Range(0, Groups + 1).SelectMany(g =>
            {
                var chars = g < Groups ? GroupChars : Length - Groups * GroupChars;
                return Enumerable.Range(0, chars).Select(i =>
                {
                    var power = (long)Math.Pow(62, chars - 1 - i);
                    return i == 0 ? $"n{g} / {power}" : power == 1 ? $"n{g} % 62" : $"n{g} / {power} % 62";
                });
            }).Select((v, i) => $"{v} AS v{i}");
            // A digit's code point: '0' + v, 'A' + v - 10, 'a' + v - 36.
            var codes = Enumerable.Range(0, Length).Select(i => $"v{i} + 48 + 7 * (v{i} > 9) + 6 * (v{i} > 35)");
            return $"(SELECT char({string.Join(", ", codes)}) FROM (SELECT {string.Join(", ", values)} FROM " +
                   $"(SELECT {string.Join(", ", numbers)} FROM (SELECT {ByteValues} AS a) LIMIT 1) LIMIT 1) LIMIT 1)";
        }
    }
}
