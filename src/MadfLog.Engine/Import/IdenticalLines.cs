using System.Collections.Generic;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Numbers identical lines within one file: the first is occurrence 0 (its key is the line's hash, as before this
    /// existed), the next 1, and so on. A line's count is forgotten once <see cref="Window"/> lines pass without it, so memory
    /// stays bounded: identical lines carry the same timestamp, so in a log they stand close together. The numbering depends
    /// only on the lines before, so a copy of the file, or the file read again, gets the same keys. A file resumed from its
    /// cursor continues from the <see cref="State"/> saved with the cursor (else from a replay of the lines before it).
    /// </summary>
    internal sealed class IdenticalLines
    {
        public const int Window = 100_000;

        private readonly Dictionary<long, (int Count, long Last)> _seen = new Dictionary<long, (int, long)>();
        private long[] _ring = new long[1024];
        private long _lines;

        public int Next(long hash)
        {
            var slot = Advance();
            var occurrence = _seen.TryGetValue(hash, out var e) ? e.Count : 0;
            _seen[hash] = (occurrence + 1, _lines);
            _ring[slot] = hash;
            _lines++;
            return occurrence;
        }

        /// <summary>
        /// Counts a line whose key does not depend on its occurrence (it names its own id), so it keeps no entry: a line
        /// identical to it has the same id, so no line's occurrence depends on it. The window still moves by one line, so
        /// the other lines are numbered as <see cref="Next"/> on every line numbers them (a resumed file's replay does that).
        /// </summary>
        public void Pass()
        {
            var slot = Advance();
            _ring[slot] = 0;
            _lines++;
        }

        // Forgets the line leaving the window; returns the ring slot of the line now counted.
        private int Advance()
        {
            var slot = (int)(_lines % Window);
            if (_lines >= Window)
            {
                var leaving = _ring[slot];
                if (_seen.TryGetValue(leaving, out var old) && old.Last == _lines - Window) _seen.Remove(leaving);
            }
            else if (slot >= _ring.Length)
            {
                System.Array.Resize(ref _ring, System.Math.Min(Window, _ring.Length * 2));
            }
            return slot;
        }

        private const byte StateVersion = 1;

        /// <summary>
        /// What the numbering of the lines to come depends on: the lines counted, and each hash still in the window with
        /// its count and how many lines ago it was last seen (the ring is not needed: an entry leaves the window exactly
        /// <see cref="Window"/> lines after its last line). At most one entry per line of the window; none for lines with
        /// their own id (<see cref="Pass"/>), so a log whose lines all carry one saves a few bytes.
        /// </summary>
        public byte[] State()
        {
            var bytes = new List<byte>(16 + _seen.Count * 11) { StateVersion };
            Varint.Put(bytes, _lines);
            var live = 0;
            foreach (var e in _seen.Values) if (e.Last > _lines - Window) live++;
            Varint.Put(bytes, live);
            foreach (var pair in _seen)
            {
                if (pair.Value.Last <= _lines - Window) continue; // leaves before the next line is numbered
                var h = (ulong)pair.Key;
                for (var i = 0; i < 8; i++) bytes.Add((byte)(h >> (8 * i)));
                Varint.Put(bytes, pair.Value.Count);
                Varint.Put(bytes, _lines - 1 - pair.Value.Last);
            }
            return bytes.ToArray();
        }

        /// <summary>Numbering that continues from a <see cref="State"/>, or null for a state this version does not read.</summary>
        public static IdenticalLines? FromState(byte[] state)
        {
            if (state.Length < 3 || state[0] != StateVersion) return null;
            var at = 1;
            var lines = new IdenticalLines { _lines = Varint.Get(state, ref at) };
            var count = Varint.Get(state, ref at);
            var ring = 1024;
            while (ring < lines._lines && ring < Window) ring = System.Math.Min(Window, ring * 2);
            lines._ring = new long[ring];
            for (var n = 0; n < count; n++)
            {
                ulong h = 0;
                for (var i = 0; i < 8; i++) h |= (ulong)state[at++] << (8 * i);
                var occurrences = (int)Varint.Get(state, ref at);
                var last = lines._lines - 1 - Varint.Get(state, ref at);
                lines._seen[(long)h] = (occurrences, last);
                lines._ring[(int)(last % Window)] = (long)h; // so it leaves the window when its line does
            }
            if (at != state.Length) return null;
            return lines;
        }

        /// <summary>The dedup key of a line with this hash at this occurrence (occurrence 0: the hash itself).</summary>
        public static long Key(long hash, int occurrence)
        {
            if (occurrence == 0) return hash;
            // splitmix64 of the hash and the occurrence: another well-spread 64-bit key.
            var z = unchecked((ulong)hash + 0x9E3779B97F4A7C15UL * (ulong)occurrence);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            return unchecked((long)(z ^ (z >> 31)));
        }
    }
}
