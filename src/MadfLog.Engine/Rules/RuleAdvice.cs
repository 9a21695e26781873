using System;
using System.Linq;

namespace MadfLog.Engine.Rules
{
    /// <summary>
    /// The instruction a rule gives, chosen from the pattern's error class. Classes are matched loosely
    /// (case, spaces and punctuation ignored) so "FileNotFound", "file not found" and "file-not-found" agree.
    /// </summary>
    public static class RuleAdvice
    {
        private static readonly (string[] Keys, string Advice)[] Table =
        {
            (new[] { "outofmemory" }, "Run memory-heavy commands in smaller parts (fewer workers, smaller batches) or raise the limit they hit (NODE_OPTIONS=--max-old-space-size, -Xmx) before running them again."),
            (new[] { "diskfull" }, "Check free space (df -h) before building or installing, and free it (docker system prune, old build outputs and caches) instead of retrying."),
            (new[] { "resourcelimit" }, "Open or watch fewer files (leave node_modules and build outputs out of watchers) or raise the limit (ulimit -n, fs.inotify.max_user_watches)."),
            (new[] { "managedenvironment" }, "Install packages into the project's own environment (python -m venv .venv, uv, pipx), not the system's."),
            // Before the "dependency" row: versions that conflict are pinned, not installed.
            (new[] { "dependencyconflict" }, "Check which versions a dependency requires (npm ls, pip check, cargo tree) and pin compatible ones instead of forcing the install."),
            (new[] { "authentication" }, "Check that this service's credentials are set up (gh auth status, aws configure, the key or token it reads) before calling it, and ask the user for access instead of retrying."),
            (new[] { "notexecutable" }, "Make a script executable (chmod +x) before running it, or run it through its interpreter (bash script.sh, python script.py)."),
            // Before the "notfound" rows: a package the registry does not have is a wrong name or version, not a missing file.
            (new[] { "packagenotfound", "notinregistry" }, "Check a package's exact name and version in its registry (npm view, pip index versions) before installing it."),
            (new[] { "shellsyntax" }, "Quote or escape shell metacharacters ( ) | & ; * in commands and package scripts, and try the command in sh before relying on it."),
            (new[] { "filechanged", "modifiedsinceread" }, "Re-read a file right before editing it: formatters, linters or the user change it in between."),
            (new[] { "filetoolarge", "toolarge" }, "Read large files in parts (offset and limit) or search them with Grep instead of reading them whole."),
            (new[] { "readdirectory", "isadirectory" }, "List folders with ls or Glob; Read takes files only."),
            (new[] { "lintfailure", "lint", "format" }, "Run the linter's fixer and formatter after each edit and clear its findings before going on."),
            (new[] { "typecheck" }, "Run the type checker after each change and fix its errors before going on."),
            (new[] { "buildfailure", "build" }, "Build after each change and fix the first error the build reports before going on."),
            (new[] { "lockheld" }, "Run one install, build or git command at a time on a checkout: when a lock is held, wait for the process that holds it or stop it (ps, lsof), and delete a lock file only when no process holds it."),
            (new[] { "portinuse", "addressinuse" }, "Check whether the port is already taken (lsof -i :PORT, docker ps) before starting a server: reuse the copy that runs, stop it, or choose another port."),
            (new[] { "network", "unreachable" }, "Check that the host or service is up and the address right before calling it; do not retry blindly."),
            (new[] { "probenomatch", "probe" }, "Expect ls, grep, find and cat to exit non-zero when nothing matches: test for existence explicitly or add || true."),
            (new[] { "unquotedglob", "glob" }, "Quote paths and patterns that contain *, ?, [ ] or ( ) in shell commands."),
            (new[] { "gitstate" }, "Run git status and git branch -a before git commands that switch branches, merge or push: check that the branch exists, and commit or stash local changes first."),
            (new[] { "hookblocked", "hook" }, "Do not work around the hook: it blocked this command on purpose; choose one it allows or ask."),
            (new[] { "permissionnotgranted", "notgranted" }, "Ask for the permission first, or stay within what the session may do."),
            (new[] { "inputvalidation", "validation" }, "Check the tool's required parameters and their form before calling it."),
            (new[] { "toolunavailable" }, "Check that the tool or MCP server is available before calling it."),
            (new[] { "interactiveinput", "interactive" }, "Run commands non-interactively (pass --yes, a token or the input) or ask the user to run them."),
            (new[] { "tasknotfound" }, "List the project's scripts or targets (npm run, the Makefile, just --list, gradle tasks) before running one, and run one it defines."),
            (new[] { "commandnotfound" }, "Check that a command is installed (command -v) before using it, or use the project's own runner."),
            (new[] { "notread", "readfirst", "readbefore" }, "Read a file before editing it."),
            (new[] { "contentnotunique", "notunique", "ambiguous" }, "Give an edit enough of the surrounding lines to match one place only, or set replace_all when every occurrence should change."),
            (new[] { "contentnotfound", "stringnotfound", "nomatch" }, "Re-read the file and copy the exact current text before replacing it."),
            (new[] { "filenotfound", "notfound", "nosuchfile", "missingfile", "pathnotfound" }, "Check that the path exists (Glob or ls) before reading or editing it."),
            (new[] { "permission", "accessdenied", "forbidden" }, "Stay inside the project folder and check permissions before writing; do not touch protected paths."),
            (new[] { "timeout", "timedout" }, "Run long commands with an explicit timeout and in smaller steps; prefer targeted tests."),
            (new[] { "syntax", "parse", "compile" }, "Check syntax (build or lint) right after each edit, before running anything else."),
            (new[] { "test" }, "Run the relevant tests after each change and fix failures before moving on."),
            (new[] { "dependency", "module", "import", "package", "commandnotfound" }, "Check that a tool or dependency is installed and declared before using it."),
            (new[] { "reject", "denied", "interrupt" }, "Ask before risky or large actions and explain the plan first."),
            (new[] { "ratelimit", "throttl", "quota", "overload" }, "Batch requests and back off on rate limits instead of retrying at once."),
        };

        public const string Generic = "Check the preconditions of this step before running it; this error keeps recurring.";

        public static string For(string? errorClass)
        {
            var key = new string((errorClass ?? "").Where(char.IsLetter).Select(char.ToLowerInvariant).ToArray());
            if (key.Length == 0 || key == "other") return Generic;
            foreach (var (keys, advice) in Table)
                if (keys.Any(k => key.IndexOf(k, StringComparison.Ordinal) >= 0)) return advice;
            return Generic;
        }
    }
}
