using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Collections.Generic;
using System.Globalization;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Rules
{
    /// <summary>
    /// MadfLog's one managed block in CLAUDE.md, between clear markers. Everything outside the block stays byte
    /// for byte as the human wrote it (encoding, BOM, line endings): the file is spliced as bytes. The update is
    /// atomic (temp file, then replace) with a backup, and a file whose content would not change is not written.
    /// </summary>
    public static class ClaudeMdBlock
    {
        public const string StartMarker = "<!-- madflog:rules:start -->";
        public const string EndMarker = "<!-- madflog:rules:end -->";

        /// <summary>Writes the block's inner lines; returns true when the file changed.</summary>
        public static bool Write(string path, string[] lines)
        {
            var original = File.Exists(path) ? File.ReadAllBytes(path) : Array.Empty<byte>();
            var updated = Splice(original, lines);
            if (updated.SequenceEqual(original)) return false;
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, "." + Path.GetFileName(path) + ".madflog.tmp");
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                fs.Write(updated, 0, updated.Length);
                fs.Flush(true);
            }
            if (original.Length > 0 || File.Exists(path))
                File.Replace(temp, path, path + ".madflog.bak");
            else
                File.Move(temp, path);
            return true;
        }

        /// <summary>The file's bytes with the block replaced (or appended); pure, for testing.</summary>
        public static byte[] Splice(byte[] original, string[] lines)
        {
            var newline = DetectNewline(original);
            var inner = new StringBuilder();
            inner.Append(Heading).Append(newline);
            if (lines.Length == 0) inner.Append(newline).Append(NoRules).Append(newline);
            else
            {
                inner.Append(newline);
                // A block line is always one line: whatever a caller passes, a line break inside it cannot end the block.
                foreach (var l in lines) inner.Append(OneLine(l)).Append(newline);
            }
            var innerBytes = Encoding.UTF8.GetBytes(inner.ToString());
            var block = StartMarker + newline + inner + CheckLine(innerBytes) + newline + EndMarker;
            var blockBytes = Encoding.UTF8.GetBytes(block);

            var found = Find(original);
            using var ms = new MemoryStream();
            if (found.HasValue)
            {
                var (start, end) = found.Value;
                ms.Write(original, 0, start);
                ms.Write(blockBytes, 0, blockBytes.Length);
                ms.Write(original, end, original.Length - end);
            }
            else
            {
                ms.Write(original, 0, original.Length);
                var nl = Encoding.UTF8.GetBytes(newline);
                if (original.Length > 0)
                {
                    // Keep the human's text as it was and add the block after one blank line.
                    if (!EndsWith(original, nl)) ms.Write(nl, 0, nl.Length);
                    ms.Write(nl, 0, nl.Length);
                }
                ms.Write(blockBytes, 0, blockBytes.Length);
                ms.Write(nl, 0, nl.Length);
            }
            return ms.ToArray();
        }

        /// <summary>The rule lines currently in the block (empty when there is none).</summary>
        public static string[] Read(string path)
        {
            if (!File.Exists(path)) return Array.Empty<string>();
            var bytes = File.ReadAllBytes(path);
            var found = Find(bytes);
            if (!found.HasValue) return Array.Empty<string>();
            var text = Encoding.UTF8.GetString(bytes, found.Value.Start, found.Value.End - found.Value.Start);
            return text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("- ", StringComparison.Ordinal)).ToArray();
        }

        private const string Heading = "## Prevention rules (managed by MadfLog: edit with Approve-MadfRule / Deny-MadfRule, not by hand)";
        private const string NoRules = "_No active rules._";
        private const string CheckPrefix = "<!-- madflog:rules:check ";

        // The line before the end marker carries a hash of everything between the start marker and it: only a block
        // MadfLog wrote verifies, whatever text a human or a log message puts elsewhere in the file.
        private static string CheckLine(byte[] inner) => CheckPrefix + StableHash.Hash(inner).ToString("x16", CultureInfo.InvariantCulture) + " -->";

        private static string OneLine(string line) => line.Replace("\r", " ").Replace("\n", " ");

        /// <summary>
        /// Where MadfLog's block is: a start marker alone on its line, then the first end marker alone on its line, and
        /// between them either a verified check line, or only MadfLog's own heading and rule lines (a block written by an
        /// earlier version, or whose rules a human edited). Markers inside a line (prose, a quoted log message) never count:
        /// log text reaches the block only inside one rule line. Returns the byte range from the start marker to the end
        /// marker's last byte.
        /// </summary>
        private static (int Start, int End)? Find(byte[] data)
        {
            var lines = Lines(data);
            for (var i = 0; i < lines.Count; i++)
            {
                if (!Is(data, lines[i], StartMarker)) continue;
                var end = -1;
                for (var k = i + 1; k < lines.Count && end < 0; k++) if (Is(data, lines[k], EndMarker)) end = k;
                if (end < 0) break;
                if (Verified(data, lines, i, end) || OnlyRuleLines(data, lines, i, end)) return (lines[i].Start, lines[end].End);
            }
            return null;
        }

        private static bool Verified(byte[] data, List<(int Start, int End, int Next)> lines, int start, int end)
        {
            if (end - 1 <= start) return false;
            var check = lines[end - 1];
            var innerStart = lines[start].Next;
            var inner = new byte[check.Start - innerStart];
            Buffer.BlockCopy(data, innerStart, inner, 0, inner.Length);
            return Is(data, check, CheckLine(inner));
        }

        private static bool OnlyRuleLines(byte[] data, List<(int Start, int End, int Next)> lines, int start, int end)
        {
            if (end - 1 <= start || !Is(data, lines[start + 1], Heading)) return false;
            for (var k = start + 2; k < end; k++)
            {
                var text = Encoding.UTF8.GetString(data, lines[k].Start, lines[k].End - lines[k].Start);
                if (text.Length == 0 || text == NoRules || text.StartsWith("- ", StringComparison.Ordinal)) continue;
                if (k == end - 1 && text.StartsWith(CheckPrefix, StringComparison.Ordinal)) continue;
                return false;
            }
            return true;
        }

        // Each line's first byte, the end of its text (before \r\n or \n) and the start of the next line; a BOM is not text.
        private static List<(int Start, int End, int Next)> Lines(byte[] data)
        {
            var lines = new List<(int, int, int)>();
            var pos = data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
            while (pos < data.Length)
            {
                var nl = Array.IndexOf(data, (byte)'\n', pos);
                var next = nl < 0 ? data.Length : nl + 1;
                var end = nl < 0 ? data.Length : nl;
                if (end > pos && data[end - 1] == '\r') end--;
                lines.Add((pos, end, next));
                pos = next;
            }
            return lines;
        }

        private static bool Is(byte[] data, (int Start, int End, int Next) line, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (line.End - line.Start != bytes.Length) return false;
            for (var j = 0; j < bytes.Length; j++) if (data[line.Start + j] != bytes[j]) return false;
            return true;
        }

        private static string DetectNewline(byte[] bytes)
        {
            int crlf = 0, lf = 0;
            for (var i = 0; i < bytes.Length; i++)
                if (bytes[i] == '\n') { if (i > 0 && bytes[i - 1] == '\r') crlf++; else lf++; }
            return crlf > lf ? "\r\n" : "\n";
        }

        private static bool EndsWith(byte[] data, byte[] suffix) =>
            data.Length >= suffix.Length && data.Skip(data.Length - suffix.Length).SequenceEqual(suffix);
    }
}
