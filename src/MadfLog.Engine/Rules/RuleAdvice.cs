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
            (new[] { "notread", "readfirst", "readbefore" }, "Read a file before editing it."),
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
