using System;
using System.Text;

namespace MadfLog.Engine.Text
{
    /// <summary>FNV-1a 64-bit: a fast, stable (across processes and runtimes) hash for dedup keys and file identities.</summary>
    public static class Fnv64
    {
        private const ulong Offset = 14695981039346656037UL, Prime = 1099511628211UL;

        public static long Hash(ReadOnlySpan<byte> data)
        {
            var h = Offset;
            foreach (var b in data) { h ^= b; h *= Prime; }
            return unchecked((long)h);
        }

        public static long Hash(string text) => Hash(Encoding.UTF8.GetBytes(text));

        /// <summary>Hash of several parts, separated so ("ab","c") differs from ("a","bc").</summary>
        public static long Hash(params string?[] parts) => Hash(string.Join("\u001f", parts));
    }
}
