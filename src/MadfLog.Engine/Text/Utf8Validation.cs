using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF), so a bad byte is found once per
    /// line before parsing instead of surfacing as an exception from whatever decodes the text later.
    /// </summary>
    public static class Utf8Validation
    {
        /// <summary>The byte index of the first invalid sequence, or -1 when the text is valid UTF-8.</summary>
        [MethodImpl(Hot.Path)]
        public static int FirstInvalid(ReadOnlySpan<byte> s)
        {
            var i = 0;
            while (i < s.Length)
            {
                // ASCII is the common case: eight bytes at a time.
                while (i + 8 <= s.Length && (BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(i, 8)) & 0x8080808080808080UL) == 0) i += 8;
                if (i >= s.Length) break;
                var b = s[i];
                if (b < 0x80) { i++; continue; }
                int need; int min;
                if (b >= 0xC2 && b <= 0xDF) { need = 1; min = 0x80; }
                else if (b >= 0xE0 && b <= 0xEF) { need = 2; min = 0x800; }
                else if (b >= 0xF0 && b <= 0xF4) { need = 3; min = 0x10000; }
                else return i;
                if (i + need >= s.Length) return i; // cut short
                var cp = b & (0x3F >> need);
                for (var k = 1; k <= need; k++)
                {
                    var c = s[i + k];
                    if ((c & 0xC0) != 0x80) return i;
                    cp = (cp << 6) | (c & 0x3F);
                }
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
                i += need + 1;
            }
            return -1;
        }
    }
}
