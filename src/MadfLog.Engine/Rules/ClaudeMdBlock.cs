using System;
using System.IO;
using System.Linq;
using System.Text;

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
            var block = new StringBuilder();
            block.Append(StartMarker).Append(newline);
            block.Append("## Prevention rules (managed by MadfLog: edit with Approve-MadfRule / Deny-MadfRule, not by hand)").Append(newline);
            if (lines.Length == 0) block.Append(newline).Append("_No active rules._").Append(newline);
            else
            {
                block.Append(newline);
                foreach (var l in lines) block.Append(l).Append(newline);
            }
            block.Append(EndMarker);
            var blockBytes = Encoding.UTF8.GetBytes(block.ToString());

            var start = IndexOf(original, Encoding.UTF8.GetBytes(StartMarker), 0);
            var end = start >= 0 ? IndexOf(original, Encoding.UTF8.GetBytes(EndMarker), start) : -1;
            using var ms = new MemoryStream();
            if (start >= 0 && end >= 0)
            {
                ms.Write(original, 0, start);
                ms.Write(blockBytes, 0, blockBytes.Length);
                var after = end + Encoding.UTF8.GetByteCount(EndMarker);
                ms.Write(original, after, original.Length - after);
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
            var text = File.ReadAllText(path);
            var s = text.IndexOf(StartMarker, StringComparison.Ordinal);
            var e = s >= 0 ? text.IndexOf(EndMarker, s, StringComparison.Ordinal) : -1;
            if (s < 0 || e < 0) return Array.Empty<string>();
            return text.Substring(s, e - s).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("- ")).ToArray();
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

        private static int IndexOf(byte[] data, byte[] pattern, int from)
        {
            for (var i = from; i <= data.Length - pattern.Length; i++)
            {
                var match = true;
                for (var j = 0; j < pattern.Length && match; j++) match = data[i + j] == pattern[j];
                if (match) return i;
            }
            return -1;
        }
    }
}
