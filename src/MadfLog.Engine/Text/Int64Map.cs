using System;
using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Values by a 64-bit key (a text's <see cref="StableHash"/>, an id): the per-event lookups of an import's reading and
    /// preparing threads (decoded names, field names, a details key's values). Open addressing with linear probing over a
    /// power of two of slots, at most half full, each key's slot from its Fibonacci hash. A <c>Dictionary&lt;long, T&gt;</c>
    /// did this before: framework code that PowerShell 7's tiered PGO runs instrumented for seconds of an import, where
    /// this is compiled optimized at its first call (<see cref="Hot"/>), as <see cref="ByReferenceMap{TValue}"/> is.
    /// </summary>
    internal sealed class Int64Map<TValue>
    {
        private struct Slot
        {
            public long Key;
            public TValue Value;
            public bool Used;
        }

        private Slot[] _slots;
        private int _shift; // 64 - log2(slots)
        private int _count;

        public Int64Map(int slots = 64)
        {
            var bits = OpenAddressing.SlotBits(slots);
            _slots = new Slot[1 << bits];
            _shift = 64 - bits;
        }

        /// <summary>The keys held.</summary>
        public int Count => _count;

        // Fibonacci hashing: the product's high bits, spread whether the keys are hashes or small consecutive ids.
        [MethodImpl(Hot.Small)]
        private int SlotOf(long key) => (int)(unchecked((ulong)key * 0x9E3779B97F4A7C15UL) >> _shift);

        /// <summary>The value held for the key, if any.</summary>
        [MethodImpl(Hot.Small)]
        public bool TryGetValue(long key, out TValue value)
        {
            var slots = _slots;
            var mask = slots.Length - 1;
            for (var i = SlotOf(key); ; i = (i + 1) & mask)
            {
                ref var s = ref slots[i];
                if (!s.Used) { value = default!; return false; }
                if (s.Key == key) { value = s.Value; return true; }
            }
        }

        /// <summary>Whether the key is held.</summary>
        [MethodImpl(Hot.Small)]
        public bool ContainsKey(long key) => TryGetValue(key, out _);

        /// <summary>Holds the value for the key (replacing what it held).</summary>
        [MethodImpl(Hot.Path)]
        public void Set(long key, TValue value) => Put(key, value, replace: true);

        /// <summary>Holds the value for the key unless it holds one already; whether it was added.</summary>
        [MethodImpl(Hot.Path)]
        public bool TryAdd(long key, TValue value) => Put(key, value, replace: false);

        [MethodImpl(Hot.Path)]
        private bool Put(long key, TValue value, bool replace)
        {
            var slots = _slots;
            var mask = slots.Length - 1;
            for (var i = SlotOf(key); ; i = (i + 1) & mask)
            {
                ref var s = ref slots[i];
                if (s.Used)
                {
                    if (s.Key != key) continue;
                    if (replace) s.Value = value;
                    return false;
                }
                s.Key = key;
                s.Value = value;
                s.Used = true;
                if (++_count * 2 > slots.Length) Grow();
                return true;
            }
        }

        /// <summary>Forgets every key (the slots stay).</summary>
        public void Clear()
        {
            if (_count == 0) return;
            Array.Clear(_slots, 0, _slots.Length);
            _count = 0;
        }

        private void Grow()
        {
            var old = _slots;
            _slots = new Slot[old.Length * 2];
            _shift--;
            var mask = _slots.Length - 1;
            foreach (var s in old)
            {
                if (!s.Used) continue;
                var i = SlotOf(s.Key);
                while (_slots[i].Used) i = (i + 1) & mask;
                _slots[i] = s;
            }
        }
    }
}
