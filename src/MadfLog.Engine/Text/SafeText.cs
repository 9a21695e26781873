using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Log text is untrusted: secrets are redacted wherever a message is stored or shown, and text that goes
    /// into CLAUDE.md is made inert (no markdown/HTML control, capped, quoted as a code span).
    /// </summary>
    public static class SafeText
    {
        public const string Redacted = "[REDACTED]";

        // Cheap pre-check so the regexes only run on text that could hold a secret (import is a hot path).
        // (Bare "token" is not a hint: every usage record has "input_tokens"; secrets named token are caught by "token=" etc.)
        internal static readonly string[] Hints =
        {
            "sk-", "sk_", "pk_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "xox", "AKIA", "ASIA", "AIza", "eyJ", "Bearer", "bearer", "BEARER",
            "assword", "ASSWORD", "passwd", "pwd=", "PWD=", "secret", "Secret", "SECRET", "token=", "token:", "token\":", "token\" :", "_token\"", "Token=", "Token:", "Token\"",
            "TOKEN=", "TOKEN:", "TOKEN\"", "api_key", "api-key", "apikey", "ApiKey", "API_KEY", "APIKEY", "://", "AccountKey", "accountkey", "SharedAccessKey", "PRIVATE KEY",
            "glpat-", "hf_", "npm_",
        };

        private static readonly Regex[] Patterns =
        {
            // Provider-shaped keys and tokens.
            new Regex(@"\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_]|ant[-_])?[A-Za-z0-9_\-]{16,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"\bxox[abposr]-[A-Za-z0-9-]{10,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            // GitLab personal access tokens, Hugging Face and npm access tokens.
            new Regex(@"\bglpat-[A-Za-z0-9_\-]{20,}|\bhf_[A-Za-z0-9]{30,}|\bnpm_[A-Za-z0-9]{36,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"\bAIza[0-9A-Za-z_\-]{30,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            new Regex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            // Authorization headers.
            new Regex(@"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{12,}=*", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            // Credentials in URLs: scheme://user:password@host.
            new Regex(@"(?<=://[^\s:/@]{1,64}:)[^\s@/]{1,128}(?=@)", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            // key=value / key: value / "key":"value" for secret-looking keys, incl. connection strings (Password=...;).
            new Regex(@"(?i)(?<=\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|accountkey|sharedaccesskey)[""']?\s*[:=]\s*[""']?)[^\s""';,&]{4,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
            // Environment-variable and config forms, where the secret word is part of a longer name: DB_PASSWORD=...,
            // POSTGRES_PASSWORD: ..., AWS_SECRET_ACCESS_KEY=..., aws_secret_access_key = ..., SECRET_KEY=....
            new Regex(@"(?i)(?<=\b\w*(?:password|passwd|secret)\w*[""']?[ \t]*[:=][ \t]*[""']?)[^\s""';,&]{4,}", RegexOptions.Compiled | RegexOptions.CultureInvariant),
        };

        /// <summary>Replaces anything that looks like a secret with [REDACTED].</summary>
        [MethodImpl(Hot.Path)]
        public static string? Redact(string? text)
        {
            if (string.IsNullOrEmpty(text) || !MayHoldSecret(text!)) return text;
            var result = text!;
            foreach (var p in Patterns) result = p.Replace(result, Redacted);
            return result;
        }

        // One pass over the text for all hints: a bit per hashed pair of characters says whether a hint starts with that
        // pair, and only there are the hints compared. (The regex alternation of the hints found its candidates with
        // IndexOfAny on their first characters, which are common letters: it was a third of the preparing thread.)
        private const int PairBits = 1 << 16;
        private static readonly ulong[] HintPairs = new ulong[PairBits / 64];
        private static readonly Dictionary<int, string[]> HintsByPair = BuildPairs();

        private static int PairHash(char a, char b) => ((a << 7) ^ b) & (PairBits - 1);

        private static Dictionary<int, string[]> BuildPairs()
        {
            var byPair = new Dictionary<int, List<string>>();
            foreach (var h in Hints)
            {
                var hash = PairHash(h[0], h[1]);
                HintPairs[hash >> 6] |= 1UL << (hash & 63);
                var key = h[0] << 16 | h[1];
                if (!byPair.TryGetValue(key, out var list)) byPair[key] = list = new List<string>();
                list.Add(h);
            }
            var result = new Dictionary<int, string[]>();
            foreach (var pair in byPair) result[pair.Key] = pair.Value.ToArray();
            return result;
        }

        /// <summary>Whether the text holds any of the hints of a secret (ordinal, case as written): when not, nothing is redacted.</summary>
        [MethodImpl(Hot.Path)]
        public static bool MayHoldSecret(string text)
        {
            var bits = HintPairs;
            for (var i = 0; i + 2 < text.Length; i++) // every hint has at least three characters
            {
                var hash = PairHash(text[i], text[i + 1]);
                if ((bits[hash >> 6] & (1UL << (hash & 63))) == 0) continue;
                if (!HintsByPair.TryGetValue(text[i] << 16 | text[i + 1], out var candidates)) continue;
                foreach (var h in candidates)
                    if (string.CompareOrdinal(text, i, h, 0, h.Length) == 0 && i + h.Length <= text.Length) return true;
            }
            return false;
        }

        /// <summary>
        /// Text from logs made safe to put in CLAUDE.md: redacted, one line, control characters removed,
        /// capped, and wrapped in a code span so markdown, HTML and instructions inside it stay inert.
        /// </summary>
        public static string CodeSpan(string? text, int maxLength = 120)
        {
            var s = Redact(text ?? "") ?? "";
            var sb = new StringBuilder(Math.Min(s.Length, maxLength + 8));
            var lastSpace = false;
            foreach (var ch in s)
            {
                var c = ch;
                if (char.IsControl(c) || char.IsWhiteSpace(c)) c = ' ';
                if (c == '`') c = '\'';
                if (c == ' ' && (lastSpace || sb.Length == 0)) continue;
                lastSpace = c == ' ';
                sb.Append(c);
                if (sb.Length >= maxLength) { sb.Append('…'); break; }
            }
            var inner = sb.ToString().TrimEnd();
            return inner.Length == 0 ? "`(empty)`" : "`" + inner + "`";
        }
    }
}
