using System;
using System.Collections.Generic;
using System.Linq;

namespace MadfLog.Engine.Import
{
    /// <summary>The formats Import-MadfLog knows, in the order they are tried when recognising a file.</summary>
    public static class LogFormats
    {
        private static readonly List<ILogFormat> Known = new List<ILogFormat> { new MadfFormat(), new ClaudeCode.ClaudeCodeFormat() };

        public static IReadOnlyList<ILogFormat> All => Known;

        public static IEnumerable<string> Names => Known.Select(f => f.Name);

        /// <summary>The format named (case-insensitive), or null.</summary>
        public static ILogFormat? Find(string name) =>
            Known.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>Recognise a file from its first non-blank line; QuickLogger (Madf) is the fallback so bad lines get quarantined with reasons.</summary>
        public static ILogFormat Recognize(string path, ReadOnlySpan<byte> firstLine)
        {
            // A QuickLogger line names its event_type explicitly, so Madf is asked first; it is also the fallback.
            foreach (var format in Known)
                if (format.Recognizes(path, firstLine)) return format;
            return Known[0];
        }
    }
}
