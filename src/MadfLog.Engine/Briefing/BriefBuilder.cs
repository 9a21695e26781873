using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace MadfLog.Engine.Briefing
{
    /// <summary>
    /// Builds a compact text for an agent that provably fits a token budget: headline lines first, then as many items
    /// as fit (each line capped in length), then "…and N more". Tokens are counted with the real tokenizer, and the
    /// finished text is checked again and trimmed if needed, with a safety margin.
    /// </summary>
    public sealed class BriefBuilder
    {
        public const double SafetyMargin = 0.9;
        private readonly int _limit;
        private readonly List<string> _lines = new List<string>();

        public BriefBuilder(int budget) { Budget = budget; _limit = (int)Math.Floor(budget * SafetyMargin); }

        public int Budget { get; }

        /// <summary>A line that must be there (cut to fit if it alone is too long).</summary>
        public BriefBuilder Line(string text)
        {
            var line = Cap(text, 240);
            while (TokenCounter.Count(Text(_lines.Append(line))) > _limit && line.Length > 20) line = Cap(line, line.Length * 2 / 3);
            if (TokenCounter.Count(Text(_lines.Append(line))) <= _limit) _lines.Add(line);
            return this;
        }

        /// <summary>As many item lines as fit, then "…and N more &lt;noun&gt;".</summary>
        public BriefBuilder Items<T>(IReadOnlyList<T> items, Func<T, string> format, string noun, int maxItems = int.MaxValue, int maxLineChars = 160)
        {
            var added = 0;
            for (var i = 0; i < items.Count && added < maxItems; i++)
            {
                var line = Cap(format(items[i]), maxLineChars);
                var remaining = items.Count - i - 1;
                var tail = remaining > 0 ? new[] { More(remaining, noun) } : Array.Empty<string>();
                if (TokenCounter.Count(Text(_lines.Append(line).Concat(tail))) > _limit) break;
                _lines.Add(line);
                added++;
            }
            if (added < items.Count) _lines.Add(More(items.Count - added, noun));
            // The "more" line was accounted for, but check the whole text and trim if a tokenizer boundary disagrees.
            while (TokenCounter.Count(Build()) > _limit && _lines.Count > 1) _lines.RemoveAt(_lines.Count - 1);
            return this;
        }

        public string Build() => Text(_lines);

        /// <summary>"…and N more rules"; one is "…and 1 more rule" (the nouns are the callers' own regular plurals).</summary>
        public static string More(int n, string noun) => $"…and {n} more {(n == 1 ? Singular(noun) : noun)}";

        private static string Singular(string plural) =>
            plural.EndsWith("ies", StringComparison.Ordinal) ? plural.Substring(0, plural.Length - 3) + "y"
            : plural.EndsWith("s", StringComparison.Ordinal) ? plural.Substring(0, plural.Length - 1)
            : plural;

        private static string Text(IEnumerable<string> lines) => string.Join("\n", lines);

        /// <summary>One line, at most max characters, whitespace collapsed.</summary>
        public static string Cap(string? text, int max)
        {
            var sb = new StringBuilder();
            var space = false;
            foreach (var ch in text ?? "")
            {
                if (char.IsWhiteSpace(ch) || char.IsControl(ch)) { space = sb.Length > 0; continue; }
                if (space) { sb.Append(' '); space = false; }
                sb.Append(ch);
                if (sb.Length >= max) return sb.ToString(0, Math.Max(1, max - 1)) + "…";
            }
            return sb.ToString();
        }
    }
}
