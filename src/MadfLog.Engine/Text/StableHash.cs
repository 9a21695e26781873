using System;
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

        public static long Hash(string text) => Hash(Encoding.UTF8.GetBytes(text));

        /// <summary>Hash of several parts, separated so ("ab","c") differs from ("a","bc").</summary>
        public static long Hash(params string?[] parts) => Hash(string.Join("\u001f", parts));

        private static ulong Rotate(ulong x, int r) => (x << r) | (x >> (64 - r));
    }
}
