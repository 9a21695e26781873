using System.Management.Automation;
using MadfLog.Commands.Query;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Query;
using MadfLog.Engine.Briefing;

namespace MadfLog.Commands.Patterns
{
    /// <summary>Error patterns with counts, share of errors, per-story and per-agent breakdowns, first and last seen, and examples.</summary>
    /// <remarks><para>Patterns come from the template miner at import time: messages that differ only in variable parts share one. -Brief returns at most 300 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfErrorPattern -Top 5 | ForEach-Object { $_.ByStory }</code>
    /// How the five most frequent error patterns spread over the stories.
    /// </example>
    /// <example>
    /// <code>Get-MadfErrorPattern -Story 1.2 -Brief</code>
    /// The error patterns of story 1.2 as one compact text (at most 300 tokens).
    /// </example>
    /// <returns type="ErrorPattern">One ErrorPattern per pattern, largest first: count, share, breakdowns by story and agent, first and last seen, examples.</returns>
    /// <returns type="String">With -Brief: one text of at most 300 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfErrorPattern")]
    [OutputType(typeof(ErrorPattern), typeof(string))]
    public sealed class GetMadfErrorPatternCommand : AnalysisCmdlet
    {
        /// <summary>How many patterns to return (largest first).</summary>
        [Parameter][ValidateRange(1, 100000)] public int Top { get; set; } = 20;

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.ErrorPatterns(f, Brief ? 200 : Top);
            if (Brief) WriteBrief(s, MoreBriefs.ErrorPatterns(items, s.CountErrors(f))); else WriteAll(items);
        }
    }

    /// <summary>Recurring error sequences: retry loops (the same error again and again in a session) and short step sequences that often end in an error.</summary>
    /// <remarks><para>A retry loop is a run of two or more consecutive errors of one pattern in a session. A leads-to-error sequence is the three steps (tool and outcome) before an error, seen at least -MinSupport times. Both kinds come in turn, the most frequent of each first (a loop counts runs and a sequence the errors after it, so one kind's larger counts must not hide the other): -Top 10 is the five most frequent of each when both have five. -Brief returns at most 200 tokens.</para></remarks>
    /// <example>
    /// <code>Get-MadfErrorSequence -Kind RetryLoop -Top 5</code>
    /// The five errors agents most often kept retrying without changing their approach.
    /// </example>
    /// <example>
    /// <code>Get-MadfErrorSequence -Story 1.2 -Brief</code>
    /// The recurring sequences of story 1.2 as one compact text for an agent's context.
    /// </example>
    /// <returns type="ErrorSequence">One ErrorSequence per recurring sequence (a retry loop or steps that lead to an error), the most frequent first.</returns>
    /// <returns type="String">With -Brief: one text of at most 200 tokens.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfErrorSequence")]
    [OutputType(typeof(ErrorSequence), typeof(string))]
    public sealed class GetMadfErrorSequenceCommand : AnalysisCmdlet
    {
        /// <summary>How many sequences to return: both kinds in turn, the most frequent of each first.</summary>
        [Parameter][ValidateRange(1, 10000)] public int Top { get; set; } = 10;

        /// <summary>How often a leads-to-error sequence must occur to be reported.</summary>
        [Parameter][ValidateRange(1, 1000000)] public int MinSupport { get; set; } = 3;

        /// <summary>Only this kind: RetryLoop or LeadsToError.</summary>
        [Parameter][ValidateSet("RetryLoop", "LeadsToError")] public string? Kind { get; set; }

        protected override void Answer(MadfStore s, QueryFilter f)
        {
            var items = s.ErrorSequences(f, Top, MinSupport, Kind);
            if (Brief) WriteBrief(s, MoreBriefs.ErrorSequences(items)); else WriteAll(items);
        }
    }
}
