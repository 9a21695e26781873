using System;
using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Values by the identity of their string keys (the same instance, not an equal text): for caches keyed by the strings
    /// a parser's or splitter's string caches hand out again and again (details shapes, names), where hashing the text on
    /// every lookup would cost more than the answer saves. Open addressing with linear probing over a power of two of
    /// slots, at most half full, each key's slot from its identity hash. A Dictionary with a by-reference comparer did
    /// this before, through the comparer's interface calls in framework code, which PowerShell 7's tiered PGO runs
    /// instrumented for seconds of an import; this is compiled optimized at its first call (<see cref="Hot"/>).
    /// </summary>
    internal sealed class ByReferenceMap<TValue>
    {
        private string?[] _keys;
        private TValue[] _values;
        private int _shift; // 32 - log2(slots)
        private int _count;

        public ByReferenceMap(int slots = 64)
        {
            var bits = OpenAddressing.SlotBits(slots);
            _keys = new string?[1 << bits];
            _values = new TValue[1 << bits];
            _shift = 32 - bits;
        }

        /// <summary>The keys held.</summary>
        public int Count => _count;

        // Fibonacci hashing of the identity hash: its high bits, well spread whatever the runtime's hashes look like.
        [MethodImpl(Hot.Small)]
        private int SlotOf(string key) => (int)(unchecked((uint)RuntimeHelpers.GetHashCode(key) * 2654435769u) >> _shift);

        /// <summary>The value held for this very instance, if any.</summary>
        [MethodImpl(Hot.Small)]
        public bool TryGetValue(string key, out TValue value)
        {
            var i = Probe(key, out var found);
            value = found ? _values[i] : default!;
            return found;
        }

        /// <summary>Holds the value for this instance (replacing what it held).</summary>
        [MethodImpl(Hot.Path)]
        public void Set(string key, TValue value)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            var i = Probe(key, out var found);
            _values[i] = value;
            if (found) return;
            _keys[i] = key;
            if (++_count * 2 > _keys.Length) Grow();
        }

        // The key's slot (found) or the free slot where it goes. A free slot ends the probe before a match is tried, so a
        // null key is never "found" in one.
        [MethodImpl(Hot.Small)]
        private int Probe(string key, out bool found)
        {
            var keys = _keys;
            var mask = keys.Length - 1;
            for (var i = key == null ? 0 : SlotOf(key); ; i = (i + 1) & mask)
            {
                var k = keys[i];
                if (k == null) { found = false; return i; }
                if (ReferenceEquals(k, key)) { found = true; return i; }
            }
        }

        /// <summary>Forgets every key (the slots stay).</summary>
        public void Clear()
        {
            if (_count == 0) return;
            Array.Clear(_keys, 0, _keys.Length);
            Array.Clear(_values, 0, _values.Length);
            _count = 0;
        }

        private void Grow()
        {
            var keys = _keys;
            var values = _values;
            _keys = new string?[keys.Length * 2];
            _values = new TValue[keys.Length * 2];
            _shift--;
            var mask = _keys.Length - 1;
            for (var j = 0; j < keys.Length; j++)
            {
                var key = keys[j];
                if (key == null) continue;
                var i = SlotOf(key);
                while (_keys[i] != null) i = (i + 1) & mask;
                _keys[i] = key;
                _values[i] = values[j];
            }
        }
    }
}
