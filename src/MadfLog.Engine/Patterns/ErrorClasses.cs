using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// The kinds of error agents hit, each with the phrases common tools, shells and agent harnesses use for it.
    /// Explainable: the first class whose phrase occurs (case-insensitive) wins; classes are checked from specific to
    /// general. Harness classes are read from a tool layer's message; environment classes from a failed command's
    /// decisive lines; run classes from the program that ran (a test runner, a linter, a compiler).
    /// </summary>
    public static class ErrorClasses
    {
        public const string Other = "Other";
        public const string UserRejection = "UserRejection";
        public const string HookBlocked = "HookBlocked";
        public const string PermissionNotGranted = "PermissionNotGranted";
        public const string InputValidation = "InputValidation";
        public const string FileNotRead = "FileNotRead";
        public const string FileChanged = "FileChanged";
        public const string ContentNotFound = "ContentNotFound";
        public const string ContentNotUnique = "ContentNotUnique";
        public const string FileTooLarge = "FileTooLarge";
        public const string ReadDirectory = "ReadDirectory";
        public const string FileNotFound = "FileNotFound";
        public const string PathNotFound = "PathNotFound";
        public const string ToolUnavailable = "ToolUnavailable";
        public const string Timeout = "Timeout";
        public const string RateLimit = "RateLimit";
        public const string Network = "Network";
        public const string PortInUse = "PortInUse";
        public const string LockHeld = "LockHeld";
        public const string OutOfMemory = "OutOfMemory";
        public const string DiskFull = "DiskFull";
        public const string ResourceLimit = "ResourceLimit";
        public const string ManagedEnvironment = "ManagedEnvironment";
        public const string DependencyConflict = "DependencyConflict";
        public const string Authentication = "Authentication";
        public const string CommandNotFound = "CommandNotFound";
        public const string TaskNotFound = "TaskNotFound";
        public const string DependencyMissing = "DependencyMissing";
        public const string GitState = "GitState";
        public const string Permission = "Permission";
        public const string NotExecutable = "NotExecutable";
        public const string PackageNotFound = "PackageNotFound";
        public const string Syntax = "Syntax";
        public const string TestFailure = "TestFailure";
        public const string LintFailure = "LintFailure";
        public const string TypeCheckFailure = "TypeCheckFailure";
        public const string BuildFailure = "BuildFailure";
        public const string ProbeNoMatch = "ProbeNoMatch";
        public const string InteractiveInput = "InteractiveInput";
        public const string UnquotedGlob = "UnquotedGlob";
        public const string ShellSyntax = "ShellSyntax";

        private static readonly Dictionary<string, string> Descriptions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [UserRejection] = "call rejected or interrupted by the user",
            [Timeout] = "command timed out",
            [Network] = "network host unreachable",
            [PortInUse] = "port already in use",
            [LockHeld] = "lock held by another process",
            [OutOfMemory] = "out of memory",
            [DiskFull] = "disk full",
            [ResourceLimit] = "open files or watchers over the limit",
            [ManagedEnvironment] = "install refused by a managed environment",
            [DependencyConflict] = "dependency versions conflict",
            [Authentication] = "credentials refused or missing",
            [CommandNotFound] = "command not found",
            [TaskNotFound] = "project task not found",
            [DependencyMissing] = "missing dependency",
            [PathNotFound] = "path not found",
            [Permission] = "permission denied",
            [NotExecutable] = "script not executable",
            [PackageNotFound] = "package not in registry",
            [RateLimit] = "rate or credit limit hit",
            [ProbeNoMatch] = "probe found nothing",
            [InteractiveInput] = "command waited for interactive input",
            [TestFailure] = "tests failed",
            [LintFailure] = "lint or format check failed",
            [TypeCheckFailure] = "type check failed",
            [BuildFailure] = "build failed",
            [Syntax] = "syntax error",
            [GitState] = "git state",
            [UnquotedGlob] = "unquoted glob matched nothing",
            [ShellSyntax] = "shell syntax error",
        };

        public static string Describe(string cls) => Descriptions.TryGetValue(cls, out var d) ? d : cls;

        /// <summary>Classes whose signature is the class itself (the wording of the message varies, the mistake does not).</summary>
        public static bool ByClass(string cls) => cls == UserRejection || cls == Timeout;

        // Messages of an agent's tool layer (Claude Code and its kind), independent of any program's output.
        private static readonly PhraseTable Harness = new PhraseTable(new[]
        {
            (UserRejection, new[] { "doesn't want to proceed", "doesn’t want to proceed", "user rejected", "rejected by user", "interrupted by user", "request interrupted", "user denied", "user declined" }),
            (HookBlocked, new[] { "hook error", "blocked by hook", "hook blocked", "pretooluse", "posttooluse", "hook returned blocking" }),
            (PermissionNotGranted, new[] { "requested permissions", "haven't granted", "haven’t granted", "requires approval", "permission to use", "was blocked. for security", "not allowed to" }),
            (InputValidation, new[] { "inputvalidationerror", "invalid tool parameters", "required parameter", "invalid input" }),
            (FileNotRead, new[] { "has not been read yet", "read it first", "must read the file", "must use your `read` tool" }),
            (FileChanged, new[] { "modified since read", "has been modified since", "changed since it was read", "unexpectedly modified" }),
            // An edit's text found in several places is the opposite mistake to one found nowhere: it needs more context, not a re-read.
            (ContentNotUnique, new[] { "matches of the string to replace", "replace_all is false", "is not unique in the file", "multiple matches of the string" }),
            (ContentNotFound, new[] { "string to replace not found", "old_string", "no changes to make", "not found in file" }),
            (FileTooLarge, new[] { "exceeds maximum allowed", "file content (", "too large to read", "file is too large", "use offset and limit" }),
            (ReadDirectory, new[] { "eisdir", "illegal operation on a directory", "is a directory" }),
            (ToolUnavailable, new[] { "no such tool available", "tool not found", "unknown tool", "mcp server", "not connected", "tool is not available" }),
            (Timeout, new[] { "command timed out", "tool timed out", "timed out after" }),
            (FileNotFound, new[] { "file does not exist", "path does not exist", "directory does not exist", "no such file or directory", "enoent" }),
        });

        /// <summary>Harness classes a shell tool's result can carry (the others are also what programs print).</summary>
        public static bool ShellHarness(string cls) =>
            cls == UserRejection || cls == HookBlocked || cls == PermissionNotGranted || cls == InputValidation || cls == ToolUnavailable || cls == Timeout;

        /// <summary>The class of a harness message, or null when the text is not one (it is program output).</summary>
        public static string? OfHarness(string text) => Harness.First(Head(text, 400));

        // Problems of the environment a command met: the same mistake whichever program met it.
        private static readonly PhraseTable Environment = new PhraseTable(new[]
        {
            // The machine's limits, whichever program hit them: memory (each runtime's words), disk, open files and watchers
            // (before the disk: a watcher limit is also ENOSPC; npm's "code ENOSPC" line comes before the one that says why).
            (OutOfMemory, new[] { "out of memory", "outofmemory", "memoryerror", "cannot allocate memory", "oomkilled", "allocation failed - javascript heap" }),
            (ResourceLimit, new[] { "file watchers reached", "too many open files", "emfile", "enfile", "max_user_watches" }),
            (DiskFull, new[] { "no space left on device", "disk quota exceeded", "not enough space on the disk", "code enospc" }),
            (CommandNotFound, new[] { "command not found", "is not recognized as an internal or external command", "is not recognized as the name of a cmdlet", "executable file not found", "no such command" }),
            // A script, target, recipe or task the project does not define (npm's and pnpm's missing script, make's target,
            // just's recipe, Gradle's and Rake's task): which tasks the project has, not a tool to install or tests to fix.
            (TaskNotFound, new[] { "missing script", "err_pnpm_no_script", "no rule to make target", "does not contain recipe", "not found in root project", "not found in project", "don't know how to build task" }),
            (UnquotedGlob, new[] { "no matches found" }),
            // PEP 668: the system's Python refuses installs outside a virtual environment (Debian, Ubuntu, Homebrew).
            (ManagedEnvironment, new[] { "externally-managed-environment", "externally managed" }),
            // The registry has no such package or version: a wrong name or version to install, not a missing install.
            (PackageNotFound, new[] { "code e404", "404 not found - get", "is not in this registry", "is not in the npm registry", "no matching version found for", "code etarget", "no matching distribution found", "could not find a version that satisfies the requirement", "unable to locate package", "no matching package to install", "no matching package named", "could not be found in registry" }),
            // Versions that cannot all be installed together (npm's ERESOLVE, pip's ResolutionImpossible, Poetry, Cargo,
            // Bundler): which versions to pin, not a missing install.
            (DependencyConflict, new[] { "eresolve", "unable to resolve dependency tree", "conflicting peer dependency", "resolutionimpossible", "conflicting dependencies", "version solving failed", "failed to select a version for", "could not find compatible versions", "could not be resolved to an installable set", "no solution found when resolving dependencies", "requirements are unsatisfiable" }),
            (DependencyMissing, new[] { "no module named", "modulenotfounderror", "cannot find module", "cannot find dependency", "err_module_not_found", "module not found", "could not resolve dependency", "cannot find package", "package not found", "is not installed", "missing dependency", "unable to resolve dependency", "missing required dependency" }),
            // A server that cannot listen because something holds its port (the OS's EADDRINUSE in each runtime's words,
            // Docker's "port is already allocated", Windows' WSAEADDRINUSE): an earlier copy still runs, not a network fault.
            (PortInUse, new[] { "address already in use", "eaddrinuse", "port is already allocated", "only one usage of each socket address" }),
            // A lock another process holds, or a crashed one left: git's index.lock, apt's and dpkg's, Terraform's state
            // lock, SQLite's busy database, a file Windows or Node finds busy. Two installs, builds or git commands on one
            // checkout at once, not a build to fix or a permission to ask for.
            (LockHeld, new[] { "another git process seems to be running", ".lock': file exists", "could not get lock", "unable to acquire the dpkg frontend lock", "is another process using it", "error acquiring the state lock", "database is locked", "resource busy or locked", "ebusy", "being used by another process", "the file is locked by", "text file busy", "holding the yum lock", "timeout waiting to lock", "already locked" }),
            (Network, new[] { "could not resolve host", "connection refused", "failed to connect", "network is unreachable", "connection reset", "connection timed out", "name or service not known", "getaddrinfo", "econnrefused", "enotfound", "etimedout", "econnreset", "temporary failure in name resolution", "temporary failure resolving", "no route to host", "could not connect", "host is down", "ssl_error", "can't reach", "cannot reach", "unable to reach", "dial tcp", "is the server running", "did you specify the right host or port", "cannot connect" }),
            (RateLimit, new[] { "rate limit", "too many requests", "quota exceeded", "credits limit", "insufficient credits", "overloaded" }),
            (GitState, new[] { "no upstream branch", "set-upstream", "local changes to the following files would be overwritten", "paths are ignored by one of your .gitignore", "not a git repository", "nothing to commit", "non-fast-forward", "divergent branches", "merge conflict", "unmerged files", "detached head", "failed to push some refs", "did not match any file(s) known to git", "src refspec", "couldn't find remote ref", "not a valid object name", "unknown revision" }),
            // A service that refused the credentials or found none (ssh's "Permission denied (publickey)" too, so before
            // Permission): who may call it, not which files the agent may write.
            (Authentication, new[] { "authentication failed", "unauthorized", "publickey", " 403", "forbidden", "denied to ", "unable to locate credentials", "bad credentials", "invalid credentials", "invalid api key", "could not read username", "not logged in", "authentication required", "requires authentication", "login required", "token has expired", "expired token" }),
            (Permission, new[] { "permission denied", "eacces", "access is denied", "operation not permitted" }),
            (InteractiveInput, new[] { "eof when reading a line", "not a tty", "inappropriate ioctl for device", "stdin is not a terminal", "--yes", "non-interactive", "interactive mode", "a terminal is required", "a password is required", "no tty present" }),
            (Timeout, new[] { "timed out", "deadline exceeded" }),
            (PathNotFound, new[] { "no such file or directory", "cannot access", "file does not exist", "directory does not exist", "path does not exist", "cannot find the path", "enoent" }),
            (ShellSyntax, new[] { "syntax error near unexpected token", "unexpected eof while looking for matching", "unterminated quoted string", "bad substitution" }),
        });

        private const int NotExecutableExit = 126;
        // 128 + SIGKILL: with nothing said, the kernel's out-of-memory killer is who sends it to a command (the harness says
        // "timed out" for its own kills).
        private const int KilledExit = 137;

        // curl's documented exit codes for unreachable hosts: 6 resolve, 7 connect, 28 timeout, 35 TLS, 52 empty reply, 56 receive.
        // Exit codes that say what failed, by program: curl's (6 host not resolved, 7 no connection, 28 timeout, 35 TLS
        // handshake, 52 empty reply, 56 receive failure; 67 login refused) and wget's (4 network failure, 5 TLS
        // verification; 6 credentials refused). The same number means different things to each.
        private static readonly Dictionary<string, Dictionary<int, string>> ExitMeanings = new Dictionary<string, Dictionary<int, string>>(StringComparer.Ordinal)
        {
            ["curl"] = new Dictionary<int, string> { [6] = Network, [7] = Network, [28] = Network, [35] = Network, [52] = Network, [56] = Network, [67] = Authentication },
            ["wget"] = new Dictionary<int, string> { [4] = Network, [5] = Network, [6] = Authentication },
        };

        // Programs whose only job is to reach a host: when they fail without saying why, the host was not reachable.
        private static readonly HashSet<string> NetworkProbes = new HashSet<string>(StringComparer.Ordinal) { "ping", "nc", "telnet", "dig", "nslookup", "host", "traceroute" };

        /// <summary>
        /// The environment problem a failed command shows, with the line that shows it: an exit code that names one (126,
        /// a killed process, curl's and wget's codes), else the first decisive line showing one.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static (string? Class, string? Line) OfEnvironment(IList<string> decisive, int? exitCode, string? program)
        {
            // POSIX shells exit 126 when the command was found but could not be executed (no execute bit, a folder):
            // its "Permission denied" is about running the file, not about where the agent writes.
            if (exitCode == NotExecutableExit) return (NotExecutable, decisive.Count > 0 ? decisive[0] : null);
            if (exitCode == KilledExit && decisive.Count == 0) return (OutOfMemory, null);
            // curl's and wget's exit codes name what failed exactly; the output may be an earlier step's
            // ("docker logs app; curl -s localhost:3030": the app's log lines are not what failed).
            if (program != null && exitCode.HasValue && ExitMeanings.TryGetValue(program, out var meanings) && meanings.TryGetValue(exitCode.Value, out var meant)) return (meant, null);
            foreach (var line in decisive)
                if (OfLine(line) is { } cls)
                    // A socket that does not exist is a service not listening on it (libpq's "connection to server on
                    // socket ... failed: No such file or directory"), not a path the agent got wrong.
                    return (cls == PathNotFound && line.IndexOf("socket", StringComparison.OrdinalIgnoreCase) >= 0 ? Network : cls, line);
            if (program != null && exitCode.HasValue && decisive.Count == 0 && NetworkProbes.Contains(program.Split(' ')[0])) return (Network, null);
            return (null, null);
        }

        // What kind of check a program is, by words of its name or script ("npm run typecheck", "uv run ruff check").
        private static readonly (string Class, string[] Words)[] RunKinds =
        {
            (TypeCheckFailure, new[] { "mypy", "pyright", "tsc", "typecheck", "type-check", "types", "dialyzer", "check-types", "pytype", "flow", "sorbet", "vue-tsc" }),
            (LintFailure, new[] { "ruff", "eslint", "flake8", "pylint", "black", "isort", "prettier", "lint", "format", "fmt", "rubocop", "credo", "clippy", "golangci-lint", "stylelint", "biome", "shellcheck", "markdownlint", "pre-commit", "ktlint", "swiftlint", "standard", "hadolint", "oxlint", "dprint" }),
            (TestFailure, new[] { "test", "tests", "pytest", "jest", "vitest", "mocha", "rspec", "phpunit", "playwright", "cypress", "ava", "tap", "karma", "nextest", "unittest", "nose2", "spec", "e2e", "coverage", "test:unit", "test:e2e", "test:coverage" }),
            (BuildFailure, new[] { "build", "compile", "make", "cmake", "gradle", "mvn", "msbuild", "webpack", "vite", "tsup", "rollup", "esbuild", "bundle", "assemble", "install" }),
        };

        /// <summary>The kind of run that failed (test, lint, type check, build), from the program that ran.</summary>
        public static string? OfRun(string? program)
        {
            if (program == null) return null;
            var words = program.Split(new[] { ' ', ':', '/' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var (cls, names) in RunKinds)
                if (words.Any(w => names.Contains(w, StringComparer.OrdinalIgnoreCase))) return cls;
            return null;
        }

        // Programs that only look: their non-zero exit with no error output means "nothing matched".
        private static readonly HashSet<string> Probes = new HashSet<string>(StringComparer.Ordinal)
        {
            "ls", "cat", "grep", "egrep", "rg", "ag", "find", "fd", "test", "[", "[[", "which", "where", "type", "stat", "head", "tail",
            "wc", "pgrep", "pkill", "diff", "cmp", "file", "readlink", "realpath", "lsof", "ps", "git grep", "git diff", "docker ps",
        };

        public static bool IsProbe(string? program) =>
            program != null && (Probes.Contains(program) || Probes.Contains(program.Split(' ')[0]));

        // Classes a single line of text shows, whatever produced it.
        private static readonly PhraseTable Text = new PhraseTable(new[]
        {
            (Syntax, new[] { "syntaxerror", "syntax error", "invalid syntax", "unexpected token", "parse error", "indentationerror" }),
            (TestFailure, new[] { "tests failed", "test failed", "assertionerror", "assertion failed", "failing" }),
            (BuildFailure, new[] { "build failed", "compilation failed", "compilation error", "error cs", "error ts" }),
        });

        // "Port 8080 was already in use" (Spring Boot), "Port 5173 is already in use" (Vite): "already in use" alone is
        // also an e-mail address or a container name already taken, so it counts only after a port number.
        private static readonly System.Text.RegularExpressions.Regex PortTaken = new System.Text.RegularExpressions.Regex(
            @"\bport\s*:?\s*\d{1,5}\s+(?:is|was)\s+already\s+in\s+use", System.Text.RegularExpressions.RegexOptions.Compiled | System.Text.RegularExpressions.RegexOptions.IgnoreCase);

        /// <summary>The environment class one line of output shows, or null.</summary>
        [MethodImpl(Hot.Path)]
        public static string? OfLine(string line) => Environment.First(line) ?? (PortTaken.IsMatch(line) ? PortInUse : null);

        /// <summary>The class any text shows (harness, environment or generic phrases), or null.</summary>
        public static string? OfText(string text) =>
            Harness.First(Head(text, 400)) ?? OfLine(text) ?? Text.First(text);

        private static string Head(string s, int n) => s.Length <= n ? s : s.Substring(0, n);
    }

    /// <summary>
    /// Rules of phrases, in order: <see cref="First"/> is the class of the first rule any of whose phrases occurs in a text,
    /// compared ordinal and case-insensitive. The text is read once: its phrases are found by the two characters they
    /// start with, so a position is compared only with the few phrases that start as it does. (A regular expression of
    /// all the phrases, ignoring case, tried nearly every position against the alternation, and then each phrase was
    /// searched for again, rule by rule: 3 % of an import's CPU, on each failed command's lines.)
    /// </summary>
    internal sealed class PhraseTable
    {
        private readonly string[] _classes;
        // Each phrase with the number of its rule; by the first two characters, upper-cased, when both are ASCII.
        private readonly (string Phrase, int Rule)[]?[] _byStart = new (string, int)[]?[128 * 128];
        // Phrases that start otherwise, compared at every position (none in the tables today).
        private readonly (string Phrase, int Rule)[] _anyStart;

        public PhraseTable((string Class, string[] Phrases)[] rules)
        {
            _classes = rules.Select(r => r.Class).ToArray();
            var byStart = new Dictionary<int, List<(string, int)>>();
            var anyStart = new List<(string, int)>();
            foreach (var (p, rule) in rules.SelectMany((r, i) => r.Phrases.Select(p => (p, i))))
            {
                if (p.Length < 2 || p[0] >= 128 || p[1] >= 128) { anyStart.Add((p, rule)); continue; }
                var key = Start(p[0], p[1]);
                if (!byStart.TryGetValue(key, out var list)) byStart[key] = list = new List<(string, int)>();
                list.Add((p, rule));
            }
            foreach (var kv in byStart) _byStart[kv.Key] = kv.Value.ToArray();
            _anyStart = anyStart.ToArray();
        }

        private static int Start(char a, char b) => (Upper(a) << 7) | Upper(b);

        // A character upper-cased, as ordinal case-insensitive comparison sees it, when that is ASCII (a letter outside
        // ASCII may be one: the dotless i is I); else -1, where no phrase starting in ASCII can match.
        [MethodImpl(Hot.Small)]
        private static int Upper(char c)
        {
            if (c < 128) return c >= 'a' && c <= 'z' ? c - 32 : c;
            var u = char.ToUpperInvariant(c);
            return u < 128 ? u : -1;
        }

        [MethodImpl(Hot.Path)]
        public string? First(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            var best = int.MaxValue;
            for (var i = 0; i < text.Length && best > 0; i++)
            {
                var a = Upper(text[i]);
                var b = i + 1 < text.Length ? Upper(text[i + 1]) : 0;
                var candidates = a >= 0 && b >= 0 ? _byStart[(a << 7) | b] : null;
                if (candidates != null) best = FirstAt(text, i, candidates, best);
                if (_anyStart.Length > 0) best = FirstAt(text, i, _anyStart, best);
            }
            return best == int.MaxValue ? null : _classes[best];
        }

        // The first rule (below `best`) of the phrases that occur at position i.
        [MethodImpl(Hot.Path)]
        private static int FirstAt(string text, int i, (string Phrase, int Rule)[] candidates, int best)
        {
            foreach (var (p, rule) in candidates)
                if (rule < best && i + p.Length <= text.Length && string.Compare(text, i, p, 0, p.Length, StringComparison.OrdinalIgnoreCase) == 0)
                    best = rule;
            return best;
        }
    }
}
