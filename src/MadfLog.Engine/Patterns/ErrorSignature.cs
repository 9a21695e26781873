using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// The part of a failed call that says what went wrong, not its payload. Patterns are mined over
    /// <see cref="Text"/>; the full error text stays the event's evidence.
    /// <list type="bullet">
    /// <item>Harness messages (the agent's tool layer: "File has not been read yet", "String to replace not found")
    /// are their own first line.</item>
    /// <item>Shell failures are the program and subcommand that failed ("ruff check") with the kind of failure its
    /// output shows: environment problems (network, missing dependency, path not found) by class, tool runs (tests,
    /// lint, type check, build) by class and program, anything else by its decisive line.</item>
    /// </list>
    /// One configuration for every source: the phrases are those of common tools and shells, not of one project.
    /// </summary>
    public sealed class ErrorSignature
    {
        private ErrorSignature(string text, string errorClass, string? program, int? exitCode, string? decisive)
        {
            Text = text; ErrorClass = errorClass; Program = program; ExitCode = exitCode; DecisiveLine = decisive;
        }

        /// <summary>What patterns are mined over.</summary>
        public string Text { get; }
        /// <summary>One of <see cref="ErrorClasses"/>.</summary>
        public string ErrorClass { get; }
        /// <summary>For shell calls: the program and subcommand that failed.</summary>
        public string? Program { get; }
        public int? ExitCode { get; }
        /// <summary>The line of the output that says what failed, when one does.</summary>
        public string? DecisiveLine { get; }
        /// <summary>All the lines that say what failed (at most three), for evidence.</summary>
        public IReadOnlyList<string> DecisiveLines { get; private set; } = Array.Empty<string>();

        private const int MaxLine = 240;

        private static readonly Regex Ansi = new Regex(@"\x1B(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1B]*(?:\x07|\x1B\\)|[@-Z\\-_])", RegexOptions.Compiled);
        private static readonly Regex Wrapper = new Regex(@"</?tool_use_error>|</?error>", RegexOptions.Compiled | RegexOptions.IgnoreCase);
        private static readonly Regex ExitCodeLine = new Regex(@"^\s*Exit code:?\s*(-?\d+)\s*$", RegexOptions.Compiled | RegexOptions.IgnoreCase);
        private static readonly Regex HarnessPrefix = new Regex(@"^(Error|Failed|Tool error|Tool execution failed)\s*:\s*", RegexOptions.Compiled | RegexOptions.IgnoreCase);

        // A line that says what failed (checked in this order of strength).
        private static readonly Regex ErrorMarker = new Regex(
            @"(^|\s|\[|\()(error|fatal|failed|failure|panic|exception|cannot|can't|could not|couldn't|unable to|not found|no such|denied|refused|unreachable|timed out|invalid|missing|blocked|aborted|✘|✕|×|✗)\b|^\s*(FAIL|FAILED|ERROR|E)\b|\berror(\[\w+\])?:|\berror [A-Z]+\d+|^npm ERR!|\bERR_[A-Z_]+|\[(ERROR|FAIL|FAILED)\]|^\s*\w[\w.-]*: .*(not found|no such file|cannot|denied)",
            RegexOptions.Compiled | RegexOptions.IgnoreCase);
        // The words ErrorMarker looks for, as one literal search: most lines hold none, and then the full pattern is not run.
        private static readonly Regex ErrorWord = new Regex(
            @"error|fatal|fail|panic|exception|cannot|can't|could not|couldn't|unable to|not found|no such|denied|refused|unreachable|timed out|invalid|missing|blocked|aborted|ERR|✘|✕|×|✗|\bE\b",
            RegexOptions.Compiled | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        // Lines that look like errors but are progress, warnings or a banner.
        private static readonly Regex Noise = new Regex(
            @"^\s*(\d*\s*\||\^+|~+|-->|npm warn|warn(ing)?\b|info\b|debug\b|note:|hint:|\*+\s*$|[-=]{3,}\s*$|\d+ (passed|skipped)|✓|√|PASS\b)|DeprecationWarning|FutureWarning|UserWarning|\b0 errors?\b|\b0 failed",
            RegexOptions.Compiled | RegexOptions.IgnoreCase);

        private static readonly string[] ShellTools = { "bash", "shell", "powershell", "run_shell_command", "terminal", "exec", "execute_command", "run_terminal_cmd", "local_shell", "bashoutput" };

        /// <summary>True for tools that run shell commands (their errors are program output).</summary>
        public static bool IsShell(string? tool) =>
            tool != null && ShellTools.Any(t => string.Equals(t, tool, StringComparison.OrdinalIgnoreCase) || tool.EndsWith("__" + t, StringComparison.OrdinalIgnoreCase));

        /// <summary>Removes colour codes, harness wrappers and progress redraws (keeps what a terminal would show last).</summary>
        public static string Clean(string? text)
        {
            if (string.IsNullOrEmpty(text)) return "";
            var s = text!.IndexOf('\x1B') >= 0 ? Ansi.Replace(text!, "") : text!;
            if (s.IndexOf('<') >= 0) s = Wrapper.Replace(s, "");
            if (s.IndexOf('\r') >= 0)
            {
                var lines = s.Replace("\r\n", "\n").Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var cr = lines[i].LastIndexOf('\r');
                    if (cr >= 0) lines[i] = lines[i].Substring(cr + 1);
                }
                s = string.Join("\n", lines);
            }
            return s.Trim();
        }

        /// <summary>The signature of one failed call: its tool, its input (for shells, the command) and its error text.</summary>
        [MethodImpl(Hot.Path)]
        public static ErrorSignature Of(string? tool, string? input, string? errorText)
        {
            var text = Clean(errorText);
            var lines = HeadAndTail(text.Split('\n')).Select(l => (l.Length > MaxLineRead ? l.Substring(0, MaxLineRead) : l).TrimEnd()).ToList();
            int? exit = null;
            if (lines.Count > 0 && ExitCodeLine.Match(lines[0]) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var code))
            {
                exit = code;
                lines.RemoveAt(0);
            }
            var toolName = string.IsNullOrWhiteSpace(tool) ? null : tool!.Trim();
            var shell = IsShell(toolName);
            var first = FirstLine(lines);

            // What the agent's harness said (not program output): it names the mistake itself.
            var harnessClass = ErrorClasses.OfHarness(text);
            if (shell && harnessClass != null && !ErrorClasses.ShellHarness(harnessClass)) harnessClass = null; // program output, not the harness
            if (harnessClass != null && (exit == null || harnessClass == ErrorClasses.UserRejection))
            {
                if (ErrorClasses.ByClass(harnessClass))
                    // A user's rejection is one thing whatever the tool; a timeout is the tool's own.
                    return new ErrorSignature(Join(harnessClass == ErrorClasses.UserRejection ? null : toolName, ErrorClasses.Describe(harnessClass)), harnessClass, null, exit, first);
                return new ErrorSignature(Cap(HarnessPrefix.Replace(first ?? "", "")), harnessClass, null, exit, first);
            }

            if (!shell)
            {
                var cls = ErrorClasses.OfText(text) ?? ErrorClasses.Other;
                var line = Cap(HarnessPrefix.Replace(first ?? "", ""));
                return new ErrorSignature(line.Length == 0 ? Join(toolName, "failed") : line, cls, null, exit, first);
            }

            var decisive = FindDecisiveLines(lines);
            var decisiveText = string.Join("\n", decisive);
            var result = OfShell(toolName, input, text, lines, first, exit, decisive, decisiveText);
            result.DecisiveLines = decisive;
            return result;
        }

        [MethodImpl(Hot.Path)]
        private static ErrorSignature OfShell(string? toolName, string? input, string text, List<string> lines, string? first, int? exit, List<string> decisive, string decisiveText)
        {
            var program = ShellCommand.ProgramKey(input, decisiveText);

            // Environment problems: the same mistake whichever program met them; the first line that shows one decides.
            var (env, envLine) = ErrorClasses.OfEnvironment(decisive, exit, program);
            // A registry that could not be reached has no versions of anything (pip's "from versions: none", apt's "Unable
            // to locate package"): the network is the mistake, said in the warnings the decisive lines leave out.
            if (env == ErrorClasses.PackageNotFound && lines.FirstOrDefault(l => ErrorClasses.OfLine(l) == ErrorClasses.Network) is { } unreachable)
                (env, envLine) = (ErrorClasses.Network, unreachable.Trim());
            if (env != null)
            {
                var what = ErrorClasses.Describe(env);
                if (env == ErrorClasses.DependencyMissing) what += Ecosystem(envLine ?? text);
                if (env == ErrorClasses.PathNotFound)
                {
                    var absolute = MissingPathIsAbsolute(envLine);
                    // Looking for an absolute path that is not there is a probe; a relative one assumed another directory.
                    if (absolute && ErrorClasses.IsProbe(program))
                        return new ErrorSignature(Join(toolName, ErrorClasses.Describe(ErrorClasses.ProbeNoMatch)), ErrorClasses.ProbeNoMatch, program, exit, envLine);
                    what += absolute ? " (absolute)" : " (relative)";
                }
                // Git's states differ in what to do (no upstream, local changes, an ignored path): keep git's own line.
                if (env == ErrorClasses.GitState && envLine != null) what += ": " + Cap(envLine);
                return new ErrorSignature(Join(toolName, what), env, program, exit, envLine);
            }

            // Tool runs: grouped by the program that ran and what kind of check it is.
            var run = ErrorClasses.OfRun(program);
            if (run != null)
                return new ErrorSignature(Join(toolName, (program ?? "command") + " " + ErrorClasses.Describe(run)), run, program, exit, decisive.FirstOrDefault());

            if (decisive.Count == 0 && ErrorClasses.IsProbe(program))
                return new ErrorSignature(Join(toolName, ErrorClasses.Describe(ErrorClasses.ProbeNoMatch)), ErrorClasses.ProbeNoMatch, program, exit, null);

            var cls2 = ErrorClasses.OfText(decisiveText) ?? ErrorClasses.Other;
            var key = decisive.Count > 0 ? Cap(decisive[0]) : "failed";
            var name = program ?? "command";
            // "jq: error ...": the line names its program already; the head says it once.
            var said = name.Split(' ')[0] + ":";
            var head = key.StartsWith(said, StringComparison.Ordinal) ? name + key.Substring(said.Length - 1) : name + ": " + key;
            return new ErrorSignature(Join(toolName, head), cls2, program, exit, decisive.FirstOrDefault());
        }

        /// <summary>The signature of a message on its own, with no tool or command known.</summary>
        public static ErrorSignature OfMessage(string? message) => Of(null, null, message);

        // What decides a failure is at the start of its output or, for a traceback or a runner's summary, at the end.
        private const int HeadLines = 150, TailLines = 50;
        // A line is read this far: what decides a failure is said early in its line, and a megabyte line costs no more.
        private const int MaxLineRead = 4000;

        private static IEnumerable<string> HeadAndTail(string[] lines) =>
            lines.Length <= HeadLines + TailLines ? lines : lines.Take(HeadLines).Concat(lines.Skip(lines.Length - TailLines));

        private static string Join(string? tool, string what) => tool == null ? what : tool + " " + what;

        private static string Cap(string s)
        {
            s = s.Trim();
            return s.Length <= MaxLine ? s : s.Substring(0, MaxLine);
        }

        private static string? FirstLine(List<string> lines)
        {
            foreach (var l in lines)
                if (!string.IsNullOrWhiteSpace(l)) return l.Trim();
            return null;
        }

        /// <summary>
        /// The lines that say what failed: a traceback's exception line, error/fatal/FAILED lines; warnings, progress
        /// and banners skipped. At most three, in order.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static List<string> FindDecisiveLines(IList<string> lines)
        {
            var found = new List<string>();
            // A Python traceback ends with its exception: that line is the one that matters.
            for (var i = lines.Count - 1; i >= 0; i--)
            {
                if (!lines[i].StartsWith("Traceback (most recent call last)", StringComparison.Ordinal)) continue;
                for (var j = lines.Count - 1; j > i; j--)
                    if (IsExceptionLine(lines[j])) { found.Add(lines[j].Trim()); break; }
                if (found.Count > 0) return found;
            }
            // A banner boxed in rules of asterisks, hashes or = at the top (an ssh or login banner) says nothing about the
            // failure: skip to its last rule; text glued to that rule (no newline after the banner) is output.
            var start = -1;
            var firstText = 0;
            while (firstText < lines.Count && lines[firstText].Trim().Length == 0) firstText++;
            if (firstText < lines.Count && RuleLength(lines[firstText].Trim()) >= 10)
                for (var i = firstText; i < Math.Min(lines.Count, firstText + 20); i++)
                    if (RuleLength(lines[i].Trim()) >= 10) start = i;
            for (var i = Math.Max(start, 0); i < lines.Count; i++)
            {
                var l = lines[i].Trim();
                if (i == start) l = l.Substring(RuleLength(l)).Trim();
                if (l.Length == 0 || Noise.IsMatch(l)) continue;
                // A line of one word ("Error") names no failure.
                if (l.IndexOf(' ') < 0 && l.IndexOf(':') < 0) continue;
                if ((ErrorWord.IsMatch(l) && ErrorMarker.IsMatch(l)) || IsExceptionLine(l) || ErrorClasses.OfLine(l) != null)
                {
                    found.Add(Cap(l));
                    if (found.Count == 3) break;
                }
            }
            return found;
        }

        private static readonly string[] ExceptionSuffixes = { "Error", "Exception", "Exit", "Interrupt", "Warning" };

        /// <summary>"KeyError: 'x'", "requests.exceptions.ConnectionError: …", "SystemExit": a raised exception's line (no regex: long lines cost nothing).</summary>
        private static bool IsExceptionLine(string line)
        {
            var t = line.Trim().TrimStart('[', '(');
            var colon = t.IndexOf(':');
            var name = colon < 0 ? t : t.Substring(0, colon);
            if (name.Length < 5 || name.Length > 120) return false;
            foreach (var ch in name) if (!(char.IsLetterOrDigit(ch) || ch == '_' || ch == '.')) return false;
            var last = name.Substring(name.LastIndexOf('.') + 1);
            return last.Length > 0 && char.IsUpper(last[0]) && ExceptionSuffixes.Any(s => last.EndsWith(s, StringComparison.Ordinal));
        }

        private static int RuleLength(string l)
        {
            var n = 0;
            while (n < l.Length && (l[n] == '*' || l[n] == '#' || l[n] == '=')) n++;
            return n;
        }

        private static string Ecosystem(string text)
        {
            var t = text.ToLowerInvariant();
            if (t.Contains("modulenotfounderror") || t.Contains("no module named") || t.Contains("pip install")) return " (python)";
            if (t.Contains("cannot find module") || t.Contains("err_module_not_found") || t.Contains("cannot find dependency") || t.Contains("module not found") || t.Contains("npm err")) return " (node)";
            return "";
        }

        // The path a "not found" line names: quoted, or the word before ": No such file", or the word after "not found:".
        private static readonly Regex MissingPath = new Regex(
            @"['""`‘]([^'""`’]+)['""`’]|([^\s:'""`]+):\s*(?:no such file|cannot find|not found|does not exist)|(?:no such file or directory|no matches found|not found|does not exist)\s*:\s*(\S+)",
            RegexOptions.Compiled | RegexOptions.IgnoreCase);

        /// <summary>The path a not-found line names (quoted, after the phrase, else before it; never a line number), or null.</summary>
        public static string? MissingPathIn(string? line)
        {
            if (line == null) return null;
            string? before = null, after = null, quoted = null;
            foreach (Match m in MissingPath.Matches(line))
            {
                if (m.Groups[1].Success) quoted ??= m.Groups[1].Value;
                else if (m.Groups[3].Success) after ??= m.Groups[3].Value;
                else if (m.Groups[2].Success && !m.Groups[2].Value.All(char.IsDigit)) before ??= m.Groups[2].Value;
            }
            return quoted ?? after ?? before;
        }

        /// <summary>Whether the path a not-found line names is absolute (guessed) rather than relative (another working directory assumed).</summary>
        private static bool MissingPathIsAbsolute(string? line)
        {
            var p = MissingPathIn(line);
            if (p == null) return false;
            return p.StartsWith("/", StringComparison.Ordinal) || p.StartsWith("~", StringComparison.Ordinal) || p.StartsWith("\\", StringComparison.Ordinal) || (p.Length > 2 && p[1] == ':');
        }

        public override string ToString() => Text;
    }
}
