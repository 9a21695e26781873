using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Revisions
{
    public sealed class RevisionOptions
    {
        public string? DatabasePath { get; set; }
        /// <summary>Start of the window; default: 7 days before Now.</summary>
        public DateTimeOffset? Since { get; set; }
        /// <summary>
        /// End of the window; default: Now. Earlier, a past week's revision: its counts, patterns, report (named after the
        /// week Until falls in) and its rules' evidence are that window's; rules are still proposed (or activated) now,
        /// and CLAUDE.md holds the rules active now.
        /// </summary>
        public DateTimeOffset? Until { get; set; }
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        public string? ClaudeMdPath { get; set; }
        public double? Threshold { get; set; }
        public bool AutoApprove { get; set; }
        /// <summary>Import the configured log folders first.</summary>
        public bool Import { get; set; } = true;
        public string[]? LogPaths { get; set; }
        /// <summary>Asked before each change (for -WhatIf/-Confirm): (target, action) → go ahead?</summary>
        public Func<string, string, bool> ShouldProcess { get; set; } = (_, _) => true;
        public Action<ImportIssue>? OnImportIssue { get; set; }
        /// <summary>The import's progress and cancellation (Ctrl+C in Invoke-MadfRevision).</summary>
        public IProgress<ImportProgress>? ImportProgress { get; set; }
        public System.Threading.CancellationToken Cancellation { get; set; }
    }

    /// <summary>What a weekly revision found and did.</summary>
    public sealed class RevisionResult
    {
        /// <summary>The ISO week holding most of the window (2026-W41): the report's name.</summary>
        public string Week { get; set; } = "";
        public DateTime WindowStart { get; set; }
        public DateTime WindowEnd { get; set; }
        public long EventsImported { get; set; }
        public long Events { get; set; }
        public long Errors { get; set; }
        public int Patterns { get; set; }
        public List<PatternShare> TopPatterns { get; } = new List<PatternShare>();
        public List<Rule> RulesProposed { get; } = new List<Rule>();
        public List<Rule> RulesActivated { get; } = new List<Rule>();
        /// <summary>Every rule proposed from a window that ended inside this one (by this run or an earlier one): what the report lists.</summary>
        public List<Rule> RulesThisWeek { get; } = new List<Rule>();
        public int ActiveRules { get; set; }
        /// <summary>Proposals not made because an existing rule or a hand-written CLAUDE.md line already says it.</summary>
        public List<RuleCoverage> AlreadyCovered { get; } = new List<RuleCoverage>();
        /// <summary>Active rules whose pattern keeps occurring; they head the CLAUDE.md block.</summary>
        public List<RuleNotFollowed> NotFollowed { get; } = new List<RuleNotFollowed>();
        public List<RuleEffect> Effectiveness { get; } = new List<RuleEffect>();
        public int RulesToRetire => Effectiveness.Count(e => e.RecommendRetirement);
        public StorageReport? Storage { get; set; }
        /// <summary>OK / Warning / Critical, from the health rules (Get-MadfHealth).</summary>
        public Insights.HealthReport? Health { get; set; }
        public Insights.HealthStatus Status => Health?.Status ?? Insights.HealthStatus.OK;
        public bool ClaudeMdChanged { get; set; }
        public string? ClaudeMdPath { get; set; }
        public string? ReportPath { get; set; }
        public string? HtmlReportPath { get; set; }
        /// <summary>False when -IfDue found the last revision younger than 7 days.</summary>
        public bool Ran { get; set; } = true;
    }

    /// <summary>
    /// The weekly self-improvement loop: import what is new, find recurring error patterns (seen at least twice) at or
    /// above the threshold share of the window's errors, propose (or, unattended, activate) one prevention rule per pattern, write the active rules
    /// into CLAUDE.md's managed block, measure the active rules, and write revision-YYYY-Www.md next to the database.
    /// Everything is keyed so that a second run in the same week changes nothing.
    /// </summary>
    public sealed class Revision
    {
        private readonly RevisionOptions _o;
        private readonly MadfConfig _config;

        public Revision(RevisionOptions options)
        {
            _o = options;
            _config = MadfConfig.Load(options.DatabasePath);
        }

        /// <summary>
        /// When the last revision ran, or null: the end of the newest window revised (a revision's window ends when it
        /// runs), so a past week's revision run today does not put off this week's.
        /// </summary>
        public DateTimeOffset? LastRevision()
        {
            if (!File.Exists(_config.DatabasePath)) return null;
            using var c = MadfDatabase.Open(_config.DatabasePath, forWrite: false);
            var ms = c.ExecuteScalar<long?>("SELECT max(min(finished, window_end)) FROM revisions");
            return ms.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(ms.Value) : (DateTimeOffset?)null;
        }

        public bool IsDue() => LastRevision() is not { } last || _o.Now - last >= TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5);

        public RevisionResult Run()
        {
            var until = _o.Until ?? _o.Now;
            var since = _o.Since ?? until.AddDays(-7);
            var result = new RevisionResult { Week = Domain.IsoWeeks.NameOfWindow(since.UtcDateTime, until.UtcDateTime), WindowStart = since.UtcDateTime, WindowEnd = until.UtcDateTime };

            if (_o.Import)
            {
                var paths = (_o.LogPaths ?? _config.ResolvedLogPaths).Where(p => Directory.Exists(p) || File.Exists(p)).ToArray();
                if (paths.Length > 0 && _o.ShouldProcess(string.Join(", ", paths), "Import new log lines"))
                    result.EventsImported = new LogImporter(new ImportOptions { DatabasePath = _config.DatabasePath, OnIssue = _o.OnImportIssue, Progress = _o.ImportProgress, Cancellation = _o.Cancellation }).Import(paths).Imported;
            }

            using var c = MadfDatabase.Open(_config.DatabasePath);
            // A rule is written from its pattern's class: one an upgrade asked to class again is re-keyed first, even
            // when nothing was imported (-NoImport) to do it.
            Patterns.PatternRekey.RunIfPending(c, RuleStore.MovePattern);
            var from = since.ToUnixTimeMilliseconds();
            var to = until.ToUnixTimeMilliseconds();
            result.Events = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE " + EventStorage.Window("", "@from", "@to"), new { from, to });
            result.Errors = c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Domain.Errors.InEvents} AND " + EventStorage.Window("e", "@from", "@to"), new { from, to });
            var shares = PatternShares.Of(c, from, to, result.Errors);
            result.Patterns = shares.Count;
            result.TopPatterns.AddRange(shares.Take(10));

            var threshold = _o.Threshold ?? _config.RuleThreshold;
            var handWritten = RuleOverlap.HandWrittenLines(_o.ClaudeMdPath ?? _config.ClaudeMdPath);
            // No CLAUDE.md to hold them: new rules stay Proposed (for review) instead of Active-but-unseen.
            var activate = _o.AutoApprove && (_o.ClaudeMdPath ?? _config.ClaudeMdPath) != null;
            foreach (var p in shares.Where(s => s.IsFrequent(threshold)))
            {
                var evidence = new RuleEvidence
                {
                    Count = p.Count, TotalErrors = result.Errors, Share = p.Share, Stories = p.Stories, Agents = p.Agents,
                    WindowStart = result.WindowStart, WindowEnd = result.WindowEnd, Template = SafeText.Redact(p.Template) ?? "", ErrorClass = p.ErrorClass,
                };
                if (c.ExecuteScalar<long>("SELECT count(*) FROM rules WHERE pattern_id = @PatternId", p) > 0) continue;
                var text = RuleText.Compose(PatternFacts.Read(c, p.PatternId, p.ErrorClass, from, to)); // from the pattern's own errors
                var cover = RuleOverlap.Cover(p.PatternId, text, evidence.Template,
                    RuleStore.List(c).Where(r => r.Status != RuleStatus.Retired), handWritten);
                if (cover != null) { result.AlreadyCovered.Add(cover); continue; }
                if (!_o.ShouldProcess($"pattern {p.PatternId}", $"{(activate ? "Activate" : "Propose")} rule '{text}' ({p.Share:P1} of errors)")) continue;
                using var tx = c.BeginTransaction();
                var rule = RuleStore.Propose(c, p.PatternId, text, evidence, activate, _o.Now, tx);
                if (rule != null)
                {
                    // The events that produced the rule point at it.
                    var produced = "pattern_id = @PatternId AND kind IN " + Domain.Errors.Kinds + " AND " + EventStorage.Window("", "@from", "@to", EventStorage.PatternTime("event_rows"));
                    var args = new { rule.Id, rule.PatternId, from, to };
                    EventStorage.SetCreatedRule(c, tx, produced, args);
                    EventStorage.SetNeedsReview(c, tx, produced, !activate, args);
                    (activate ? result.RulesActivated : result.RulesProposed).Add(rule);
                }
                tx.Commit();
            }

            // Measured once: the rules not followed, the CLAUDE.md block and both reports use these effects (each
            // measure reads the weeks around every rule's activation).
            result.Effectiveness.AddRange(RuleEffectiveness.Evaluate(c, _o.Now));
            result.NotFollowed.AddRange(RuleOverlap.NotFollowed(c, _o.Now, result.Effectiveness));
            result.ClaudeMdPath = _o.ClaudeMdPath ?? _config.ClaudeMdPath;
            if (result.ClaudeMdPath != null && _o.ShouldProcess(result.ClaudeMdPath, "Update the MadfLog rules block"))
                result.ClaudeMdChanged = ClaudeMdBlock.Write(result.ClaudeMdPath, RuleStore.ActiveLines(c, _o.Now, result.NotFollowed));
            result.ActiveRules = RuleStore.List(c, RuleStatus.Active).Count;
            // The window's rules: those proposed from a window that ended inside this one (this run's, an earlier run's
            // over the same days), not those created in the calendar week the revision happens to run in.
            result.RulesThisWeek.AddRange(RuleStore.List(c).Where(r => r.Evidence.WindowEnd > result.WindowStart && r.Evidence.WindowEnd <= result.WindowEnd));

            c.Dispose();
            result.Storage = StorageReport.Get(_config.DatabasePath);
            result.Health = Insights.Health.Check(_config.DatabasePath, _o.Now);
            var report = Path.Combine(Path.GetDirectoryName(_config.DatabasePath)!, $"revision{StoreLocation.CompanionSuffix(_config.DatabasePath)}-{result.Week}.md");
            if (_o.ShouldProcess(report, "Write the revision report"))
            {
                var text = RevisionReport.Markdown(result);
                if (!File.Exists(report) || File.ReadAllText(report) != text) File.WriteAllText(report, text, new UTF8Encoding(false));
                result.ReportPath = report;
                // The same week as a picture: the HTML report beside the markdown one.
                var html = Path.ChangeExtension(report, ".html");
                Insights.HtmlReport.Write(html, Insights.HtmlReport.Build(_config.DatabasePath, new Query.QueryFilter { Since = since, Until = until }, _o.Now, $"MadfLog revision {result.Week}", result.Effectiveness));
                result.HtmlReportPath = html;
                using var w = MadfDatabase.Open(_config.DatabasePath);
                w.Execute(@"INSERT INTO revisions(week, window_start, window_end, finished, report_path) VALUES (@Week, @from, @to, @now, @report)
                            ON CONFLICT(week) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end, finished = excluded.finished, report_path = excluded.report_path",
                    new { result.Week, from, to, now = _o.Now.ToUnixTimeMilliseconds(), report });
            }
            return result;
        }
    }

    /// <summary>The revision's markdown report; deterministic for the same data so a rerun does not change it.</summary>
    public static class RevisionReport
    {
        public static string Markdown(RevisionResult r)
        {
            var inv = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.AppendLine($"# MadfLog revision {r.Week}");
            sb.AppendLine();
            sb.AppendLine($"Window: {r.WindowStart:yyyy-MM-dd} to {r.WindowEnd:yyyy-MM-dd} (UTC). Health: **{r.Status}**.");
            if (r.Health != null)
                foreach (var problem in r.Health.Problems) sb.AppendLine($"- {problem.Status}: {problem.Message}");
            sb.AppendLine();
            sb.AppendLine("| Events | Errors | Error rate | Patterns | Active rules | Proposed this week |");
            sb.AppendLine("|---:|---:|---:|---:|---:|---:|");
            sb.AppendLine(string.Format(inv, "| {0:N0} | {1:N0} | {2:P1} | {3} | {4} | {5} |", r.Events, r.Errors, r.Events > 0 ? (double)r.Errors / r.Events : 0, r.Patterns, r.ActiveRules, r.RulesThisWeek.Count));
            sb.AppendLine();
            sb.AppendLine("## Top error patterns");
            sb.AppendLine();
            if (r.TopPatterns.Count == 0) sb.AppendLine("No errors in the window.");
            else
            {
                sb.AppendLine("| Pattern | Class | Count | Share | Template |");
                sb.AppendLine("|---:|---|---:|---:|---|");
                foreach (var p in r.TopPatterns)
                    sb.AppendLine(string.Format(inv, "| P{0} | {1} | {2:N0} | {3:P1} | {4} |", p.PatternId, p.ErrorClass, p.Count, p.Share, SafeText.CodeSpan(p.Template, 100).Replace("|", "\\|")));
            }
            sb.AppendLine();
            sb.AppendLine("## Rules");
            sb.AppendLine();
            foreach (var rule in r.RulesThisWeek)
                sb.AppendLine($"- {rule.Status} R{rule.Id}{(rule.NeedsReview ? " (review with Approve-MadfRule / Deny-MadfRule)" : "")}: {rule.MarkdownLine.Substring(2)}");
            if (r.RulesThisWeek.Count == 0) sb.AppendLine("No new rules this week.");
            if (r.AlreadyCovered.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine(string.Format(inv, "Not proposed, already covered (word overlap ≥ {0:0.##}):", RuleOverlap.DuplicateThreshold));
                foreach (var d in r.AlreadyCovered)
                    sb.AppendLine(string.Format(inv, "- P{0}: covered by {1} ({2:0.00}): {3}", d.PatternId, d.CoveredBy, d.Similarity, SafeText.CodeSpan(d.CoveringText, 120)));
            }
            if (r.NotFollowed.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine("Not followed (moved to the top of the CLAUDE.md block):");
                foreach (var n in r.NotFollowed)
                    sb.AppendLine(string.Format(inv, "- R{0}: pattern P{1} seen {2}× in {3} sessions since {4:yyyy-MM-dd}.", n.RuleId, n.PatternId, n.Occurrences, n.Sessions, n.Since));
            }
            sb.AppendLine();
            sb.AppendLine("## Effectiveness of active rules");
            sb.AppendLine();
            if (r.Effectiveness.Count == 0) sb.AppendLine("No active rules yet.");
            else
            {
                sb.AppendLine("Each rule's pattern per 1,000 calls of its tool or step, before and after it took effect, against the same windows' other errors (the control). " +
                              "The week whose errors proposed the rule is in neither window: its pattern was chosen for being high there. " +
                              "Relative change = the rule's change ÷ the control's change, with its 95% interval; below 1 is better than the other errors did. " +
                              "The interval holds how much the pattern's rate beside the control moves from week to week anyway (its wander), not only its counts' noise.");
                sb.AppendLine();
                sb.AppendLine("| Rule | Took effect | Calls of | Per 1,000 before | after | Control per 1,000 before → after | Relative change (95% CI) | Verdict |");
                sb.AppendLine("|---:|---|---|---:|---:|---|---|---|");
                foreach (var e in r.Effectiveness)
                    sb.AppendLine(string.Format(inv, "| R{0} | {1:yyyy-MM-dd} | {2} | {3:N2} ({4}/{5:N0}) | {6:N2} ({7}/{8:N0}) | {9} | {10} | {11}{12} |", e.RuleId, e.Activated, SafeText.CodeSpan(e.Step, 40).Replace("|", "\\|"),
                        e.RateBeforePer1000, e.HitsBefore, e.CallsBefore, e.RateAfterPer1000, e.HitsAfter, e.CallsAfter,
                        e.HasControl ? string.Format(inv, "{0:N2} → {1:N2}", e.ControlRateBeforePer1000, e.ControlRateAfterPer1000) : "none (too few other errors)",
                        e.WeekToWeekText.Length > 0 ? e.RelativeChangeText + "; " + e.WeekToWeekText : e.RelativeChangeText, e.VerdictWithReason.Replace("|", "\\|"), e.RecommendRetirement ? " (retire?)" : ""));
            }
            if (r.Storage != null)
            {
                sb.AppendLine();
                sb.AppendLine("## Storage");
                sb.AppendLine();
                sb.AppendLine(string.Format(inv, "Active database {0:N1} MB ({1:N0} events, {2:N0} bytes/event, budget {3} MB); archives {4:N1} MB.",
                    r.Storage.ActiveBytes / 1048576.0, r.Storage.ActiveEvents, r.Storage.BytesPerEvent, r.Storage.MaxActiveMB, (r.Storage.ArchiveDatabaseBytes + r.Storage.ArchiveLogBytes) / 1048576.0));
            }
            return sb.ToString();
        }
    }
}
