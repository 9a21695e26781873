using System;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Ascending 64-bit offsets packed as Elias-Fano (the dedup keys' rows, <see cref="EventKeys"/>): each offset's low
    /// <c>L</c> bits as they are, where <c>L</c> is about the log of the mean gap (floor(log2(largest / count))), and its
    /// high bits as a bit vector with offset i's bit at i + (offset &gt;&gt; L), so about L + 2 bits an offset. Random keys
    /// spread over a range need log2 of their mean gap bits anyway; offsets of a fixed byte width took up to 8 more.
    /// A lookup skips the high bits a byte at a time to the offsets that share the target's high bits (about one).
    /// Layout at <c>at</c>: varint count, one byte L, varint length in bytes of the high bits, the low bits (count * L
    /// bits, least significant first, padded to a byte), the high bits (least significant bit first).
    /// </summary>
    internal static class SortedOffsets
    {
        /// <summary>The most bytes <see cref="Write"/> takes for this many offsets.</summary>
        public static int MaxSize(int count) => 5 + 1 + 5 + (count * 64 + 7) / 8 + (3 * count + 8) / 8 + 1;

        /// <summary>Writes offsets[start, end) (ascending, no repeats) at <paramref name="at"/>; returns the position after them.</summary>
        [MethodImpl(Hot.Path)]
        public static int Write(byte[] into, int at, ulong[] offsets, int start, int end)
        {
            var count = end - start;
            var largest = count > 0 ? offsets[end - 1] : 0;
            var low = count > 0 ? Log2(largest / (ulong)count) : 0;
            var highBits = count > 0 ? (long)count + (long)(largest >> low) : 0;
            var highBytes = (int)((highBits + 7) / 8);
            at = Varint.Write(into, at, (ulong)count);
            into[at++] = (byte)low;
            at = Varint.Write(into, at, (ulong)highBytes);
            var lowBytes = (int)(((long)count * low + 7) / 8);
            Array.Clear(into, at, lowBytes + highBytes);
            var highAt = at + lowBytes;
            long bit = 0;
            for (var i = 0; i < count; i++)
            {
                var v = offsets[start + i];
                PutBits(into, at, bit, v, low);
                bit += low;
                var h = (long)(v >> low) + i;
                into[highAt + (int)(h >> 3)] |= (byte)(1 << (int)(h & 7));
            }
            return highAt + highBytes;
        }

        /// <summary>Reads the offsets at <paramref name="at"/> in order.</summary>
        public ref struct Reader
        {
            private readonly ReadOnlySpan<byte> _blob;
            private readonly int _low, _lowAt, _highAt;
            private readonly long _highBits;
            private long _bit; // in the high bits
            private ulong _high;
            private int _index;

            /// <summary>How many offsets there are.</summary>
            public readonly int Count;

            /// <summary>The position after the offsets.</summary>
            public readonly int End;

            public Reader(ReadOnlySpan<byte> blob, int at)
            {
                _blob = blob;
                Count = (int)Varint.Get(blob, ref at);
                _low = blob[at++];
                var highBytes = (int)Varint.Get(blob, ref at);
                _lowAt = at;
                _highAt = at + (int)(((long)Count * _low + 7) / 8);
                End = _highAt + highBytes;
                _highBits = (long)highBytes * 8;
                _bit = 0;
                _high = 0;
                _index = 0;
            }

            /// <summary>The next offset, in ascending order.</summary>
            [MethodImpl(Hot.Path)]
            public bool Next(out ulong offset)
            {
                if (_index >= Count) { offset = 0; return false; }
                while ((_blob[_highAt + (int)(_bit >> 3)] & (1 << (int)(_bit & 7))) == 0) { _high++; _bit++; }
                _bit++;
                offset = (_high << _low) | Bits(_blob, _lowAt, (long)_index * _low, _low);
                _index++;
                return true;
            }

            /// <summary>Whether the offsets hold <paramref name="target"/> (from a new reader: it moves the reader).</summary>
            public bool Contains(ulong target) => IndexOf(target) >= 0;

            /// <summary>The index of <paramref name="target"/> among the offsets, -1 when it is not one (from a new reader).</summary>
            [MethodImpl(Hot.Path)]
            public int IndexOf(ulong target)
            {
                if (Count == 0) return -1;
                var high = _low >= 64 ? 0 : target >> _low;
                // Skip `high` zeros (one per high value below the target's), a byte at a time while more are needed after it
                // (the ones after the last zero needed are the target's own high value's).
                long zeros = 0, index = 0, bit = 0;
                while (zeros < (long)high)
                {
                    if (bit >= _highBits) return -1;
                    if ((bit & 7) == 0 && bit + 8 <= _highBits)
                    {
                        var b = _blob[_highAt + (int)(bit >> 3)];
                        var ones = Ones[b];
                        if (zeros + (8 - ones) < (long)high)
                        {
                            zeros += 8 - ones;
                            index += ones;
                            bit += 8;
                            continue;
                        }
                    }
                    if ((_blob[_highAt + (int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0) zeros++; else index++;
                    bit++;
                }
                // The offsets whose high bits are the target's: their ones before the next zero, low bits ascending.
                var lowTarget = target & LowMask(_low);
                while (bit < _highBits && (_blob[_highAt + (int)(bit >> 3)] & (1 << (int)(bit & 7))) != 0)
                {
                    var lows = Bits(_blob, _lowAt, index * _low, _low);
                    if (lows == lowTarget) return (int)index;
                    if (lows > lowTarget) return -1;
                    index++;
                    bit++;
                }
                return -1;
            }
        }

        private static readonly byte[] Ones = MakeOnes();

        private static byte[] MakeOnes()
        {
            var ones = new byte[256];
            for (var i = 1; i < 256; i++) ones[i] = (byte)(ones[i >> 1] + (i & 1));
            return ones;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong LowMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

        /// <summary>ORs the low <paramref name="bits"/> bits of <paramref name="value"/> in at bit <paramref name="bit"/>
        /// from <paramref name="at"/>, least significant first (the bytes there start cleared).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void PutBits(byte[] into, int at, long bit, ulong value, int bits)
        {
            value &= LowMask(bits);
            for (var b = 0; b < bits; )
            {
                var p = bit + b;
                var shift = (int)(p & 7);
                into[at + (int)(p >> 3)] |= (byte)(value << shift);
                var took = 8 - shift;
                value >>= took;
                b += took;
            }
        }

        /// <summary>`bits` bits from bit `start` after <paramref name="at"/> (at most 63: up to nine bytes), as PutBits wrote them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ulong Bits(ReadOnlySpan<byte> blob, int at, long start, int bits)
        {
            if (bits == 0) return 0;
            var p = at + (int)(start >> 3);
            var shift = (int)(start & 7);
            var bytes = (shift + bits + 7) >> 3;
            ulong v = 0;
            for (var k = 0; k < bytes && k < 8; k++) v |= (ulong)blob[p + k] << (8 * k);
            v >>= shift;
            if (bytes == 9) v |= (ulong)blob[p + 8] << (64 - shift);
            return v & LowMask(bits);
        }

        internal static int Log2(ulong v)
        {
            var n = 0;
            while (v > 1) { v >>= 1; n++; }
            return n;
        }
    }
}
