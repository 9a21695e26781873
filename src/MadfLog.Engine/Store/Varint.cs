using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.IO;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// The one variable-length integer code of the store's packed blobs (histograms, session leads, error trails): seven
    /// bits a byte, low first, the high bit set on every byte but the last; zigzag for values that may be negative.
    /// </summary>
    internal static class Varint
    {
        public static void Put(List<byte> bytes, long v)
        {
            var u = (ulong)v;
            while (u >= 0x80) { bytes.Add((byte)(u | 0x80)); u >>= 7; }
            bytes.Add((byte)u);
        }

        public static void Put(Stream s, long v)
        {
            var u = (ulong)v;
            while (u >= 0x80) { s.WriteByte((byte)(u | 0x80)); u >>= 7; }
            s.WriteByte((byte)u);
        }

        /// <summary>The integer at <paramref name="at"/>, which moves past it.</summary>
        [MethodImpl(Hot.Path)]
        public static long Get(ReadOnlySpan<byte> bytes, ref int at)
        {
            ulong u = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[at++];
                u |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return (long)u;
            }
        }

        /// <summary>Writes the integer at <paramref name="at"/>; returns the position after it.</summary>
        public static int Write(byte[] into, int at, ulong u)
        {
            while (u >= 0x80) { into[at++] = (byte)(u | 0x80); u >>= 7; }
            into[at++] = (byte)u;
            return at;
        }


        public static long Zig(long v) => (v << 1) ^ (v >> 63);
        public static long Unzig(long v) => (long)((ulong)v >> 1) ^ -(v & 1);
    }
}
