using System;
using System.Collections.Generic;
using System.Linq;
using MadfLog.Engine.Import.ClaudeCode;

namespace MadfLog.Engine.Import
{
    /// <summary>The formats Import-MadfLog knows, in the order they are tried when recognising a file.</summary>
    public static class LogFormats
    {
        private static readonly List<ILogFormat> Known = new List<ILogFormat>
        {
            new MadfFormat(), new ClaudeCodeFormat(), new ClaudeCodeStreamFormat(), new ClaudeCodeJsonFormat(),
        };

        public static IReadOnlyList<ILogFormat> All => Known;

        /// <summary>The format a file nothing recognises is read as (QuickLogger, so its lines are quarantined with reasons).</summary>
        public static ILogFormat Fallback => Known[0];

        public static IEnumerable<string> Names => Known.Select(f => f.Name);

        /// <summary>The format named (case-insensitive), or null.</summary>
        public static ILogFormat? Find(string name) =>
            Known.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>True for a format whose files are rewritten whole (a JSON array), not appended to.</summary>
        public static bool IsWholeDocument(string? name) => name != null && Find(name) is IJsonArrayFormat;

        /// <summary>Recognise a file from its first non-blank line; QuickLogger (Madf) is the fallback so bad lines get quarantined with reasons.</summary>
        public static ILogFormat Recognize(string path, ReadOnlySpan<byte> firstLine)
        {
            // A QuickLogger line names its event_type explicitly, so Madf is asked first; it is also the fallback.
            foreach (var format in Known)
                if (!(format is IJsonArrayFormat) && format.Recognizes(path, firstLine)) return format;
            return Fallback;
        }

        /// <summary>
        /// Recognise a file from its first bytes: a JSON array is offered (its first element) to the formats that read
        /// arrays, anything else (its first line) to the line formats.
        /// </summary>
        public static ILogFormat Recognize(string path, ReadOnlySpan<byte> head, ReadOnlySpan<byte> firstLine) =>
            RecognizeArray(path, head) ?? Recognize(path, firstLine);

        /// <summary>For a file that is a JSON array of records one of the array formats reads: that format, else null.</summary>
        public static ILogFormat? RecognizeArray(string path, ReadOnlySpan<byte> head)
        {
            var element = ArrayElement(head);
            if (element == null) return null;
            foreach (var format in Known)
                if (format is IJsonArrayFormat && format.Recognizes(path, element.Value.Span)) return format;
            return null;
        }

        /// <summary>The bytes after a leading '[' (BOM and blanks skipped), or null when the text does not start an array.</summary>
        private static ReadOnlyMemory<byte>? ArrayElement(ReadOnlySpan<byte> head)
        {
            var i = head.Length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
            while (i < head.Length && IsBlank(head[i])) i++;
            if (i >= head.Length || head[i] != (byte)'[') return null;
            i++;
            while (i < head.Length && IsBlank(head[i])) i++;
            return head.Slice(i).ToArray();
        }

        private static bool IsBlank(byte b) => b == (byte)' ' || b == (byte)'\t' || b == (byte)'\r' || b == (byte)'\n';
    }
}
