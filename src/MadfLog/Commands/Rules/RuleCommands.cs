using MadfLog.Engine;
using MadfLog.Engine.Briefing;
using System;
using System.Linq;
using System.Management.Automation;
using MadfLog.Engine.Config;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Revisions;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Rules
{
    /// <summary>Lists MadfLog's prevention rules: proposed ones wait for review, active ones are in CLAUDE.md.</summary>
    /// <example>
    /// <code>Get-MadfRule -Status Proposed | Approve-MadfRule</code>
    /// Approves every proposed rule and writes them into CLAUDE.md's MadfLog block.
    /// </example>
    /// <example>
    /// <code>Get-MadfRule -Status Active | Format-Table Id, Status, Text -Wrap</code>
    /// The rules that are in CLAUDE.md now.
    /// </example>
    /// <returns>One Rule per prevention rule: id, pattern, status, text, evidence and dates.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfRule")]
    [OutputType(typeof(Rule))]
    public sealed class GetMadfRuleCommand : MadfCmdlet
    {
        /// <summary>Only rules with this status.</summary>
        [Parameter(Position = 0)]
        public RuleStatus? Status { get; set; }

        /// <summary>Only the rules with these ids.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("RuleId")]
        public long[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            var store = Store();
            foreach (var rule in Engine(() => store.Rules(Status)))
                if (Id == null || Array.IndexOf(Id, rule.Id) >= 0) WriteObject(rule);
        }
    }

    /// <summary>Shared by Approve-MadfRule and Deny-MadfRule: decide on rules, then rewrite CLAUDE.md's block.</summary>
    public abstract class RuleDecisionCommand : MadfCmdlet
    {
        /// <summary>The rule ids (from Get-MadfRule or Invoke-MadfRevision).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("RuleId")]
        public long[] Id { get; set; } = Array.Empty<long>();

        /// <summary>The CLAUDE.md to update; default: the configured one (Set-MadfConfig -ClaudeMdPath).</summary>
        [Parameter]
        public string? ClaudeMdPath { get; set; }

        private bool _changed;

        protected abstract string Action { get; }
        /// <summary>Activating needs a CLAUDE.md: a rule no agent can read must not be measured as if it were in force.</summary>
        protected virtual bool NeedsClaudeMd => false;

        private bool _checked;

        /// <summary>Before the first decision (after the database is known to exist): is there a CLAUDE.md to hold active rules?</summary>
        private void CheckClaudeMd()
        {
            if (_checked) return;
            _checked = true;
            if (NeedsClaudeMd && ClaudeMdPath == null && Engine(() => MadfConfig.Load(DatabasePath)).ClaudeMdPath == null)
                ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(Messages.ClaudeMdNotConfigured),
                    "ClaudeMdNotConfigured", ErrorCategory.InvalidOperation, null));
        }
        protected abstract Rule Decide(MadfStore store, long id);

        protected override void ProcessRecord()
        {
            // Rules live only in an existing database: a missing one is DatabaseNotFound, never created (-WhatIf included).
            if (!System.IO.File.Exists(DatabasePath)) Store();
            var store = Store(forWrite: true);
            CheckClaudeMd();
            foreach (var id in Id)
            {
                if (!ShouldProcess($"rule {id}", Action)) continue;
                try
                {
                    WriteObject(Decide(store, id));
                    _changed = true;
                }
                catch (MadfException ex)
                {
                    WriteError(ToErrorRecord(ex));
                }
            }
        }

        protected override void EndProcessing()
        {
            if (!_changed) return;
            var path = ClaudeMdPath != null ? ResolveOutputPath(ClaudeMdPath) : Engine(() => MadfConfig.Load(DatabasePath)).ClaudeMdPath;
            if (path == null)
            {
                WriteWarning(Messages.ClaudeMdNotConfiguredToWrite);
                return;
            }
            var store = Store(forWrite: true);
            Engine(() => ClaudeMdBlock.Write(path, store.ActiveRuleLines(DateTimeOffset.UtcNow)));
        }
    }

    /// <summary>Activates proposed rules and writes them into CLAUDE.md's MadfLog block.</summary>
    /// <example>
    /// <code>Approve-MadfRule 3, 4 -ClaudeMdPath ./CLAUDE.md</code>
    /// Activates rules 3 and 4 and updates the block in ./CLAUDE.md; the rest of the file is left as it was.
    /// </example>
    /// <example>
    /// <code>Get-MadfRule -Status Proposed | Select-Object -First 2 | Approve-MadfRule -ClaudeMdPath ./CLAUDE.md</code>
    /// Activates the first two proposed rules and writes them into ./CLAUDE.md's MadfLog block.
    /// </example>
    /// <example>
    /// <code>Approve-MadfRule -Id 1 -WhatIf</code>
    /// Shows what approving rule 1 would do, without changing the store or CLAUDE.md.
    /// </example>
    /// <example>
    /// <code>Approve-MadfRule 5 -EffectiveFrom 2026-11-02</code>
    /// Records that rule 5 has been followed since 2 November (it was in CLAUDE.md before it was approved), so its effectiveness is measured from then.
    /// </example>
    /// <returns>One Rule per approved rule, now Active, as stored after the change.</returns>
    [Cmdlet(VerbsLifecycle.Approve, "MadfRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Rule))]
    public sealed class ApproveMadfRuleCommand : RuleDecisionCommand
    {
        /// <summary>When the rule really took effect (it was followed, or in CLAUDE.md, before it was approved); also corrects an active rule's date. Default: now.</summary>
        [Parameter] public DateTime EffectiveFrom { get; set; }

        protected override string Action => MyInvocation.BoundParameters.ContainsKey(nameof(EffectiveFrom)) ? $"Activate from {EffectiveFrom:u} and write into CLAUDE.md" : "Activate and write into CLAUDE.md";
        protected override bool NeedsClaudeMd => true;
        protected override Rule Decide(MadfStore store, long id) =>
            store.ApproveRule(id, DateTimeOffset.UtcNow, Bound(nameof(EffectiveFrom), EffectiveFrom));
    }

    /// <summary>Rejects proposed rules (they are not proposed again) or retires active ones (removing them from CLAUDE.md).</summary>
    /// <example>
    /// <code>Get-MadfRuleEffectiveness | Where-Object RecommendRetirement | Deny-MadfRule</code>
    /// Retires the active rules that showed no effect after enough data.
    /// </example>
    /// <example>
    /// <code>Get-MadfRule -Status Proposed | Where-Object Text -like '*pytest*' | Deny-MadfRule -Confirm:$false</code>
    /// Rejects the proposed rules about pytest failures without asking; they are not proposed again.
    /// </example>
    /// <returns>One Rule per denied rule, now Denied (a proposed rule) or Retired (an active one).</returns>
    [Cmdlet(VerbsLifecycle.Deny, "MadfRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Rule))]
    public sealed class DenyMadfRuleCommand : RuleDecisionCommand
    {
        protected override string Action => "Deny (or retire) and remove from CLAUDE.md";
        protected override Rule Decide(MadfStore store, long id) => store.DenyRule(id, DateTimeOffset.UtcNow);
    }

    /// <summary>Measures whether each active rule worked: its pattern's rate per 1,000 calls before and after it took effect, against every other error, with a verdict.</summary>
    /// <remarks><para>Each rule's pattern is counted per 1,000 calls of the same tool (or step) in a window before and after the rule took effect, and compared with the change over the same windows of every other error (difference-in-differences; Effective only against every other error, while Worse is read without the patterns of other rules that took effect meanwhile and worked). The revision window whose errors proposed the rule (EvidenceStart to EvidenceEnd) is in neither window: its pattern was chosen for being high there, and would fall after it by chance alone; so a rule proposed from a store's first week, with nothing before that week, stays TooEarly. RelativeChange is the ratio of the two changes, with a 95% interval whose variance is counted by session (errors repeat within one): Effective when the interval is below 1, Worse when above, NoClearChange otherwise, TooEarly with fewer than 200 calls after, fewer than 10 occurrences in all, or no occurrence or no event before (Reason says which); NoControl when fewer than 10 other errors fall in a window (the rule's own change is shown, but a change in all errors would look the same). A tool whose calls are mostly the pattern's own errors (one logged only when it fails) is no count of chances: such a pattern is counted per 1,000 events. After 1,000 calls and 14 days, RecommendRetirement is set for a Worse rule and for a NoClearChange one whose interval rules out a fall of a fifth or more (its low end at least 0.8); while a wide interval still allows such a fall, Reason says so instead.</para></remarks>
    /// <example>
    /// <code>Get-MadfRuleEffectiveness | Where-Object Verdict -eq Effective</code>
    /// Lists the rules that measurably reduced their error.
    /// </example>
    /// <example>
    /// <code>Get-MadfRuleEffectiveness -Brief</code>
    /// Every active rule's verdict in at most 300 tokens.
    /// </example>
    /// <returns type="RuleEffect">One RuleEffect per active rule: its pattern's rate before and after (the week that proposed it left out), against the control, the relative change with its 95% interval, and a verdict with its reason.</returns>
    /// <returns type="String">With -Brief: one text of at most 300 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfRuleEffectiveness")]
    [OutputType(typeof(RuleEffect), typeof(string))]
    public sealed class GetMadfRuleEffectivenessCommand : MadfCmdlet
    {
        /// <summary>Return one compact text (at most 300 tokens) instead of objects.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }
        /// <summary>Count the archived events too (the months rotation moved to archive/madflog-YYYY-MM.db), so a rule's window before it took effect is whole even when it was archived.</summary>
        [Parameter] public SwitchParameter IncludeArchive { get; set; }

        protected override bool IncludesArchives => IncludeArchive;

        protected override void EndProcessing()
        {
            var store = Store();
            var effects = Engine(() => store.RuleEffects(DateTimeOffset.UtcNow));
            if (Brief) { WriteObject(MoreBriefs.RuleEffectiveness(effects)); return; }
            foreach (var e in effects) WriteObject(e);
        }
    }

    /// <summary>Runs the weekly revision: imports what is new, proposes prevention rules for frequent error patterns, updates CLAUDE.md, measures active rules and writes the report.</summary>
    /// <remarks>
    /// <para>Every error pattern seen at least twice and at or above -Threshold (default 3%) of the window's errors gets one rule (an error seen once is not a recurring mistake, even in a small week), proposed for review (Approve-MadfRule) or, with -AutoApprove, activated at once. Active rules are written into one managed block of CLAUDE.md; the rest of the file is kept byte for byte. The markdown report revision-YYYY-Www.md is written next to the database.</para>
    /// <para>Running it twice in the same week changes nothing the second time. -IfDue runs only when the last revision is 7 days old or more, so a daily trigger catches up a missed Sunday.</para>
    /// </remarks>
    /// <example>
    /// <code>Invoke-MadfRevision -ClaudeMdPath ./CLAUDE.md -WhatIf</code>
    /// Shows which rules would be proposed and which files would change.
    /// </example>
    /// <example>
    /// <code>Invoke-MadfRevision -IfDue -AutoApprove -ClaudeMdPath ./CLAUDE.md</code>
    /// What the scheduled job runs: only when the last revision is a week old, activating new rules at once.
    /// </example>
    /// <returns>One RevisionResult: the week, events and errors in the window, the top patterns, the rules proposed or activated, health and the report paths. Nothing with -IfDue when no revision is due.</returns>
    [Cmdlet(VerbsLifecycle.Invoke, "MadfRevision", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RevisionResult))]
    public sealed class InvokeMadfRevisionCommand : MadfCmdlet
    {
        /// <summary>Start of the window; default: 7 days before its end.</summary>
        [Parameter] public DateTime Since { get; set; }
        /// <summary>
        /// End of the window; default: now. Earlier, a past week's revision (its counts, rules' evidence and report
        /// revision-YYYY-Www.md are that week's; rules are proposed now, and a revision of a past week does not put off this week's -IfDue run). Must be after -Since.
        /// </summary>
        [Parameter] public DateTime Until { get; set; }
        /// <summary>The CLAUDE.md to update; default: the configured one.</summary>
        [Parameter] public string? ClaudeMdPath { get; set; }
        /// <summary>Share of the window's errors (0-1) at which a pattern gets a rule; default: the configured value (0.03).</summary>
        [Parameter][ValidateRange(0.0001, 1.0)] public double Threshold { get; set; }
        /// <summary>Activate new rules at once instead of proposing them for review.</summary>
        [Parameter] public SwitchParameter AutoApprove { get; set; }
        /// <summary>Run only when the last revision is at least 7 days old.</summary>
        [Parameter] public SwitchParameter IfDue { get; set; }
        /// <summary>Do not import the configured log folders first.</summary>
        [Parameter] public SwitchParameter NoImport { get; set; }
        /// <summary>Remember -ClaudeMdPath, -Threshold and -AutoApprove in the database's configuration, so the scheduled revision uses them.</summary>
        [Parameter] public SwitchParameter Save { get; set; }

        protected override void EndProcessing()
        {
            // -WhatIf must not leave a new database behind: creating one is a change of its own.
            if (!System.IO.File.Exists(DatabasePath) && !ShouldProcess(DatabasePath, "Create the MadfLog database")) return;
            var bound = MyInvocation.BoundParameters;
            var config = Engine(() => MadfConfig.Load(DatabasePath));
            if (Save)
            {
                if (ClaudeMdPath != null) config.ClaudeMdPath = ResolveOutputPath(ClaudeMdPath);
                if (bound.ContainsKey(nameof(Threshold))) config.RuleThreshold = Threshold;
                if (bound.ContainsKey(nameof(AutoApprove))) config.AutoApprove = AutoApprove;
                if (ShouldProcess(config.Path, "Save the revision settings")) Engine(() => { config.Save(); return true; });
            }
            if (AutoApprove && ClaudeMdPath == null && config.ClaudeMdPath == null)
                ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(Messages.AutoApproveWithoutClaudeMd),
                    "ClaudeMdNotConfigured", ErrorCategory.InvalidOperation, null));
            var since = Bound(nameof(Since), Since);
            var until = Bound(nameof(Until), Until);
            if (EmptyWindow(since, until ?? DateTimeOffset.UtcNow) is { } empty) ThrowTerminatingError(empty);
            var options = new RevisionOptions
            {
                DatabasePath = DatabasePath,
                Since = since,
                Until = until,
                ClaudeMdPath = ClaudeMdPath == null ? null : ResolveOutputPath(ClaudeMdPath),
                Threshold = bound.ContainsKey(nameof(Threshold)) ? Threshold : (double?)null,
                AutoApprove = AutoApprove,
                Import = !NoImport,
            };
            UpgradeStore();
            var revision = Engine(() => new Revision(options));
            if (IfDue && !Engine(() => revision.IsDue()))
            {
                WriteVerbose(string.Format(Messages.Culture, Messages.RevisionNotDue, revision.LastRevision()));
                return;
            }
            if (!RunInBackground(run =>
                {
                    // Lines quarantined by the revision's own import are reported as Import-MadfLog reports them.
                    options.OnImportIssue = run.Issue;
                    options.ImportProgress = run.ImportProgress;
                    options.Cancellation = run.Cancellation;
                    options.ShouldProcess = run.ShouldProcess;
                    return revision.Run();
                }, out var result))
                return; // Ctrl+C: what was committed stays; running it again in the same week finishes it.
            if (result.Health != null)
                foreach (var p in result.Health.Problems) WriteWarning($"{p.Name}: {p.Message}");
            WriteObject(result);
        }
    }
}
