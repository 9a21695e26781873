using System;
using System.Linq;
using System.Management.Automation;
using MadfLog.Engine;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Query;
using MadfLog.Engine.Briefing;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Query
{
    /// <summary>Errors by pattern: count, share of all errors, class, agents, first and last seen, one example.</summary>
    /// <remarks><para>Errors are events with success false, not counting cascades ("Sibling tool call errored"). -Brief returns at most 200 tokens.</para><para>Like every question, it covers the active window once rotation has archived older months; -IncludeArchive adds the archived events (the first call after an import or a rotation builds a combined store in the archive folder's combined/; later calls reuse it).</para></remarks>
    /// <example>
    /// <code>Get-MadfErrorSummary -Story 1.2 | Where-Object Share -ge 0.03</code>
    /// The error patterns of story 1.2 that are at least 3% of its errors.
    /// </example>
    /// <example>
    /// <code>Get-MadfErrorSummary -Since (Get-Date).AddDays(-7) -Brief</code>
    /// A compact summary of last week's errors for an agent's context.
    /// </example>
    /// <example>
    /// <code>Get-MadfErrorSummary -Story 1.1 -IncludeArchive</code>
    /// The error patterns of story 1.1 counting the events rotation moved to the archives too (every question takes -IncludeArchive).
    /// </example>
    /// <returns type="ErrorSummaryItem">One ErrorSummaryItem per error pattern, largest first: count, share of all errors, class, agents, first and last seen (UTC) and an example.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfErrorSummary")]
    [OutputType(typeof(ErrorSummaryItem), typeof(string))]
    public sealed class GetMadfErrorSummaryCommand : AnalysisCmdlet
    {
        /// <summary>How many patterns to return (largest first).</summary>
        [Parameter][ValidateRange(1, 100000)] public int Top { get; set; } = 20;

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            if (!Brief) { WriteAll(s.ErrorSummary(f, Top)); return; }
            WriteBrief(s, Briefs.ErrorSummary(s.ErrorSummary(f, 100000), s.CountErrors(f), s.CountEvents(f), f));
        }
    }

    /// <summary>Per agent: events, success rate, median and p95 duration, tokens, context pressure (share of events above 80% context) and time wasted.</summary>
    /// <remarks><para>Time wasted is the duration of failed events plus reported waste (negative time_saved_or_wasted_ms). -Brief returns at most 300 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfAgentPerformance | Where-Object SuccessRate -lt 0.9</code>
    /// The agents that fail more than one step in ten.
    /// </example>
    /// <example>
    /// <code>Get-MadfAgentPerformance -Agent d* -Story 1.2 | Format-List</code>
    /// Every figure for the agents whose name starts with d, in story 1.2.
    /// </example>
    /// <example>
    /// <code>Get-MadfAgentPerformance -Brief</code>
    /// All agents as one compact text (at most 300 tokens) for an agent's context.
    /// </example>
    /// <returns type="AgentPerformance">One AgentPerformance per agent: events, success rate, median and p95 duration, tokens, context pressure and time wasted.</returns>
    /// <returns type="String">With -Brief: one text of at most 300 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfAgentPerformance")]
    [OutputType(typeof(AgentPerformance), typeof(string))]
    public sealed class GetMadfAgentPerformanceCommand : AnalysisCmdlet
    {
        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.AgentPerformance(f);
            if (Brief) WriteBrief(s, Briefs.AgentPerformance(items)); else WriteAll(items);
        }
    }

    /// <summary>Where time goes: the tools, steps and workflows with the largest total and p95 duration, and the time wasted in them.</summary>
    /// <remarks><para>-Brief returns at most 100 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfBottleneck -Top 5</code>
    /// The five steps that take the most time.
    /// </example>
    /// <example>
    /// <code>Get-MadfBottleneck -Story 1.2 -Brief</code>
    /// Where story 1.2 spent its time, in at most 100 tokens.
    /// </example>
    /// <returns type="Bottleneck">One Bottleneck per tool, step or workflow, the most time first: total and p95 duration and the time wasted in it.</returns>
    /// <returns type="String">With -Brief: one text of at most 100 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfBottleneck")]
    [OutputType(typeof(Bottleneck), typeof(string))]
    public sealed class GetMadfBottleneckCommand : AnalysisCmdlet
    {
        /// <summary>How many steps to return.</summary>
        [Parameter][ValidateRange(1, 1000)] public int Top { get; set; } = 10;

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.Bottlenecks(f, Top);
            if (Brief) WriteBrief(s, Briefs.Bottlenecks(items)); else WriteAll(items);
        }
    }

    /// <summary>Compares two stories side by side: events, error rate, repeated errors, patterns gained and lost, agents, tokens and human interactions.</summary>
    /// <remarks><para>A repeated error is an occurrence of a pattern that had already occurred (in an earlier story or earlier in the same one). The headline says how the repeated-error rate per event changed. -Brief returns at most 400 tokens.</para></remarks>
    /// <example>
    /// <code>Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2</code>
    /// Did story 1.2 repeat fewer errors than 1.1?
    /// </example>
    /// <example>
    /// <code>Compare-MadfStory 1.1 1.2 -Brief</code>
    /// The same comparison as one compact text (at most 400 tokens) for an agent's context.
    /// </example>
    /// <example>
    /// <code>Compare-MadfStory 1.1 1.2 -Agent dev | Select-Object Headline, ErrorRate</code>
    /// How the dev agent alone changed between the two stories.
    /// </example>
    /// <returns type="StoryComparison">One StoryComparison: both stories' metrics side by side, patterns gained and lost, and a headline.</returns>
    /// <returns type="String">With -Brief: one text of at most 400 tokens.</returns>
    [Cmdlet(VerbsData.Compare, "MadfStory")]
    [OutputType(typeof(StoryComparison), typeof(string))]
    public sealed class CompareMadfStoryCommand : MadfCmdlet
    {
        /// <summary>The earlier story.</summary>
        [Parameter(Mandatory = true, Position = 0)][ArgumentCompleter(typeof(StoryCompleter))] public string ReferenceStory { get; set; } = "";
        /// <summary>The story to compare with it.</summary>
        [Parameter(Mandatory = true, Position = 1)][ArgumentCompleter(typeof(StoryCompleter))] public string DifferenceStory { get; set; } = "";
        /// <summary>Only these agents (wildcards allowed, e.g. dev*). A name the database does not know is a non-terminating AgentNotFound error.</summary>
        [Parameter][SupportsWildcards][ArgumentCompleter(typeof(AgentCompleter))] public string[]? Agent { get; set; }
        /// <summary>Return one compact text (at most 400 tokens) instead of the object.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }
        /// <summary>Count the archived events too (the months retention moved to archive/madflog-YYYY-MM.db), not only the active window.</summary>
        [Parameter] public SwitchParameter IncludeArchive { get; set; }

        protected override bool IncludesArchives => IncludeArchive;

        protected override void EndProcessing()
        {
            var store = Store();
            var agents = Engine(() => Match(store, "agent_name", Agent, "Agent"));
            if (agents is { Length: 0 }) return;
            var result = Engine(() => store.CompareStories(ReferenceStory, DifferenceStory, new QueryFilter { Agents = agents }));
            foreach (var s in new[] { result.Reference, result.Difference }.Where(s => s.Events == 0))
                WriteWarning(string.Format(Messages.Culture, Messages.StoryHasNoEvents, s.Story, DatabasePath));
            if (Brief) WriteBrief(store, Briefs.Compare(result)); else WriteObject(result);
        }
    }

    /// <summary>Per story (in order) and per week: error rate, repeated-error rate, tokens per event and human interactions, with a forecast of the next story's error rate.</summary>
    /// <remarks><para>The forecast (Kind = Forecast) is a line through the stories' error rates on the logit scale, weighted by their events, with a 95% prediction interval that stays within 0-100%. BacktestError is its mean absolute one-step-ahead error over the past stories, NaiveBacktestError that of "same as the last story". Below 3 stories there is no forecast and a warning says so. -Brief returns at most 300 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfTrend | Where-Object Kind -eq Story</code>
    /// How each story did.
    /// </example>
    /// <example>
    /// <code>Get-MadfTrend | Where-Object Kind -eq Forecast</code>
    /// The forecast of the next story's error rate, with its 95% range.
    /// </example>
    /// <returns type="TrendPoint">One TrendPoint per story and per week (Kind Story or Week), and one with Kind Forecast for the next story when there are 3 stories or more.</returns>
    /// <returns type="String">With -Brief: one text of at most 300 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfTrend")]
    [OutputType(typeof(TrendPoint), typeof(string))]
    public sealed class GetMadfTrendCommand : AnalysisCmdlet
    {
        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.Trend(f);
            if (Brief) { WriteBrief(s, Briefs.Trend(items)); return; }
            if (!items.Exists(p => p.Kind == "Forecast"))
                WriteWarning(string.Format(Messages.Culture, Messages.ForecastMissing, StoryForecast.NotEnough(items.Count(p => p.Kind == "Story"))));
            WriteAll(items);
        }
    }

    /// <summary>Clarifications, approvals, corrections, rejections and interruptions by agent and story, and what they were about.</summary>
    /// <remarks><para>Topics are the messages grouped by the same template miner as errors. -Brief returns at most 200 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfHumanInteraction | Where-Object Category -eq clarification</code>
    /// What the agents had to ask about.
    /// </example>
    /// <example>
    /// <code>Get-MadfHumanInteraction -Story 1.2 -Top 3</code>
    /// The three largest groups of human interactions in story 1.2.
    /// </example>
    /// <returns type="HumanInteractionSummary">One HumanInteractionSummary per category, agent and story, largest first, with its topics.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfHumanInteraction")]
    [OutputType(typeof(HumanInteractionSummary), typeof(string))]
    public sealed class GetMadfHumanInteractionCommand : AnalysisCmdlet
    {
        /// <summary>How many category/agent/story groups to return, largest first.</summary>
        [Parameter][ValidateRange(1, int.MaxValue)] public int Top { get; set; } = 50;

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.HumanInteractions(f, Top);
            if (Brief) WriteBrief(s, Briefs.HumanInteractions(items)); else WriteAll(items);
        }
    }

    /// <summary>Failure rate per tool and agent, with each pair's most common error.</summary>
    /// <remarks><para>-Brief returns at most 200 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfToolFailure | Where-Object FailureRate -gt 0.2</code>
    /// Tools that fail more than one call in five.
    /// </example>
    /// <example>
    /// <code>Get-MadfToolFailure -Agent dev | Sort-Object FailureRate -Descending | Select-Object -First 3</code>
    /// The three tools that fail the dev agent most often.
    /// </example>
    /// <returns type="ToolFailure">One ToolFailure per tool and agent: calls, failures, failure rate and the most common error.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfToolFailure")]
    [OutputType(typeof(ToolFailure), typeof(string))]
    public sealed class GetMadfToolFailureCommand : AnalysisCmdlet
    {
        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.ToolFailures(f);
            if (Brief) WriteBrief(s, Briefs.ToolFailures(items)); else WriteAll(items);
        }
    }

    /// <summary>One summary per session: story, agents, start, end, duration, events, errors, tokens, peak context and human interactions.</summary>
    /// <remarks><para>-Brief returns at most 200 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfSession -Story 1.2 | Where-Object Errors -gt 5</code>
    /// The sessions of story 1.2 with more than five errors.
    /// </example>
    /// <example>
    /// <code>Get-MadfSession 1.2-dev-* | Sort-Object Errors -Descending | Select-Object -First 3</code>
    /// The three dev sessions of story 1.2 with the most errors (session ids take wildcards).
    /// </example>
    /// <returns type="SessionSummary">One SessionSummary per session: story, agents, start and end (UTC), duration, events, errors, tokens, peak context and human interactions.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfSession")]
    [OutputType(typeof(SessionSummary), typeof(string))]
    public sealed class GetMadfSessionCommand : AnalysisCmdlet
    {
        /// <summary>Only the session(s) with this id; wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("SessionId")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SessionCompleter))]
        public string? Id { get; set; }

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.Sessions(f, Id);
            if (Brief) WriteBrief(s, Briefs.Sessions(items)); else WriteAll(items);
        }
    }

    /// <summary>Sessions and agents that ran near the context limit (above 80%), and what followed: their error rate above and below it.</summary>
    /// <remarks><para>-Brief returns at most 200 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfContextPressure | Where-Object { $_.ErrorRateAbove80 -gt 2 * $_.ErrorRateBelow80 }</code>
    /// Sessions whose errors more than doubled once the context was nearly full.
    /// </example>
    /// <example>
    /// <code>Get-MadfContextPressure -Agent dev -Top 5</code>
    /// The five sessions of the dev agent that came closest to the context limit.
    /// </example>
    /// <returns type="ContextPressure">One ContextPressure per session or agent that went above 80% context, the closest to the limit first, with its error rate above and below.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfContextPressure")]
    [OutputType(typeof(ContextPressure), typeof(string))]
    public sealed class GetMadfContextPressureCommand : AnalysisCmdlet
    {
        /// <summary>How many sessions to return, the closest to the limit first.</summary>
        [Parameter][ValidateRange(1, int.MaxValue)] public int Top { get; set; } = 50;

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.ContextPressure(f, Top);
            if (!Brief) { WriteAll(items); return; }
            var (above, below, n) = s.ContextEffect(f);
            WriteBrief(s, Briefs.ContextPressure(items, above, below, n));
        }
    }

    /// <summary>The raw events with filters, streamed, for anything the other questions do not answer.</summary>
    /// <example>
    /// <code>Get-MadfEvent -Story 1.2 -Success $false -EventType tool_call | Where-Object Message -like '*timed out*'</code>
    /// The failed tool calls of story 1.2 that timed out.
    /// </example>
    /// <example>
    /// <code>Get-MadfSession -Story 1.2 | Select-Object -First 1 | Get-MadfEvent | Format-Table Timestamp, AgentName, EventType, Success, Message</code>
    /// Everything that happened in the first session of story 1.2 (the session binds by its SessionId).
    /// </example>
    /// <returns>One EventRecord per matching event, oldest first, streamed; Details is an object (DetailsJson keeps the stored text).</returns>
    [Cmdlet(VerbsCommon.Get, "MadfEvent")]
    [OutputType(typeof(EventRecord))]
    public sealed class GetMadfEventCommand : FilteredCmdlet
    {
        /// <summary>Only this session.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ArgumentCompleter(typeof(SessionCompleter))] public string? SessionId { get; set; }
        /// <summary>Only these event types (tool_call, llm_call, human_interaction, ...).</summary>
        [Parameter] public string[]? EventType { get; set; }
        /// <summary>Only these categories.</summary>
        [Parameter] public string[]? Category { get; set; }
        /// <summary>Only successful ($true) or failed ($false) events.</summary>
        [Parameter] public bool Success { get; set; }
        /// <summary>Only events of this error pattern.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public long PatternId { get; set; }
        /// <summary>At most this many events.</summary>
        [Parameter][ValidateRange(1, int.MaxValue)] public int First { get; set; }

        protected override void ProcessRecord()
        {
            var bound = MyInvocation.BoundParameters;
            var store = Store();
            Engine(() =>
            {
                var f = ResolveFilter(store);
                if (f == null) return;
                var ef = new Analysis.EventFilter
                {
                    EventTypes = EventType, Categories = Category, SessionId = SessionId,
                    Success = bound.ContainsKey(nameof(Success)) ? Success : (bool?)null,
                    PatternId = bound.ContainsKey(nameof(PatternId)) ? PatternId : (long?)null,
                    First = bound.ContainsKey(nameof(First)) ? First : (int?)null,
                };
                foreach (var e in store.Events(f, ef)) WriteObject(e);
            });
        }
    }
}
