using System.Management.Automation;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Import
{
    /// <summary>Lists the input lines that could not become events, with file, line number, reason and raw text.</summary>
    [Cmdlet(VerbsCommon.Get, "MadfQuarantine")]
    [OutputType(typeof(QuarantinedLine))]
    public sealed class GetMadfQuarantineCommand : MadfCmdlet
    {
        /// <summary>Only lines from files whose path matches this wildcard.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        public string? File { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int First { get; set; }

        protected override void EndProcessing()
        {
            using var connection = Engine(() => MadfDatabase.Open(DatabasePath, forWrite: false));
            var pattern = File == null ? null : new WildcardPattern(File, WildcardOptions.IgnoreCase);
            var taken = 0;
            foreach (var line in QuarantineStore.List(connection))
            {
                if (pattern != null && !pattern.IsMatch(line.File) && !pattern.IsMatch(System.IO.Path.GetFileName(line.File))) continue;
                WriteObject(line);
                if (MyInvocation.BoundParameters.ContainsKey(nameof(First)) && ++taken >= First) break;
            }
        }
    }
}
