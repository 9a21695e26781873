using System.Management.Automation;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Import
{
    /// <summary>Lists the input lines that could not become events, with file, line number, reason and raw text.</summary>
    /// <remarks>
    /// <para>Import-MadfLog never drops a line silently: a line that is not valid JSON or lacks a required field is kept in the quarantine table. Fix the source and import it again, or inspect the reasons here.</para>
    /// </remarks>
    /// <example>
    /// <code>Get-MadfQuarantine madf-2026-11-* | Where-Object Reason -like '*timestamp*'</code>
    /// Shows the quarantined lines of November's QuickLogger files whose timestamp could not be read.
    /// </example>
    /// <example>
    /// <code>Get-MadfQuarantine -First 10 | Format-List File, Line, Reason, Raw</code>
    /// The first ten quarantined lines with the reason each could not be imported.
    /// </example>
    /// <returns>One QuarantinedLine per line that could not become an event: file, line number, reason and the raw text.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfQuarantine")]
    [OutputType(typeof(QuarantinedLine))]
    public sealed class GetMadfQuarantineCommand : MadfCmdlet
    {
        /// <summary>Only lines from files whose path matches this wildcard.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        public string? File { get; set; }

        /// <summary>Return at most this many lines.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int First { get; set; }

        protected override void EndProcessing()
        {
            var store = Store();
            var pattern = File == null ? null : new WildcardPattern(File, WildcardOptions.IgnoreCase);
            var taken = 0;
            Engine(() =>
            {
                foreach (var line in store.Quarantine())
                {
                    if (pattern != null && !pattern.IsMatch(line.File) && !pattern.IsMatch(System.IO.Path.GetFileName(line.File))) continue;
                    WriteObject(line);
                    if (MyInvocation.BoundParameters.ContainsKey(nameof(First)) && ++taken >= First) break;
                }
            });
        }
    }
}
