using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Rules
{
    /// <summary>What a pattern's recent errors show: the tool or program, the values that recur, the fix the error names.</summary>
    public sealed class PatternFacts
    {
        public string ErrorClass { get; set; } = ErrorClasses.Other;
        /// <summary>The program and subcommand (shell tools) or tool more than half of the errors came from; null when none did.</summary>
        public string? Scope { get; set; }
        /// <summary>The values that recur in the errors (paths, modules, hosts, commands), most frequent first, with counts.</summary>
        public List<(string Value, int Count)> HotSpots { get; } = new List<(string, int)>();
        /// <summary>The fix the error text itself gives, when it gives one.</summary>
        public string? Fix { get; set; }
        /// <summary>How many of the errors read give <see cref="Fix"/>, and how many were read: a fix only some give is told as such.</summary>
        public int FixGivenBy { get; set; }
        public int ErrorsSeen { get; set; }
        /// <summary>
        /// The pattern's errors in the window, of which the newest <see cref="ErrorsSeen"/> were read: when they are
        /// more, the counts are of a sample and the rule tells shares instead ("`jq` (21%)", not "`jq` (42×)" of 630).
        /// </summary>
        public long ErrorsInWindow { get; set; }
        public bool IsSample => ErrorsInWindow > ErrorsSeen;

        /// <summary>Facts from a pattern's failed calls (tool, input or command, error text), newest first.</summary>
        public static PatternFacts From(string errorClass, IEnumerable<(string? Tool, string? Input, string? Text)> errors)
        {
            var list = errors.ToList();
            var facts = new PatternFacts { ErrorClass = errorClass };
            var signatures = list.Select(e => (e, s: ErrorSignature.Of(e.Tool, e.Input, e.Text))).ToList();
            // Named only when most of the errors came from it: a rule headed by one of several tools misleads about the rest.
            facts.Scope = signatures.Select(x => x.s.Program is { } p ? p : x.e.Tool).Where(s => !string.IsNullOrEmpty(s))
                .GroupBy(s => s).OrderByDescending(g => g.Count()).Where(g => g.Count() * 2 > list.Count).Select(g => g.Key).FirstOrDefault();
            var values = signatures.Select(x => HotSpot(errorClass, x.e.Tool, x.e.Input, x.s)).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToList();
            // Without a value from the call itself, the variable parts of the messages are what recurs (paths, commands, names).
            if (values.Count == 0) values = MessageVariables(list.Select(e => e.Text));
            // The program the rule is headed by is no place the errors cluster ("`psql`: ... Most often: `psql`").
            facts.HotSpots.AddRange(Rank(values.Where(v => v != facts.Scope)));
            // The fix most errors name, as the scope is the program most errors came from: one that a few of many
            // errors give ("Did you mean src/a.ts?") is about those errors, not the pattern's fix.
            var fix = list.SelectMany(e => FixesIn(e.Text).Distinct()).GroupBy(f => f).Where(g => g.Count() * 2 > list.Count)
                .OrderByDescending(g => g.Count()).FirstOrDefault();
            facts.Fix = fix?.Key;
            facts.FixGivenBy = fix?.Count() ?? 0;
            facts.ErrorsSeen = list.Count;
            facts.ErrorsInWindow = list.Count;
            return facts;
        }

        private static IEnumerable<(string, int)> Rank(IEnumerable<string> values)
        {
            var list = values.ToList();
            // Messages (values with words) that differ only in their numbers ("1 failed, 14 passed in 38s", "1 failed, 308
            // passed in 1s") are one message with its measurements, not places where errors cluster: they are left out.
            // Names without spaces (hosts such as 10.0.0.1 and 10.0.0.2, files, modules) stay distinct places.
            var measured = new HashSet<string>(list.Distinct().Where(v => v.IndexOf(' ') >= 0)
                .GroupBy(v => DigitRuns.Replace(v, "#")).Where(g => g.Count() > 1).SelectMany(g => g));
            return list.Where(v => !measured.Contains(v)).GroupBy(v => v).Select(g => (g.Key, g.Count()))
                .OrderByDescending(v => v.Item2).ThenBy(v => v.Key, StringComparer.Ordinal).Take(3);
        }

        // Any run of digits, inside words too ("38.2s", "v2"): values compared without their measurements.
        private static readonly Regex DigitRuns = new Regex(@"\d+", RegexOptions.Compiled);

        private static readonly Regex MeasureOnly = new Regex(@"^[\d\s.,:%+\-]*(ms|s|m|h|kb|mb|gb|b|bytes|tokens|seconds|minutes)?$", RegexOptions.Compiled | RegexOptions.IgnoreCase);

        /// <summary>The values the messages' variables take (their first lines mined together), numbers and times left out.</summary>
        private static List<string> MessageVariables(IEnumerable<string?> texts)
        {
            var lines = texts.Select(t => ErrorSignature.Clean(t).Split('\n')[0].Trim()).Where(l => l.Length > 0).ToList();
            var miner = new TemplateMiner();
            var assigned = lines.Select(l => (l, p: miner.Add(l))).ToList();
            var values = new List<string>();
            foreach (var (line, p) in assigned)
                foreach (var v in TemplateMiner.Variables(line, miner.Resolve(p).Tokens))
                {
                    var value = v.Trim().Trim('\'', '"', '`', '(', ')', ',', '.', ':');
                    if (value.Length == 0 || value.Length > 80 || MeasureOnly.IsMatch(value)) continue;
                    values.Add(ShortPath(value) ?? value);
                }
            return values;
        }

        // Errors read per pattern for its facts: the newest, enough for a ranking of values and all of most weeks'.
        public const int ErrorsRead = 1000;

        /// <summary>Facts from a pattern's newest failed calls in a time window (Unix ms).</summary>
        public static PatternFacts Read(Microsoft.Data.Sqlite.SqliteConnection c, long patternId, string errorClass, long from, long to)
        {
            var rows = Dapper.SqlMapper.Query<string?>(c,
                "SELECT details FROM events WHERE id IN (SELECT id FROM event_rows WHERE pattern_id = @patternId AND " + Store.EventStorage.Window("", "@from", "@to", Store.EventStorage.PatternTime("event_rows")) + " ORDER BY id DESC LIMIT @n)",
                new { patternId, from, to, n = ErrorsRead });
            var facts = From(errorClass, rows.Select(Events.EventDetails.Call));
            if (facts.ErrorsSeen == ErrorsRead)
                facts.ErrorsInWindow = Dapper.SqlMapper.ExecuteScalar<long>(c,
                    "SELECT count(*) FROM event_rows WHERE pattern_id = @patternId AND " + Store.EventStorage.Window("", "@from", "@to", Store.EventStorage.PatternTime("event_rows")), new { patternId, from, to });
            return facts;
        }


        private static readonly Regex Code = new Regex(@"\b[A-Z]{1,4}\d{2,5}\b", RegexOptions.Compiled);
        private static readonly Regex FileInLine = new Regex(@"[\w./\\-]*[\w-]+\.[A-Za-z]{1,5}\b", RegexOptions.Compiled);
        private static readonly Regex Quoted = new Regex(@"['""`‘]([^'""`’\s]{1,80})['""`’]", RegexOptions.Compiled);
        // ":5432", ":::3000", "port 3000"; not a time's ":00" followed by more of it.
        private static readonly Regex Port = new Regex(@"(?:\bport\s+|:)(\d{2,5})(?!\d|:\d)", RegexOptions.Compiled | RegexOptions.IgnoreCase);
        private static readonly Regex Url = new Regex(@"\bhttps?://([^/\s:'""]+)", RegexOptions.Compiled);
        // Two or more location parts before a shell's message: a program or path, an option, a line number ("line 0").
        private static readonly Regex ShellLocation = new Regex(@"^(?:(?:[a-z][\w.-]*|/[\w./-]+|-\w+|line \d+|\d+)\s*:\s*){2,}(?=\S)", RegexOptions.Compiled);
        private static readonly Regex MissingCommand = new Regex(@"([\w.-]+): (?:command )?not found", RegexOptions.Compiled | RegexOptions.IgnoreCase);

        /// <summary>The value one error is about, by what kind of error it is.</summary>
        private static string? HotSpot(string cls, string? tool, string? input, ErrorSignature s)
        {
            switch (cls)
            {
                case ErrorClasses.DependencyMissing:
                    return s.DecisiveLine is { } d && Quoted.Match(d) is { Success: true } q ? q.Groups[1].Value : s.Program;
                case ErrorClasses.TaskNotFound:
                    // The task asked for, as its line quotes it ("Missing script: \"test\"", "target 'test'"), else the program.
                    return s.DecisiveLine is { } task && Quoted.Match(task) is { Success: true } name ? name.Groups[1].Value : s.Program;
                case ErrorClasses.CommandNotFound:
                    return s.DecisiveLine is { } line && MissingCommand.Match(line) is { Success: true } m ? m.Groups[1].Value : s.Program;
                case ErrorClasses.Network:
                    return input != null && Url.Match(input) is { Success: true } u ? u.Groups[1].Value : s.Program;
                case ErrorClasses.Authentication:
                    // The service that refused: the host its lines or its command name (git's 403 names it on the line
                    // after the refusal), else the program.
                    return s.DecisiveLines.Select(l => Url.Match(l)).FirstOrDefault(m => m.Success) is { } host ? host.Groups[1].Value
                        : input != null && Url.Match(input) is { Success: true } asked ? asked.Groups[1].Value : s.Program;
                case ErrorClasses.PortInUse:
                    // The port its line names (the last one: a log line's time comes first) as lsof takes it, one word (a
                    // value with a space and a number is read as a measurement), else the server that ran.
                    return s.DecisiveLine is { } held && Port.Matches(held) is { Count: > 0 } ports ? ":" + ports[ports.Count - 1].Groups[1].Value : s.Program;
                case ErrorClasses.PathNotFound:
                case ErrorClasses.UnquotedGlob:
                    return ShortPath(ErrorSignature.MissingPathIn(s.DecisiveLine));
                case ErrorClasses.PackageNotFound:
                    // The package asked for: the install command's last argument that is not an option.
                    return input?.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).Skip(1).LastOrDefault(a => !a.StartsWith("-", StringComparison.Ordinal));
                case ErrorClasses.Timeout:
                case ErrorClasses.ProbeNoMatch:
                case ErrorClasses.InteractiveInput:
                case ErrorClasses.LockHeld:
                // A limit of the machine: where it is hit is the program that ran.
                case ErrorClasses.OutOfMemory:
                case ErrorClasses.DiskFull:
                case ErrorClasses.ResourceLimit:
                case ErrorClasses.ManagedEnvironment:
                case ErrorClasses.DependencyConflict:
                    return s.Program;
            }
            if (ErrorSignature.IsShell(tool))
            {
                // What the run reported: a rule or error code (F401, TS2339, E501), else the file it names.
                if (s.DecisiveLine is { } line)
                {
                    if (Code.Match(line) is { Success: true } code) return code.Value;
                    if (FileInLine.Match(line) is { Success: true } file) return ShortPath(file.Value);
                }
                // Else the line that says what failed: the more specific one after a general one ("> Build error
                // occurred", then "[TypeError: …]"), or the only one ("sh: -c: line 0: syntax error near …").
                var said = s.DecisiveLines.Count > 1 ? s.DecisiveLines[1].Trim('[', ']', ' ') : s.DecisiveLines.Count == 1 ? s.DecisiveLines[0] : null;
                // A count ("Found 1 error.") says nothing about where: a line of a few words is no hot spot.
                if (said == null || said.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).Length < 4) return null;
                // The shell's "where" ("sh: -c: line 0: ", "/bin/sh: 1: ") takes the room the message needs.
                var message = ShellLocation.Replace(said, "");
                if (message.Length == 0) message = said;
                // A line the pattern is named by (git's "error: Your local changes ...") is the error itself, not where it clusters.
                return s.Text.IndexOf(message.Trim(), StringComparison.Ordinal) >= 0 ? null : message;
            }
            return ShortPath(input); // file tools: the file
        }

        /// <summary>The last two parts of a path: enough to recognise a file, short enough for a rule.</summary>
        private static string? ShortPath(string? path)
        {
            if (string.IsNullOrWhiteSpace(path)) return null;
            var p = path!.Trim();
            if (p.StartsWith("{", StringComparison.Ordinal)) return null; // a JSON input, not a path
            var parts = p.Split(new[] { '/', '\\' }, StringSplitOptions.RemoveEmptyEntries);
            return parts.Length <= 2 ? p : string.Join("/", parts.Skip(parts.Length - 2));
        }

        // Sentences in which a tool tells what to do instead: "Run 'mix format' to fix", "Use -f if you really want
        // to add them", "Please use offset and limit parameters", "Did you mean 'cycle'?", "help: Remove unused import",
        // "2 fixable with the --fix option", and the command git shows after "To push …, use".
        private static readonly Regex FixSentence = new Regex(
            @"(?:^|[.!;]\s+|\(\s*)((?:please\s+)?(?:run|use|try|consider|set|pass|install|re-?run|read it)\b[^.!;\n]{3,120})|\b(did you mean[^?\n]{2,80}\?)|^\s*(?:hint|help|fix|suggestion|tip):\s*(.{3,120})|\b(fixable with[^.\n(]{2,60})",
            RegexOptions.Compiled | RegexOptions.IgnoreCase | RegexOptions.Multiline);
        private static readonly Regex CommandAfterUse = new Regex(@"(?:^|\n)\s*To [^\n]*,\s*(?:use|run)\s*:?\s*\n\s*\n?\s{2,}(\S[^\n]{2,100})", RegexOptions.Compiled | RegexOptions.IgnoreCase);
        private static readonly Regex Digits = new Regex(@"\b\d+\b", RegexOptions.Compiled);

        private static bool IsCapitalsWord(string phrase)
        {
            var end = 0;
            while (end < phrase.Length && char.IsLetter(phrase[end])) end++;
            return end > 1 && phrase.Take(end).All(char.IsUpper);
        }

        /// <summary>The fixes an error text names (numbers masked so one fix counts once across errors).</summary>
        public static IEnumerable<string> FixesIn(string? text)
        {
            if (string.IsNullOrWhiteSpace(text)) yield break;
            var clean = ErrorSignature.Clean(text);
            if (clean.Length > 20000) clean = clean.Substring(0, 20000);
            foreach (Match command in CommandAfterUse.Matches(clean)) yield return command.Groups[1].Value.Trim();
            foreach (Match m in FixSentence.Matches(clean))
            {
                var g = m.Groups[1].Success ? m.Groups[1] : m.Groups[2].Success ? m.Groups[2] : m.Groups[3].Success ? m.Groups[3] : m.Groups[4];
                // A word in capitals is a status label ("PASS src/a.test.ts", "RUN TestX"), not an instruction.
                if (m.Groups[1].Success && IsCapitalsWord(g.Value)) continue;
                var value = Digits.Replace(g.Value.Trim().TrimEnd('.', ' '), "N");
                if (value.Length > 0) yield return value;
            }
        }
    }

    /// <summary>
    /// A rule's text from its evidence: one short bullet (at most 60 words) saying what to do differently for the
    /// tool or program, where the errors cluster, and the fix the error text gives. The class's advice opens it; every
    /// value from the logs is redacted, capped and quoted as a code span, so it stays inert in CLAUDE.md.
    /// </summary>
    public static class RuleText
    {
        public const int MaxWords = 60;

        public static string Compose(PatternFacts facts)
        {
            var parts = new List<string>();
            var advice = RuleAdvice.For(facts.ErrorClass);
            parts.Add(facts.Scope != null ? $"{SafeText.CodeSpan(facts.Scope, 40)}: {advice}" : advice);
            // "Most often" only when a value does recur; values seen once each are examples, not where errors cluster.
            if (facts.HotSpots.Count > 0 && facts.HotSpots[0].Count > 1)
                parts.Add("Most often: " + string.Join(", ", facts.HotSpots.Select(h => $"{SafeText.CodeSpan(h.Value, 40)} ({Seen(facts, h.Count)})")) + ".");
            else if (facts.HotSpots.Count > 0)
                parts.Add("For example: " + string.Join(", ", facts.HotSpots.Select(h => SafeText.CodeSpan(h.Value, 40))) + ".");
            // A fix only some of the errors give is told with its count, so it does not read as what every error says.
            if (facts.Fix != null)
                parts.Add(facts.FixGivenBy < facts.ErrorsSeen
                    ? (facts.IsSample ? $"{Percent.Brief((double)facts.FixGivenBy / facts.ErrorsSeen)} of errors say" : $"{facts.FixGivenBy} of {facts.ErrorsSeen} errors say") + $": {SafeText.CodeSpan(facts.Fix, 100)}."
                    : $"The error says: {SafeText.CodeSpan(facts.Fix, 100)}.");
            var text = string.Join(" ", parts);
            return CapWords(text, MaxWords);
        }

        // How often a value was seen: a count when every error of the window was read, else its share of those read.
        private static string Seen(PatternFacts facts, int count) =>
            facts.IsSample ? Percent.Brief((double)count / facts.ErrorsSeen) : count + "×";

        private static string CapWords(string text, int max)
        {
            var words = text.Split(' ');
            if (words.Length <= max) return text;
            var cut = string.Join(" ", words.Take(max));
            // Never leave a code span open.
            if (cut.Count(ch => ch == '`') % 2 == 1) cut += "`";
            return cut + "…";
        }
    }
}
