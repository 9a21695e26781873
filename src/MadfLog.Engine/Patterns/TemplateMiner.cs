using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Patterns
{
    /// <summary>One pattern the miner knows: a template whose &lt;*&gt; marks variable parts.</summary>
    public sealed class MinedPattern
    {
        internal MinedPattern(long id, string[] tokens) { Id = id; Tokens = tokens; }
        public long Id { get; }
        public string[] Tokens { get; internal set; }
        public string Template => string.Join(" ", Tokens);
        /// <summary>Set when this pattern was merged into another (the survivor keeps its id).</summary>
        public long? MergedInto { get; internal set; }
        internal bool Dirty { get; set; }
    }

    public sealed class MinerOptions
    {
        /// <summary>Distinct words seen at one position before it becomes a variable (fewer: they are different errors).</summary>
        public int FamilyThreshold { get; set; } = 4;
        /// <summary>A merged template keeps at least this many constant words...</summary>
        public int MinConstants { get; set; } = 3;
        /// <summary>...and at least this share of its tokens constant.</summary>
        public double MinConstantShare { get; set; } = 0.5;
        /// <summary>Longest run of words one variable may stand for when it replaces words of different count.</summary>
        public int MaxVariableRun { get; set; } = 5;
    }

    /// <summary>
    /// Online error-template miner in the Drain family, with one configuration for every log source.
    /// 1. Masking: obvious variables become &lt;*&gt; first: anything with a digit (numbers, ids, hex, GUIDs, durations,
    ///    versions), paths and URLs, host names, file names with a known extension, quoted strings, weekday and month names;
    ///    punctuation separates tokens and is dropped; consecutive variables collapse into one, so a variable part with a
    ///    different number of tokens (a path with spaces, quoted text) does not split a pattern.
    /// 2. Exact grouping on the masked token sequence (like Drain's parse tree keyed on length and tokens; here the
    ///    whole sequence is the key, so it is O(1) per message).
    /// 3. Family merge instead of a similarity threshold: patterns of the same length that differ in exactly one position
    ///    merge into a template with &lt;*&gt; there only when at least FamilyThreshold distinct words were seen there and the
    ///    template keeps enough constant words. Two errors that differ in a constant word stay two patterns; a slot that
    ///    takes many values (user names, hosts) becomes a variable. Merges keep the oldest id (stable ids).
    /// </summary>
    public sealed class TemplateMiner
    {
        public const string Wildcard = "<*>";

        private static readonly Regex Split = new Regex(@"[\s=,:;()\[\]{}""'|<>]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);
        // Quoted strings and Windows drive prefixes (C:\...) are variables that would otherwise split at spaces or the colon.
        private static readonly Regex Quoted = new Regex(@"""[^""]*""|'[^'\s][^']*'|\b[A-Za-z]:(?=[\\/])|(?<![\w:])[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,}(?![\w:])", RegexOptions.Compiled | RegexOptions.CultureInvariant);
        private static readonly Regex HostName = new Regex(@"[A-Za-z]\.[A-Za-z].*\.(com|org|net|edu|gov|io|de|uk|jp|cn|ru|fr|info|local)$|^[A-Za-z][\w-]*\.(com|org|net|edu|gov|io|de|uk|jp|cn|ru|fr|info|local)$", RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        private static readonly Regex FileName = new Regex(@"^[\w\-]+\.(py|ts|js|cs|java|go|rs|md|json|yaml|yml|txt|log|tsx|jsx|html|css|sh|ps1|psd1|psm1|xml|csv|sql|toml|lock|rb|php|c|h|cpp|hpp|kt|swift|scala|dll|so|exe)$", RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        private static readonly HashSet<string> Calendar = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        };

        private readonly MinerOptions _o;
        private readonly Dictionary<string, MinedPattern> _bySignature = new Dictionary<string, MinedPattern>(StringComparer.Ordinal);
        private readonly Dictionary<long, MinedPattern> _byId = new Dictionary<long, MinedPattern>();
        // Templates with variables, by length, to catch new sequences that an earlier merge already covers.
        private readonly Dictionary<int, List<MinedPattern>> _wildByLength = new Dictionary<int, List<MinedPattern>>();
        // Family key (a template with one more position wildcarded) → the live patterns that fit it.
        private readonly Dictionary<string, HashSet<long>> _families = new Dictionary<string, HashSet<long>>(StringComparer.Ordinal);
        private readonly List<string> _newSignatures = new List<string>();
        // Templates made by merging values of different word count (key → pattern id); kept with the signatures under AnchorPrefix.
        private readonly Dictionary<string, long> _anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        /// <summary>Marks a stored signature row that is a variable-length template, not a message.</summary>
        public const string AnchorPrefix = "\u0002";
        private long _nextId;

        public TemplateMiner(MinerOptions? options = null, long firstId = 1)
        {
            _o = options ?? new MinerOptions();
            _nextId = firstId;
        }

        /// <summary>Live (not merged) patterns.</summary>
        public IEnumerable<MinedPattern> Patterns => _byId.Values.Where(p => p.MergedInto == null);

        /// <summary>Every pattern ever created, merged ones included.</summary>
        public IEnumerable<MinedPattern> AllPatterns => _byId.Values;

        /// <summary>Masked tokens of a message: the key of its exact group.</summary>
        [MethodImpl(Hot.Path)]
        public static string[] Tokenize(string? message) => Spans(message, out _).Select(s => s.Token).ToArray();

        // A quoted string is one variable; the sentinel survives splitting (unlike "<*>", whose brackets are delimiters).
        private const string QuotedSentinel = "\u0001";

        /// <summary>
        /// Tokens with the span of the message each came from (consecutive variables share one span); <paramref name="text"/>:
        /// the message as split, each quoted value a run of sentinels of its length.
        /// </summary>
        [MethodImpl(Hot.Path)]
        private static List<(string Token, int Start, int End)> Spans(string? message, out string text)
        {
            var spans = new List<(string Token, int Start, int End)>();
            text = message ?? "";
            if (string.IsNullOrEmpty(message)) { spans.Add((Wildcard, 0, 0)); return spans; }
            text = Quoted.Replace(message!, m => QuotedSentinel.PadRight(m.Length, QuotedSentinel[0]));
            var pos = 0;
            foreach (var raw in Split.Split(text))
            {
                var start = raw.Length == 0 ? pos : text.IndexOf(raw, pos, StringComparison.Ordinal);
                pos = start + raw.Length;
                if (raw.Length == 0) continue;
                var t = raw.Trim('.');
                if (t.Length == 0) continue;
                var tokenStart = start + raw.IndexOf(t, StringComparison.Ordinal);
                var tokenEnd = tokenStart + t.Length;
                var variable = t[0] == QuotedSentinel[0] || IsVariable(t)
                    // A unit right after a number is part of the value ("1.2 KB", "500 B", "3 secs").
                    || (spans.Count > 0 && spans[spans.Count - 1].Token == Wildcard && Units.Contains(t) && start > 0 && IsDigitBefore(text, start));
                if (!variable) { spans.Add((t, tokenStart, tokenEnd)); continue; }
                if (spans.Count > 0 && spans[spans.Count - 1].Token == Wildcard)
                {
                    var last = spans[spans.Count - 1];
                    spans[spans.Count - 1] = (Wildcard, last.Start, tokenEnd);
                    continue;
                }
                spans.Add((Wildcard, tokenStart, tokenEnd));
            }
            if (spans.Count == 0) spans.Add((Wildcard, 0, message!.Length));
            return spans;
        }

        /// <summary>
        /// The template as people read it: an example message with its variable parts replaced by &lt;*&gt;, punctuation
        /// kept ("File does not exist: &lt;*&gt;"). Falls back to the token template when the example does not line up.
        /// </summary>
        public static string Display(string? example, string[] template)
        {
            if (string.IsNullOrEmpty(example)) return string.Join(" ", template);
            // The message with each quoted value as one run of sentinels, as its spans were found in.
            var spans = Spans(example, out var protectedText);
            if (spans.Count != template.Length) return string.Join(" ", template);
            var sb = new StringBuilder();
            var at = 0;
            for (var i = 0; i < spans.Count; i++)
            {
                if (template[i] != Wildcard) continue;
                sb.Append(example!, at, spans[i].Start - at);
                AppendVariables(sb, example!, protectedText, spans[i].Start, spans[i].End);
                at = spans[i].End;
            }
            sb.Append(example!, at, example!.Length - at);
            return sb.ToString();
        }

        private static readonly char[] Brackets = { '(', ')', '[', ']', '{', '}', '<', '>' };

        // One wildcard for neighbouring variables, but a bracket between them stays: "host.a (10.0.0.1)" reads
        // "<*> (<*>)", not "<*>)" with its opening bracket swallowed. A quoted value is one variable whatever it holds.
        private static void AppendVariables(StringBuilder sb, string example, string protectedText, int start, int end)
        {
            var at = start;
            foreach (Match d in Split.Matches(protectedText.Substring(start, end - start)))
            {
                if (d.Value.IndexOfAny(Brackets) < 0) continue;
                sb.Append(Wildcard).Append(example, start + d.Index, d.Length);
                at = start + d.Index + d.Length;
            }
            if (at < end || at == start) sb.Append(Wildcard);
        }

        /// <summary>The text each variable of a template stands for in a message (empty when they do not line up).</summary>
        public static List<string> Variables(string? message, string[] template)
        {
            var values = new List<string>();
            if (string.IsNullOrEmpty(message)) return values;
            var spans = Spans(message, out _);
            var runs = Align(template, spans.Select(x => x.Token).ToArray(), int.MaxValue);
            if (runs == null) return values;
            foreach (var (first, last) in runs) values.Add(message!.Substring(spans[first].Start, spans[last].End - spans[first].Start));
            return values;
        }

        private static readonly HashSet<string> Units = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "bytes", "ms", "us", "ns", "s", "sec", "secs", "min", "mins", "h", "hr", "hrs",
        };

        // Whether the word starting at start follows a number (with only spaces between).
        private static bool IsDigitBefore(string text, int start)
        {
            var i = start - 1;
            while (i >= 0 && text[i] == ' ') i--;
            return i >= 0 && char.IsDigit(text[i]) && i < start - 1;
        }

        [MethodImpl(Hot.Path)]
        private static bool IsVariable(string t)
        {
            foreach (var ch in t)
                if (char.IsDigit(ch) || ch == '/' || ch == '\\') return true;
            return Calendar.Contains(t) || FileName.IsMatch(t) || (t.IndexOf('.') > 0 && HostName.IsMatch(t));
        }

        /// <summary>Assigns a message to a pattern (creating or merging patterns as needed); returns the live pattern.</summary>
        public MinedPattern Add(string? message) => AddTokens(Tokenize(message));

        public MinedPattern AddTokens(string[] tokens)
        {
            var signature = string.Join(" ", tokens);
            if (_bySignature.TryGetValue(signature, out var known)) return Resolve(known);

            MinedPattern? pattern = null;
            if (_wildByLength.TryGetValue(tokens.Length, out var wild))
                pattern = wild.FirstOrDefault(p => p.MergedInto == null && Covers(p.Tokens, tokens));
            // One extra word glued to a value by a space ("payment gateway.py" where "auth.py" is usual) is part of it.
            if (pattern == null && _wildByLength.TryGetValue(tokens.Length - 1, out var shorter))
                pattern = shorter.FirstOrDefault(p => p.MergedInto == null && SpecificEnough(p.Tokens) && CoversWithOneExtraWord(p.Tokens, tokens));
            if (pattern == null)
            {
                // A template made from values of varying word count takes a new value of another count at once.
                foreach (var key in FamilyKeys(tokens))
                    if (_anchors.TryGetValue(key, out var anchorId) && Find(anchorId) is { } anchor) { pattern = anchor; break; }
            }
            if (pattern == null)
            {
                pattern = new MinedPattern(_nextId++, tokens) { Dirty = true };
                _byId[pattern.Id] = pattern;
                Index(pattern);
                pattern = AbsorbCovered(pattern);
                pattern = MergeFamilies(pattern);
            }
            _bySignature[signature] = pattern;
            _newSignatures.Add(signature);
            return Resolve(pattern);
        }

        /// <summary>The live pattern a (possibly merged) pattern ended up in.</summary>
        public MinedPattern Resolve(MinedPattern p)
        {
            while (p.MergedInto.HasValue) p = _byId[p.MergedInto.Value];
            return p;
        }

        public MinedPattern? Find(long id) => _byId.TryGetValue(id, out var p) ? Resolve(p) : null;

        /// <summary>Restores a stored pattern (ids and templates as persisted); call before Add.</summary>
        public void Restore(long id, string template, long? mergedInto)
        {
            var p = new MinedPattern(id, template.Split(' ')) { MergedInto = mergedInto };
            _byId[id] = p;
            if (id >= _nextId) _nextId = id + 1;
            if (mergedInto == null) Index(p);
        }

        /// <summary>Restores a known exact signature → pattern mapping.</summary>
        public void RestoreSignature(string signature, long patternId)
        {
            if (signature.StartsWith(AnchorPrefix, StringComparison.Ordinal)) { _anchors[signature.Substring(AnchorPrefix.Length)] = patternId; return; }
            if (_byId.TryGetValue(patternId, out var p)) _bySignature[signature] = p;
        }

        /// <summary>Signatures added since the last call (to persist).</summary>
        public List<string> TakeNewSignatures()
        {
            var list = new List<string>(_newSignatures);
            _newSignatures.Clear();
            return list;
        }

        /// <summary>Patterns created, refined or merged since the last call (to persist).</summary>
        public List<MinedPattern> TakeDirty()
        {
            var dirty = _byId.Values.Where(p => p.Dirty).ToList();
            foreach (var p in dirty) p.Dirty = false;
            return dirty;
        }

        public MinedPattern ForSignature(string signature) =>
            signature.StartsWith(AnchorPrefix, StringComparison.Ordinal) ? Resolve(_byId[_anchors[signature.Substring(AnchorPrefix.Length)]]) : Resolve(_bySignature[signature]);

        private static bool Covers(string[] template, string[] tokens)
        {
            for (var i = 0; i < template.Length; i++)
                if (template[i] != Wildcard && template[i] != tokens[i]) return false;
            return true;
        }

        /// <summary>
        /// A template with enough constant words to take in a value with one more word: at least two, and at least
        /// MinConstantShare of its tokens (a template of mostly variables would take in anything).
        /// </summary>
        private bool SpecificEnough(string[] template)
        {
            var constants = template.Count(t => t != Wildcard);
            return constants >= 2 && constants >= _o.MinConstantShare * template.Length;
        }

        /// <summary>Whether tokens are the template with one more plain word right before or after one of its variables.</summary>
        private static bool CoversWithOneExtraWord(string[] template, string[] tokens)
        {
            for (var k = 0; k < tokens.Length; k++)
            {
                if (tokens[k] == Wildcard) continue;
                var nextToVariable = (k > 0 && tokens[k - 1] == Wildcard) || (k + 1 < tokens.Length && tokens[k + 1] == Wildcard);
                if (!nextToVariable) continue;
                var ok = true;
                for (int i = 0, j = 0; i < template.Length && ok; i++, j++)
                {
                    if (j == k) j++;
                    ok = template[i] == Wildcard || template[i] == tokens[j];
                }
                if (ok) return true;
            }
            return false;
        }

        /// <summary>The words of a sequence that a family template's new variable stands for (between the common prefix and suffix).</summary>
        private static string[] Run(string[] template, string[] tokens)
        {
            var pre = 0;
            while (pre < template.Length && pre < tokens.Length && template[pre] == tokens[pre]) pre++;
            var suf = 0;
            while (suf < template.Length - pre && suf < tokens.Length - pre && template[template.Length - 1 - suf] == tokens[tokens.Length - 1 - suf]) suf++;
            var length = Math.Max(0, tokens.Length - pre - suf);
            var run = new string[length];
            Array.Copy(tokens, pre, run, 0, length);
            return run;
        }

        private static bool SharedEdgeWord(List<string[]> runs)
        {
            string? First(string[] r) => r.FirstOrDefault(t => t != Wildcard);
            string? Last(string[] r) => r.LastOrDefault(t => t != Wildcard);
            var firsts = runs.Select(First).ToList();
            var lasts = runs.Select(Last).ToList();
            return (firsts.All(f => f != null) && firsts.Distinct().Count() == 1) || (lasts.All(l => l != null) && lasts.Distinct().Count() == 1);
        }

        /// <summary>
        /// Whether a template covers tokens of a greater count, each variable standing for one or more words (at most
        /// maxRun constant words beyond one).
        /// </summary>
        internal static bool CoversRuns(string[] template, string[] tokens, int maxRun) => Align(template, tokens, maxRun) != null;

        /// <summary>
        /// Lines tokens up with a template whose variables stand for one or more tokens (at most maxRun beyond one):
        /// for each variable, the first and last token it stands for; null when they do not line up.
        /// </summary>
        private static List<(int First, int Last)>? Align(string[] template, string[] tokens, int maxRun)
        {
            int n = template.Length, m = tokens.Length;
            // ok[i, j]: template[i..] matches tokens[j..].
            var ok = new bool[n + 1, m + 1];
            ok[n, m] = true;
            for (var i = n - 1; i >= 0; i--)
                for (var j = m - 1; j >= 0; j--)
                {
                    if (template[i] != Wildcard) { ok[i, j] = tokens[j] == template[i] && ok[i + 1, j + 1]; continue; }
                    for (var k = j + 1; k <= m && k - j - 1 <= maxRun && !ok[i, j]; k++) ok[i, j] = ok[i + 1, k];
                }
            if (!ok[0, 0]) return null;
            var runs = new List<(int, int)>();
            for (int i = 0, j = 0; i < n; i++)
            {
                if (template[i] != Wildcard) { j++; continue; }
                var end = j + 1;
                while (!ok[i + 1, end]) end++;
                runs.Add((j, end - 1));
                j = end;
            }
            return runs;
        }

        private static bool Fits(string[] template, string[] tokens, int maxRun) =>
            template.Length == tokens.Length ? Covers(template, tokens) : template.Length < tokens.Length && CoversRuns(template, tokens, maxRun);

        /// <summary>
        /// The families a sequence belongs to: the sequence with one word made a variable, or with a run of up to
        /// MaxVariableRun words next to a variable made part of it (next to a variable, the two become one), so
        /// sequences whose variable parts differ in word count share a family.
        /// </summary>
        private IEnumerable<string> FamilyKeys(string[] tokens)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var p = 0; p < tokens.Length; p++)
            {
                if (tokens[p] == Wildcard) continue;
                for (var run = 1; run <= _o.MaxVariableRun && p + run <= tokens.Length; run++)
                {
                    if (tokens[p + run - 1] == Wildcard) break;
                    // Runs of several words only extend a variable that is already there (a value whose word count varies).
                    // Runs of several words are a variable next to one already there, or the free text that ends a message.
                    if (run > 1 && !(p > 0 && tokens[p - 1] == Wildcard) && !(p + run < tokens.Length && tokens[p + run] == Wildcard) && p + run != tokens.Length) continue;
                    var key = new List<string>(tokens.Length);
                    for (var i = 0; i < p; i++) key.Add(tokens[i]);
                    if (key.Count == 0 || key[key.Count - 1] != Wildcard) key.Add(Wildcard);
                    for (var i = p + run; i < tokens.Length; i++)
                        if (!(i == p + run && tokens[i] == Wildcard)) key.Add(tokens[i]);
                    var text = string.Join(" ", key);
                    if (seen.Add(text)) yield return text;
                }
            }
        }

        private void Index(MinedPattern p)
        {
            if (p.Tokens.Contains(Wildcard))
            {
                if (!_wildByLength.TryGetValue(p.Tokens.Length, out var list)) _wildByLength[p.Tokens.Length] = list = new List<MinedPattern>();
                list.Add(p);
            }
            foreach (var key in FamilyKeys(p.Tokens))
            {
                if (!_families.TryGetValue(key, out var set)) _families[key] = set = new HashSet<long>();
                set.Add(p.Id);
            }
        }

        private void Unindex(MinedPattern p)
        {
            foreach (var key in FamilyKeys(p.Tokens))
                if (_families.TryGetValue(key, out var set)) { set.Remove(p.Id); if (set.Count == 0) _families.Remove(key); }
            if (_wildByLength.TryGetValue(p.Tokens.Length, out var list)) list.Remove(p);
        }

        /// <summary>
        /// A new pattern whose variables come from masking (an id, a number, a path at that place) takes in the earlier
        /// patterns that had a plain word there and match it elsewhere (the place holds values, whatever they look like),
        /// and those with one more plain word glued to such a value (a file name with a space). The oldest id survives.
        /// </summary>
        private MinedPattern AbsorbCovered(MinedPattern pattern)
        {
            if (!pattern.Tokens.Contains(Wildcard)) return pattern;
            var covered = Patterns.Where(o => o.Id != pattern.Id &&
                ((o.Tokens.Length == pattern.Tokens.Length && Covers(pattern.Tokens, o.Tokens)) ||
                 (o.Tokens.Length == pattern.Tokens.Length + 1 && SpecificEnough(pattern.Tokens) && CoversWithOneExtraWord(pattern.Tokens, o.Tokens)))).ToList();
            if (covered.Count == 0) return pattern;
            var all = covered.Append(pattern).OrderBy(p => p.Id).ToList();
            var survivor = all[0];
            foreach (var p in all) Unindex(p);
            foreach (var p in all.Skip(1)) { p.MergedInto = survivor.Id; p.Dirty = true; }
            survivor.Tokens = pattern.Tokens;
            survivor.Dirty = true;
            Index(survivor);
            return survivor;
        }

        /// <summary>Merges the families the pattern completes, repeatedly (a merge can complete a wider family).</summary>
        private MinedPattern MergeFamilies(MinedPattern pattern)
        {
            var merged = true;
            while (merged)
            {
                merged = false;
                foreach (var key in FamilyKeys(pattern.Tokens).ToList())
                {
                    if (!_families.TryGetValue(key, out var members) || members.Count < _o.FamilyThreshold) continue;
                    var template = key.Split(' ');
                    var constants = template.Count(t => t != Wildcard);
                    if (constants < _o.MinConstants || constants < _o.MinConstantShare * template.Length) continue;
                    // A value whose word count no other member shares is weak evidence of a variable: it waits for a second.
                    var byRun = members.ToDictionary(id => id, id => Run(template, _byId[id].Tokens));
                    var lengthCounts = byRun.Values.GroupBy(r => r.Length).ToDictionary(g => g.Key, g => g.Count());
                    var kept = lengthCounts.Count == 1 ? members.ToList() : members.Where(id => lengthCounts[byRun[id].Length] >= 2).ToList();
                    if (kept.Count < _o.FamilyThreshold) continue;
                    var runs = kept.Select(id => byRun[id]).ToList();
                    // Values that all begin or all end with the same word are a field that is there or not ("user=<*>"), not one variable.
                    if (SharedEdgeWord(runs)) continue;
                    var varyingLength = runs.Select(r => r.Length).Distinct().Count() > 1;
                    var ids = kept.OrderBy(id => id).ToList();
                    var survivor = _byId[ids[0]];
                    foreach (var id in ids) Unindex(_byId[id]);
                    foreach (var id in ids.Skip(1)) { _byId[id].MergedInto = survivor.Id; _byId[id].Dirty = true; }
                    survivor.Tokens = template;
                    survivor.Dirty = true;
                    Index(survivor);
                    if (varyingLength && !_anchors.ContainsKey(key))
                    {
                        _anchors[key] = survivor.Id;
                        _newSignatures.Add(AnchorPrefix + key);
                    }
                    // Exact groups that the wider template now covers join it too.
                    foreach (var other in Patterns.Where(o => o.Id != survivor.Id && (varyingLength ? Fits(template, o.Tokens, _o.MaxVariableRun) : o.Tokens.Length == template.Length && Covers(template, o.Tokens))).ToList())
                    {
                        Unindex(other);
                        other.MergedInto = survivor.Id;
                        other.Dirty = true;
                    }
                    pattern = survivor;
                    merged = true;
                    break;
                }
            }
            return pattern;
        }
    }
}
