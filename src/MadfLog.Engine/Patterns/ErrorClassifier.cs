using System;
using System.Linq;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// Error classes users recognise, on top of templates. Rule-based and explainable: the first rule whose phrase
    /// occurs in the message (case-insensitive) wins; rules are ordered from specific to general.
    ///
    /// | Class | Phrases |
    /// |---|---|
    /// | FileNotRead | has not been read, read it first, must read |
    /// | ContentNotFound | string to replace not found, old_string, not found in file, no match found |
    /// | UserRejection | doesn't want to proceed, user rejected, rejected by user, interrupted by user |
    /// | RateLimit | rate limit, too many requests, 429, overloaded, quota exceeded |
    /// | Timeout | timed out, timeout, deadline exceeded |
    /// | Permission | permission denied, eacces, access is denied, operation not permitted, forbidden, unauthorized |
    /// | DependencyMissing | no module named, modulenotfounderror, cannot find module, command not found, not installed, importerror, could not resolve, npm err! 404, package not found |
    /// | Syntax | syntaxerror, syntax error, invalid syntax, unexpected token, parse error, compilation error, error cs |
    /// | TestFailure | tests failed, test failed, failed, assertionerror, assertion failed, pytest, jest, failing |
    /// | FileNotFound | does not exist, no such file, file not found, cannot find the path, enoent, not a git repository |
    /// | Other | anything else |
    /// </summary>
    public static class ErrorClassifier
    {
        public const string Other = "Other";

        private static readonly (string Class, string[] Phrases)[] Rules =
        {
            ("FileNotRead", new[] { "has not been read", "read it first", "must read" }),
            ("ContentNotFound", new[] { "string to replace not found", "old_string", "not found in file", "no match found" }),
            ("UserRejection", new[] { "doesn't want to proceed", "doesn’t want to proceed", "user rejected", "rejected by user", "interrupted by user" }),
            ("RateLimit", new[] { "rate limit", "too many requests", " 429", "overloaded", "quota exceeded" }),
            ("Timeout", new[] { "timed out", "timeout", "deadline exceeded" }),
            ("Permission", new[] { "permission denied", "eacces", "access is denied", "operation not permitted", "forbidden", "unauthorized" }),
            ("DependencyMissing", new[] { "no module named", "modulenotfounderror", "cannot find module", "command not found", "not installed", "importerror", "could not resolve", "npm err! 404", "package not found" }),
            ("Syntax", new[] { "syntaxerror", "syntax error", "invalid syntax", "unexpected token", "parse error", "compilation error", "error cs" }),
            ("TestFailure", new[] { "tests failed", "test failed", "assertionerror", "assertion failed", "pytest", "jest", "failing", " failed," }),
            ("FileNotFound", new[] { "does not exist", "no such file", "file not found", "cannot find the path", "enoent", "not a git repository" }),
        };

        public static string Classify(string? message)
        {
            if (string.IsNullOrWhiteSpace(message)) return Other;
            var text = message!.ToLowerInvariant();
            foreach (var (cls, phrases) in Rules)
                if (phrases.Any(p => text.IndexOf(p, StringComparison.Ordinal) >= 0)) return cls;
            return Other;
        }
    }
}
