using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    /// <summary>What already covers a proposal: an existing rule or a hand-written line of CLAUDE.md.</summary>
    public sealed class RuleCoverage
    {
        public long PatternId { get; set; }
        /// <summary>The rule that was not proposed.</summary>
        public string Proposed { get; set; } = "";
        /// <summary>"R12 (active)" or "CLAUDE.md line 8".</summary>
        public string CoveredBy { get; set; } = "";
        /// <summary>The covering rule's or line's text.</summary>
        public string CoveringText { get; set; } = "";
        public double Similarity { get; set; }
    }

    /// <summary>An active rule whose pattern keeps occurring: it is moved to the top of the block with its count.</summary>
    public sealed class RuleNotFollowed
    {
        public long RuleId { get; set; }
        public long PatternId { get; set; }
        public DateTime Since { get; set; }
        public long Occurrences { get; set; }
        public long Sessions { get; set; }
    }

    /// <summary>
    /// Does a proposal repeat what is already written? Texts are compared as sets of normalised words (lower case,
    /// letters and digits; words shorter than three letters and log placeholders left out) by their overlap
    /// coefficient |A∩B| / min(|A|, |B|): a short hand-written line that a longer proposal fully contains is covered.
    /// A proposal is a duplicate at <see cref="DuplicateThreshold"/> or more: against a rule, both its instruction and
    /// its error must match (two rules with the same instruction for different errors are not duplicates); against a
    /// hand-written line, the line is compared with the instruction and the error together.
    /// </summary>
    public static class RuleOverlap
    {
        public const double DuplicateThreshold = 0.8;
        /// <summary>Texts with fewer normalised words than this are too short to say they cover anything.</summary>
        public const int MinWords = 3;
        /// <summary>A rule is "not followed" when its pattern occurred this often, in this many sessions, since it took effect (and it is not Effective).</summary>
        public const int NotFollowedOccurrences = 3, NotFollowedSessions = 2;

        public static HashSet<string> Words(string? text)
        {
            var words = new HashSet<string>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(text)) return words;
            var sb = new StringBuilder();
            void Flush()
            {
                if (sb.Length >= 3) words.Add(sb.ToString());
                sb.Clear();
            }
            foreach (var ch in text!)
            {
                if (char.IsLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
                else Flush();
            }
            Flush();
            return words;
        }

        /// <summary>Overlap coefficient of two word sets; 0 when either is shorter than <see cref="MinWords"/>.</summary>
        public static double Similarity(HashSet<string> a, HashSet<string> b)
        {
            var min = Math.Min(a.Count, b.Count);
            if (min < MinWords) return 0;
            var common = a.Count <= b.Count ? a.Count(b.Contains) : b.Count(a.Contains);
            return (double)common / min;
        }

        /// <summary>The hand-written lines of a CLAUDE.md (outside MadfLog's block), with their line numbers; headings and blank lines left out.</summary>
        public static List<(int line, string text)> HandWrittenLines(string? path)
        {
            var lines = new List<(int, string)>();
            if (path == null || !File.Exists(path)) return lines;
            var inBlock = false;
            var n = 0;
            foreach (var raw in File.ReadAllLines(path))
            {
                n++;
                if (raw.Contains(ClaudeMdBlock.StartMarker)) { inBlock = true; continue; }
                if (raw.Contains(ClaudeMdBlock.EndMarker)) { inBlock = false; continue; }
                var text = raw.Trim();
                if (inBlock || text.Length == 0 || text.StartsWith("#", StringComparison.Ordinal)) continue;
                lines.Add((n, text));
            }
            return lines;
        }

        /// <summary>What already covers a proposal (instruction and error template), or null.</summary>
        public static RuleCoverage? Cover(long patternId, string text, string template, IEnumerable<Rule> rules, IEnumerable<(int line, string text)> handWritten)
        {
            var textWords = Words(text);
            var errorWords = Words(template);
            var all = new HashSet<string>(textWords);
            all.UnionWith(errorWords);
            RuleCoverage? best = null;
            void Consider(string by, string covering, double score)
            {
                if (score >= DuplicateThreshold && (best == null || score > best.Similarity))
                    best = new RuleCoverage { PatternId = patternId, Proposed = text, CoveredBy = by, CoveringText = covering, Similarity = Math.Round(score, 3) };
            }
            foreach (var r in rules)
            {
                if (r.PatternId == patternId) continue;
                Consider($"R{r.Id} ({r.Status.ToString().ToLowerInvariant()})", r.Text,
                    Math.Min(Similarity(textWords, Words(r.Text)), Similarity(errorWords, Words(r.Evidence.Template))));
            }
            foreach (var (line, hand) in handWritten)
                Consider($"CLAUDE.md line {line}", hand, Similarity(all, Words(hand)));
            return best;
        }

        /// <summary>
        /// Active rules that are broken: their pattern occurred at least 3 times, in at least 2 sessions, since the rule
        /// took effect, and its rate has not measurably fallen (<see cref="RuleEffect.Fell"/>). Most occurrences first.
        /// </summary>
        /// <param name="effects">The active rules' effects when the caller measured them already (a revision does, once).</param>
        public static List<RuleNotFollowed> NotFollowed(SqliteConnection c, DateTimeOffset now, IReadOnlyList<RuleEffect>? effects = null)
        {
            var list = new List<RuleNotFollowed>();
            foreach (var r in RuleStore.List(c, RuleStatus.Active))
            {
                var since = new DateTimeOffset(r.Activated!.Value, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var (n, sessions) = c.QueryFirst<(long, long)>(
                    $"SELECT count(*), count(DISTINCT e.session_id) FROM events e WHERE e.pattern_id = @p AND {Domain.Errors.InEvents} AND e.timestamp >= @since",
                    new { p = r.PatternId, since });
                if (n >= NotFollowedOccurrences && sessions >= NotFollowedSessions)
                    list.Add(new RuleNotFollowed { RuleId = r.Id, PatternId = r.PatternId, Since = r.Activated.Value, Occurrences = n, Sessions = sessions });
            }
            if (list.Count > 0)
            {
                // A rule whose error fell is followed, even if the error has not gone away entirely.
                var fell = new HashSet<long>((effects ?? RuleEffectiveness.Evaluate(c, now)).Where(e => e.Fell).Select(e => e.RuleId));
                list.RemoveAll(x => fell.Contains(x.RuleId));
            }
            return list.OrderByDescending(x => x.Occurrences).ThenBy(x => x.RuleId).ToList();
        }
    }
}
