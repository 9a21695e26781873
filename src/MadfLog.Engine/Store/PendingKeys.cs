using System;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// The dedup keys found new in a transaction, each with its event's id (<see cref="EventKeys"/>): a table of 64-bit keys
    /// by open addressing (linear probing over a power of two of slots, at most half full). A Dictionary&lt;long, long&gt;
    /// did this before; every event of an import asks it once and nearly every key is new, so the dictionary hashed and
    /// searched each key twice (asked, then added) through its bucket and entry arrays. Here a key not held leaves the
    /// slot where it goes (<see cref="Find"/>), and <see cref="AddAt"/> fills it. Key 0 is held apart (0 marks a free slot).
    /// </summary>
    internal sealed class PendingKeys
    {
        private long[] _keys;
        private long[] _values;
        private int _shift; // 64 - log2(slots)
        private int _count;
        private bool _hasZero;
        private long _zeroValue;

        public PendingKeys(int slots = 1 << 10)
        {
            var bits = 4;
            while ((1 << bits) < slots) bits++;
            _keys = new long[1 << bits];
            _values = new long[1 << bits];
            _shift = 64 - bits;
        }

        /// <summary>The keys held.</summary>
        public int Count => _count + (_hasZero ? 1 : 0);

        /// <summary>
        /// The slot of the key when it is held (true), else (false) the slot it would take, for <see cref="AddAt"/> as long
        /// as nothing is added in between.
        /// </summary>
        [MethodImpl(Hot.Small)]
        public bool Find(long key, out int slot)
        {
            if (key == 0) { slot = -1; return _hasZero; }
            var mask = _keys.Length - 1;
            var i = (int)((ulong)unchecked(key * -7046029254386353131L) >> _shift); // Fibonacci hashing: the high bits of key * 2^64/phi
            while (true)
            {
                var k = _keys[i];
                if (k == key) { slot = i; return true; }
                if (k == 0) { slot = i; return false; }
                i = (i + 1) & mask;
            }
        }

        /// <summary>Adds a key <see cref="Find"/> did not find, in the slot it gave.</summary>
        [MethodImpl(Hot.Small)]
        public void AddAt(int slot, long key, long value)
        {
            if (key == 0) { _hasZero = true; _zeroValue = value; return; }
            _keys[slot] = key;
            _values[slot] = value;
            if (++_count * 2 > _keys.Length) Grow();
        }

        /// <summary>Adds the key unless it is held; true when it was added.</summary>
        public bool TryAdd(long key, long value)
        {
            if (Find(key, out var slot)) return false;
            AddAt(slot, key, value);
            return true;
        }

        public bool ContainsKey(long key) => Find(key, out _);

        public bool TryGetValue(long key, out long value)
        {
            if (!Find(key, out var slot)) { value = 0; return false; }
            value = slot < 0 ? _zeroValue : _values[slot];
            return true;
        }

        /// <summary>Forgets every key (the slots stay, for the next transaction's keys).</summary>
        public void Clear()
        {
            if (_count > 0) Array.Clear(_keys, 0, _keys.Length);
            _count = 0;
            _hasZero = false;
            _zeroValue = 0;
        }

        private void Grow()
        {
            var keys = _keys;
            var values = _values;
            _keys = new long[keys.Length * 2];
            _values = new long[keys.Length * 2];
            _shift--;
            var mask = _keys.Length - 1;
            for (var j = 0; j < keys.Length; j++)
            {
                var key = keys[j];
                if (key == 0) continue;
                var i = (int)((ulong)unchecked(key * -7046029254386353131L) >> _shift);
                while (_keys[i] != 0) i = (i + 1) & mask;
                _keys[i] = key;
                _values[i] = values[j];
            }
        }
    }
}
