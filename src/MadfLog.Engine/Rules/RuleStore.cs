using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Dapper;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    public enum RuleStatus { Proposed, Active, Retired, Denied }

    /// <summary>Why a rule was proposed: what the window showed.</summary>
    public sealed class RuleEvidence
    {
        public long Count { get; set; }
        public long TotalErrors { get; set; }
        public double Share { get; set; }
        public string[] Stories { get; set; } = Array.Empty<string>();
        public string[] Agents { get; set; } = Array.Empty<string>();
        public DateTime WindowStart { get; set; }
        public DateTime WindowEnd { get; set; }
        public string Template { get; set; } = "";
        public string ErrorClass { get; set; } = "Other";
    }

    /// <summary>A prevention rule for one error pattern.</summary>
    public sealed class Rule
    {
        public long Id { get; set; }
        public long PatternId { get; set; }
        public string Text { get; set; } = "";
        public RuleStatus Status { get; set; }
        public DateTime Created { get; set; }
        public DateTime? Activated { get; set; }
        public DateTime? Retired { get; set; }
        public RuleEvidence Evidence { get; set; } = new RuleEvidence();
        /// <summary>True while a human has not decided (proposed rules).</summary>
        public bool NeedsReview => Status == RuleStatus.Proposed;

        /// <summary>The CLAUDE.md line: the instruction, then the evidence; log text, story and agent names only inside code spans.</summary>
        public string MarkdownLine =>
            $"- **{Text}** Seen {Evidence.Count}× ({Evidence.Share:P1} of errors){Join(" in stories ", Evidence.Stories)}{Join("; agents ", Evidence.Agents)}: {SafeText.CodeSpan(Evidence.Template)} (MadfLog rule R{Id})";

        private static string Join(string label, string[] items) =>
            items.Length == 0 ? "" : label + string.Join(", ", items.Take(5).Select(i => SafeText.CodeSpan(i, 40))) + (items.Length > 5 ? $" and {items.Length - 5} more" : "");
    }

    public static class RuleStore
    {
        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions();

        public static List<Rule> List(SqliteConnection c, RuleStatus? status = null) =>
            c.Query<RuleRow>(
                    "SELECT id, pattern_id AS PatternId, text, status, created, activated, retired, evidence FROM rules WHERE (@s IS NULL OR status = @s) ORDER BY id",
                    new { s = status?.ToString() })
                .Select(r => new Rule
                {
                    Id = r.Id, PatternId = r.PatternId, Text = r.Text, Status = (RuleStatus)Enum.Parse(typeof(RuleStatus), r.Status),
                    Created = Time(r.Created), Activated = r.Activated.HasValue ? Time(r.Activated.Value) : (DateTime?)null,
                    Retired = r.Retired.HasValue ? Time(r.Retired.Value) : (DateTime?)null,
                    Evidence = JsonSerializer.Deserialize<RuleEvidence>(r.Evidence, Json) ?? new RuleEvidence(),
                }).ToList();

        /// <summary>A rules row (mapped by column name).</summary>
        private sealed class RuleRow
        {
            public long Id { get; set; }
            public long PatternId { get; set; }
            public string Text { get; set; } = "";
            public string Status { get; set; } = "";
            public long Created { get; set; }
            public long? Activated { get; set; }
            public long? Retired { get; set; }
            public string Evidence { get; set; } = "";
        }

        public static Rule Get(SqliteConnection c, long id) =>
            List(c).FirstOrDefault(r => r.Id == id) ?? throw new MadfException("RuleNotFound", MadfErrorKind.NotFound, string.Format(Messages.Culture, Messages.RuleNotFound, id), id);

        /// <summary>Inserts a rule for a pattern that has none; returns null when the pattern already has one (rules are never duplicated).</summary>
        public static Rule? Propose(SqliteConnection c, long patternId, string text, RuleEvidence evidence, bool activate, DateTimeOffset now, SqliteTransaction? tx = null)
        {
            var ms = now.ToUnixTimeMilliseconds();
            var id = c.ExecuteScalar<long?>(
                @"INSERT INTO rules(pattern_id, text, status, created, activated, evidence) VALUES (@patternId, @text, @status, @ms, @activated, @evidence)
                  ON CONFLICT(pattern_id) DO NOTHING RETURNING id",
                new { patternId, text, status = (activate ? RuleStatus.Active : RuleStatus.Proposed).ToString(), ms, activated = activate ? ms : (long?)null, evidence = JsonSerializer.Serialize(evidence, Json) }, tx);
            if (!id.HasValue) return null;
            return new Rule { Id = id.Value, PatternId = patternId, Text = text, Status = activate ? RuleStatus.Active : RuleStatus.Proposed, Created = now.UtcDateTime, Activated = activate ? now.UtcDateTime : (DateTime?)null, Evidence = evidence };
        }

        /// <summary>
        /// Approve: proposed → active, taking effect now or at effectiveFrom (a rule already followed before it was
        /// approved, or written into CLAUDE.md before MadfLog knew it). An active rule only has its date corrected.
        /// </summary>
        public static Rule Approve(SqliteConnection c, long id, DateTimeOffset now, DateTimeOffset? effectiveFrom = null)
        {
            var rule = Get(c, id);
            if (effectiveFrom > now)
                throw new MadfException("RuleEffectiveInFuture", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.RuleEffectiveInFuture, id, effectiveFrom.Value.UtcDateTime), id);
            var at = (effectiveFrom ?? now).ToUnixTimeMilliseconds();
            if (rule.Status == RuleStatus.Active)
            {
                if (effectiveFrom.HasValue) c.Execute("UPDATE rules SET activated = @at WHERE id = @id", new { id, at });
                return Get(c, id);
            }
            if (rule.Status != RuleStatus.Proposed)
                throw new MadfException("RuleNotProposed", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.RuleNotProposed, id, rule.Status.ToString().ToLowerInvariant()), id);
            c.Execute("UPDATE rules SET status = 'Active', activated = @at WHERE id = @id", new { id, at });
            return Get(c, id);
        }

        /// <summary>
        /// A merged pattern's rule follows it to the survivor, in the merge's transaction (a
        /// <see cref="Patterns.PatternReferences"/>); a survivor that has a rule keeps its own (one rule per pattern).
        /// </summary>
        public static void MovePattern(SqliteConnection c, SqliteTransaction tx, long from, long into) =>
            c.Execute("UPDATE OR IGNORE rules SET pattern_id = @into WHERE pattern_id = @from", new { from, into }, tx);

        /// <summary>Deny: proposed → denied (never proposed again); active → retired.</summary>
        public static Rule Deny(SqliteConnection c, long id, DateTimeOffset now)
        {
            var rule = Get(c, id);
            if (rule.Status == RuleStatus.Proposed) c.Execute("UPDATE rules SET status = 'Denied', retired = @t WHERE id = @id", new { id, t = now.ToUnixTimeMilliseconds() });
            else if (rule.Status == RuleStatus.Active) c.Execute("UPDATE rules SET status = 'Retired', retired = @t WHERE id = @id", new { id, t = now.ToUnixTimeMilliseconds() });
            return Get(c, id);
        }

        /// <summary>
        /// The CLAUDE.md block's lines: first the rules that are not followed (their pattern keeps occurring), each with
        /// its count since it took effect, most occurrences first; then the other active rules, oldest first.
        /// </summary>
        /// <param name="notFollowed">The rules not followed when the caller found them already (a revision does).</param>
        public static string[] ActiveLines(SqliteConnection c, DateTimeOffset now, IReadOnlyList<RuleNotFollowed>? notFollowed = null)
        {
            var byRule = (notFollowed ?? RuleOverlap.NotFollowed(c, now)).ToDictionary(n => n.RuleId);
            return List(c, RuleStatus.Active)
                .OrderBy(r => byRule.ContainsKey(r.Id) ? 0 : 1)
                .ThenByDescending(r => byRule.TryGetValue(r.Id, out var n) ? n.Occurrences : 0)
                .ThenBy(r => r.Id)
                .Select(r => byRule.TryGetValue(r.Id, out var n)
                    ? $"- **Not followed: seen {n.Occurrences}× in {n.Sessions} sessions since {n.Since:yyyy-MM-dd}.** " + r.MarkdownLine.Substring(2)
                    : r.MarkdownLine)
                .ToArray();
        }

        private static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
    }
}
