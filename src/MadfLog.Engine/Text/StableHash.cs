using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// A fast 64-bit hash that is the same in every process, runtime and machine (dedup keys and file identities are
    /// stored): 8 bytes per step, read little-endian, with a final avalanche. Not for security.
    /// </summary>
    public static class StableHash
    {
        private const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL;

        [MethodImpl(Hot.Path)]
        public static long Hash(ReadOnlySpan<byte> data)
        {
            var h = P3 ^ ((ulong)data.Length * P1);
            var i = 0;
            for (; i + 8 <= data.Length; i += 8)
            {
                var w = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8));
                h ^= Rotate(w * P2, 31) * P1;
                h = Rotate(h, 27) * P1 + P3;
            }
            for (; i < data.Length; i++)
            {
                h ^= data[i] * P3;
                h = Rotate(h, 11) * P1;
            }
            h ^= h >> 33; h *= P2;
            h ^= h >> 29; h *= P3;
            h ^= h >> 32;
            return unchecked((long)h);
        }

        /// <summary>Hash of the text's UTF-8.</summary>
        [MethodImpl(Hot.Path)]
        public static long Hash(string text)
        {
            // Encoded into a pooled buffer: the parsers hash a key text per event (one array each was 50 MB per 1M events).
            var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
            try { return Hash(new ReadOnlySpan<byte>(buffer, 0, Encoding.UTF8.GetBytes(text, 0, text.Length, buffer, 0))); }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        /// <summary>
        /// Hash of several parts, separated so ("ab","c") differs from ("a","bc"): the hash of the parts joined by U+001F
        /// (null as empty), encoded part by part without building the joined text.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static long Hash(params string?[] parts)
        {
            var max = parts.Length;
            foreach (var p in parts) if (p != null) max += Encoding.UTF8.GetMaxByteCount(p.Length);
            var buffer = ArrayPool<byte>.Shared.Rent(max);
            try
            {
                var n = 0;
                for (var i = 0; i < parts.Length; i++)
                {
                    if (i > 0) buffer[n++] = Separator;
                    var p = parts[i];
                    // The separator is ASCII, so no surrogate pair spans two parts: part by part encodes as the joined text does.
                    if (!string.IsNullOrEmpty(p)) n += Encoding.UTF8.GetBytes(p, 0, p!.Length, buffer, n);
                }
                return Hash(new ReadOnlySpan<byte>(buffer, 0, n));
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        /// <summary>
        /// <see cref="Hash(string?[])"/> of two parts whose second is given as its UTF-8 (a value read straight from a
        /// line's bytes, so no string is made for it): the same hash as with the second part as text.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static long Hash(string first, ReadOnlySpan<byte> secondUtf8)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(first.Length) + 1 + secondUtf8.Length);
            try
            {
                var n = Encoding.UTF8.GetBytes(first, 0, first.Length, buffer, 0);
                buffer[n++] = Separator;
                secondUtf8.CopyTo(new Span<byte>(buffer, n, secondUtf8.Length));
                return Hash(new ReadOnlySpan<byte>(buffer, 0, n + secondUtf8.Length));
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }

        private const byte Separator = 0x1F;

        private static ulong Rotate(ulong x, int r) => (x << r) | (x >> (64 - r));
    }
}
