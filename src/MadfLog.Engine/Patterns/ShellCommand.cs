using System;
using System.Collections.Generic;
using System.Text;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// What a shell command line runs, as a developer would name it: the program and its subcommand
    /// ("git push", "npm run build", "ruff check"), after cd/export/echo set-up steps, environment assignments,
    /// redirections, launchers (sudo, time, timeout N) and runners (uv run, npx, poetry run, python -m) are taken away.
    /// Knowledge of shells and package runners, not of any one project.
    /// </summary>
    public static class ShellCommand
    {
        // Steps that prepare or report rather than do the work; a chain's failing step is rarely one of these.
        private static readonly HashSet<string> SetUp = new HashSet<string>(StringComparer.Ordinal)
        {
            "cd", "pushd", "popd", "export", "set", "unset", "source", ".", "echo", "printf", "sleep", "true", "false",
            "mkdir", "clear", "wait", "local", "alias", "shopt", "trap", "exec", ":", "read", "jobs",
        };

        // Prefixes that launch the real program: the program is what follows them.
        private static readonly HashSet<string> Launchers = new HashSet<string>(StringComparer.Ordinal)
        {
            "sudo", "time", "nohup", "env", "command", "builtin", "nice", "xargs", "stdbuf", "caffeinate", "doas",
        };

        // Runner prefixes (two words or one) that run a tool from a project's environment.
        private static readonly string[][] Runners =
        {
            new[] { "uv", "run" }, new[] { "poetry", "run" }, new[] { "pipenv", "run" }, new[] { "pdm", "run" }, new[] { "hatch", "run" },
            new[] { "rye", "run" }, new[] { "pnpm", "exec" }, new[] { "pnpm", "dlx" }, new[] { "yarn", "dlx" }, new[] { "npm", "exec" },
            new[] { "bundle", "exec" }, new[] { "conda", "run" }, new[] { "dotnet", "tool", "run" }, new[] { "mise", "exec" },
            new[] { "npx" }, new[] { "bunx" }, new[] { "uvx" }, new[] { "pipx", "run" },
        };

        // Programs that pass their input on and exit 0 whatever it holds: a pipeline whose status is non-zero did not fail
        // in one of these when it ends with them (grep is not one: its status says whether anything matched).
        private static readonly HashSet<string> Filters = new HashSet<string>(StringComparer.Ordinal)
        {
            "head", "tail", "sort", "uniq", "wc", "tee", "cut", "tr", "column", "less", "more", "cat", "nl", "fold", "fmt",
            "sed", "awk", "xxd", "od", "base64",
        };

        // Programs that pass what follows to another program after an option or host argument (ssh host "cmd").
        private static readonly HashSet<string> Interpreters = new HashSet<string>(StringComparer.Ordinal) { "python", "python3", "py" };

        /// <summary>The program and subcommand of the step that most likely failed, or null when there is none.</summary>
        public static string? ProgramKey(string? command) => ProgramKey(command, null);

        /// <summary>
        /// The words of the step that most likely failed. The exit status is the last statement's (after ; or a newline);
        /// within an &amp;&amp; chain it is the step the output names, else the first step that does work when there was no
        /// output (a later one would have printed), else (or when the output is unknown) the last. Set-up steps (cd, echo, export) rarely fail.
        /// </summary>
        public static List<string>? FailingStage(string? command, string? output = null)
        {
            if (string.IsNullOrWhiteSpace(command)) return null;
            var statements = Statements(command!);
            for (var s = statements.Count - 1; s >= 0; s--)
            {
                var candidates = new List<List<string>>();
                List<string>? any = null;
                foreach (var step in statements[s])
                {
                    var words = Words(step);
                    var stage = Strip(PipelineStage(words, output));
                    if (stage.Count == 0) continue;
                    // ssh host "remote command": the remote command is what ran.
                    if (stage[0] == "ssh" && SshRemote(words) is { } remote && FailingStage(remote, output) is { } inner) stage = inner;
                    any = stage;
                    if (!SetUp.Contains(stage[0])) candidates.Add(stage);
                }
                if (candidates.Count == 0) { if (any != null) return any; continue; }
                if (candidates.Count == 1) return candidates[0];
                if (output == null) return candidates[candidates.Count - 1]; // output unknown
                if (output.Trim().Length == 0) return candidates[0];
                foreach (var c in candidates)
                {
                    var name = Basename(c[0]);
                    if (output!.IndexOf(name + ":", StringComparison.Ordinal) >= 0) return c;
                }
                return candidates[candidates.Count - 1];
            }
            return null;
        }

        /// <summary>The program and subcommand of the step that most likely failed, given the output it printed.</summary>
        public static string? ProgramKey(string? command, string? output) => FailingStage(command, output) is { } stage ? Key(stage) : null;

        private static List<List<string>> Statements(string command)
        {
            var statements = new List<List<string>>();
            var current = new List<string>();
            foreach (var (text, sequential) in Segments(command))
            {
                if (sequential && current.Count > 0) { statements.Add(current); current = new List<string>(); }
                current.Add(text);
            }
            if (current.Count > 0) statements.Add(current);
            return statements;
        }

        private static string Key(List<string> stage)
        {
            var program = Basename(stage[0]);
            var sb = new StringBuilder(program);
            var i = 1;
            if (Interpreters.Contains(program) && stage.Count > 2 && stage[1] == "-m") { sb.Clear().Append(Basename(stage[2])); i = 3; }
            // Subcommands: up to two plain words ("npm run build", "gh repo fork"); options, paths and files end them.
            for (var n = 0; n < 2 && i < stage.Count; i++)
            {
                var w = stage[i];
                if (w == "--") break;
                if (!IsSubcommand(w)) break;
                sb.Append(' ').Append(w);
                n++;
            }
            return sb.ToString();
        }

        private static bool IsSubcommand(string w)
        {
            if (w.Length == 0 || w.Length > 24 || !(w[0] >= 'a' && w[0] <= 'z')) return false;
            foreach (var ch in w)
                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '_')) return false;
            return true;
        }

        private static string Basename(string w)
        {
            var slash = Math.Max(w.LastIndexOf('/'), w.LastIndexOf('\\'));
            var name = slash >= 0 ? w.Substring(slash + 1) : w;
            if (name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)) name = name.Substring(0, name.Length - 4);
            return name;
        }

        /// <summary>
        /// The words of the pipeline stage that most likely failed: the stage whose name starts a line of the output
        /// ("jq: error ..."), else the last stage that is not a filter (a pipeline's status is its last stage's, and a
        /// filter at the end exits 0, so a failing pipeline ending in one ran with pipefail: its producer failed).
        /// </summary>
        private static List<string> PipelineStage(List<string> words, string? output)
        {
            var stages = new List<List<string>> { new List<string>() };
            foreach (var w in words)
            {
                if (w == "|") stages.Add(new List<string>());
                else stages[stages.Count - 1].Add(w);
            }
            if (stages.Count == 1) return stages[0];
            if (!string.IsNullOrEmpty(output))
                for (var k = stages.Count - 1; k >= 0; k--)
                    if (Strip(stages[k]) is { Count: > 0 } named && StartsALine(output!, Basename(named[0]) + ":")) return stages[k];
            for (var k = stages.Count - 1; k > 0; k--)
                if (Strip(stages[k]) is { Count: > 0 } stage && !Filters.Contains(Basename(stage[0]))) return stages[k];
            return stages[0];
        }

        private static bool StartsALine(string text, string prefix)
        {
            for (var at = text.IndexOf(prefix, StringComparison.Ordinal); at >= 0; at = text.IndexOf(prefix, at + 1, StringComparison.Ordinal))
                if (at == 0 || text[at - 1] == '\n') return true;
            return false;
        }

        /// <summary>Words of one pipeline stage without assignments, redirections, launchers and runners.</summary>
        private static List<string> Strip(List<string> words)
        {
            var list = new List<string>();
            foreach (var w in words)
            {
                if (w == "|") break;
                list.Add(w);
            }
            var i = 0;
            while (i < list.Count)
            {
                var w = list[i];
                if (IsAssignment(w) || IsRedirection(w)) { i++; continue; }
                if (Launchers.Contains(w)) { i++; continue; }
                if (w == "timeout" || w == "gtimeout") { i++; while (i < list.Count && (list[i].StartsWith("-", StringComparison.Ordinal) || IsNumberLike(list[i]))) i++; continue; }
                var runner = MatchRunner(list, i);
                if (runner > 0)
                {
                    i += runner;
                    while (i < list.Count && list[i].StartsWith("-", StringComparison.Ordinal)) i++; // runner options (npx -y, uv run --with x is rare)
                    continue;
                }
                break;
            }
            var result = new List<string>();
            for (; i < list.Count; i++)
                if (!IsRedirection(list[i])) result.Add(list[i]);
            return result;
        }

        private static int MatchRunner(List<string> words, int at)
        {
            foreach (var r in Runners)
            {
                if (at + r.Length > words.Count) continue;
                var ok = true;
                for (var k = 0; k < r.Length && ok; k++) ok = words[at + k] == r[k];
                // "npx" alone runs a package; "uv run python x.py" keeps python as the program.
                if (ok) return r.Length;
            }
            return 0;
        }

        private static bool IsNumberLike(string w)
        {
            foreach (var ch in w) if (!(char.IsDigit(ch) || ch == '.' || ch == 's' || ch == 'm' || ch == 'h')) return false;
            return w.Length > 0;
        }

        private static bool IsAssignment(string w)
        {
            var eq = w.IndexOf('=');
            if (eq <= 0) return false;
            for (var k = 0; k < eq; k++)
            {
                var ch = w[k];
                if (!(char.IsLetterOrDigit(ch) || ch == '_')) return false;
            }
            return char.IsLetter(w[0]) || w[0] == '_';
        }

        private static bool IsRedirection(string w) =>
            w.Length > 0 && (w[0] == '>' || w[0] == '<' || (w.Length > 1 && char.IsDigit(w[0]) && (w[1] == '>' || w[1] == '<')) || w == "&>" || w.StartsWith("&>", StringComparison.Ordinal));

        /// <summary>Splits a command line at ; &amp;&amp; || and newlines (outside quotes); heredoc bodies are dropped.</summary>
        private static IEnumerable<(string Text, bool Sequential)> Segments(string command)
        {
            var sb = new StringBuilder();
            char quote = '\0';
            var heredoc = (string?)null;
            var lines = command.Replace("\r\n", "\n").Split('\n');
            var sequential = true; // whether the next segment starts a new statement (after ; or a newline) or continues a chain
            foreach (var line in lines)
            {
                if (heredoc != null)
                {
                    if (line.Trim() == heredoc) heredoc = null;
                    continue;
                }
                for (var i = 0; i < line.Length; i++)
                {
                    var ch = line[i];
                    if (quote != '\0')
                    {
                        if (ch == '\\' && quote == '"' && i + 1 < line.Length) { sb.Append(ch).Append(line[++i]); continue; }
                        if (ch == quote) quote = '\0';
                        sb.Append(ch);
                        continue;
                    }
                    if (ch == '\'' || ch == '"') { quote = ch; sb.Append(ch); continue; }
                    if (ch == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) break; // a comment
                    if (ch == ';' || (ch == '&' && i + 1 < line.Length && line[i + 1] == '&') || (ch == '|' && i + 1 < line.Length && line[i + 1] == '|'))
                    {
                        if (ch != ';') i++;
                        yield return (sb.ToString(), sequential);
                        sequential = ch == ';';
                        sb.Clear();
                        continue;
                    }
                    if (ch == '<' && i + 1 < line.Length && line[i + 1] == '<')
                    {
                        var rest = line.Substring(i + 2).TrimStart('-', ' ');
                        var word = rest.Split(' ')[0].Trim('\'', '"');
                        if (word.Length > 0) heredoc = word;
                        i = line.Length; // the rest of the line is the heredoc's start
                        continue;
                    }
                    sb.Append(ch);
                }
                if (quote == '\0')
                {
                    // A line ending in \ continues the statement.
                    var text = sb.ToString();
                    if (text.TrimEnd().EndsWith("\\", StringComparison.Ordinal)) { sb.Length = sb.ToString().TrimEnd().Length - 1; sb.Append(' '); continue; }
                    yield return (text, sequential);
                    sequential = true;
                    sb.Clear();
                }
                else sb.Append('\n');
            }
            if (sb.Length > 0) yield return (sb.ToString(), sequential);
        }

        /// <summary>Shell words with quotes removed; a pipe is its own word.</summary>
        private static List<string> Words(string segment)
        {
            var words = new List<string>();
            var sb = new StringBuilder();
            char quote = '\0';
            var inWord = false;
            for (var i = 0; i < segment.Length; i++)
            {
                var ch = segment[i];
                if (quote != '\0')
                {
                    if (ch == quote) { quote = '\0'; continue; }
                    if (ch == '\\' && quote == '"' && i + 1 < segment.Length) { sb.Append(segment[++i]); continue; }
                    sb.Append(ch);
                    continue;
                }
                if (ch == '\'' || ch == '"') { quote = ch; inWord = true; continue; }
                if (ch == '\\' && i + 1 < segment.Length) { sb.Append(segment[++i]); inWord = true; continue; }
                // A lone & (background) separates; inside 2>&1 it belongs to the redirection.
                var loneAmpersand = ch == '&' && (i == 0 || segment[i - 1] != '>') && (i + 1 >= segment.Length || segment[i + 1] != '>');
                if (char.IsWhiteSpace(ch) || ch == '|' || loneAmpersand || ch == '(' || ch == ')')
                {
                    if (inWord) { words.Add(sb.ToString()); sb.Clear(); inWord = false; }
                    if (ch == '|') words.Add("|");
                    continue;
                }
                sb.Append(ch);
                inWord = true;
            }
            if (inWord) words.Add(sb.ToString());
            return words;
        }

        /// <summary>The remote command of "ssh [options] host command...", if any.</summary>
        private static string? SshRemote(List<string> words)
        {
            var i = words.IndexOf("ssh");
            if (i < 0) return null;
            i++;
            while (i < words.Count && words[i].StartsWith("-", StringComparison.Ordinal))
            {
                // Options that take a value.
                if (words[i].Length == 2 && "bcDEeFIiJLlmOopQRSWw".IndexOf(words[i][1]) >= 0) i++;
                i++;
            }
            i++; // the host
            if (i >= words.Count) return null;
            var rest = new List<string>();
            for (; i < words.Count && words[i] != "|"; i++) rest.Add(words[i]);
            return rest.Count == 0 ? null : string.Join(" ", rest);
        }
    }
}
