using System;
using System.Runtime.CompilerServices;
using System.Text;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Decodes each distinct short UTF-8 text once: names, types, sessions and details shapes repeat on almost every
    /// line, and a string per line for them is most of what an import would allocate. One instance per thread.
    /// </summary>
    public sealed class Utf8StringCache
    {
        private readonly Int64Map<string> _map = new Int64Map<string>();
        private readonly int _maxLength;

        public Utf8StringCache(int maxLength = 64) { _maxLength = maxLength; }

        [MethodImpl(Hot.Path)]
        public string Get(ReadOnlySpan<byte> utf8)
        {
            if (_lastString != null && utf8.SequenceEqual(LastBytes)) return _lastString;
            var s = Lookup(utf8);
            if (utf8.Length <= _maxLength)
            {
                if (_lastBytes.Length < utf8.Length) _lastBytes = new byte[Math.Max(utf8.Length, 2 * _lastBytes.Length)];
                utf8.CopyTo(_lastBytes);
                _lastLength = utf8.Length;
                _lastString = s;
            }
            return s;
        }

        // The text asked for last time: consecutive lines usually repeat it.
        private byte[] _lastBytes = new byte[64];
        private int _lastLength;
        private string? _lastString;
        private ReadOnlySpan<byte> LastBytes => new ReadOnlySpan<byte>(_lastBytes, 0, _lastLength);

        [MethodImpl(Hot.Path)]
        private string Lookup(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > _maxLength) return Decode(utf8);
            var key = StableHash.Hash(utf8) ^ utf8.Length;
            if (_map.TryGetValue(key, out var s) && Same(s, utf8)) return s;
            s = Decode(utf8);
            if (_map.Count < 100_000) _map.Set(key, s);
            return s;
        }

        /// <summary>UTF-8 to string without the intermediate array that netstandard2.0's Encoding API would need.</summary>
        [MethodImpl(Hot.Path)]
        public static unsafe string Decode(ReadOnlySpan<byte> utf8)
        {
            if (utf8.IsEmpty) return "";
            fixed (byte* p = utf8) return Encoding.UTF8.GetString(p, utf8.Length);
        }

        [MethodImpl(Hot.Path)]
        private static bool Same(string s, ReadOnlySpan<byte> utf8)
        {
            // Short ASCII is the common case: compare without decoding.
            if (s.Length != utf8.Length) return Decode(utf8) == s;
            for (var i = 0; i < s.Length; i++)
            {
                if (s[i] >= 0x80) return Decode(utf8) == s;
                if (s[i] != utf8[i]) return false;
            }
            return true;
        }
    }
}
