using MadfLog.Engine.Briefing;
using System.Management.Automation;
using MadfLog.Engine.Lifecycle;

namespace MadfLog.Commands.Lifecycle
{
    /// <summary>Shows how much room MadfLog takes: the active database, archives and log folders, events per month and bytes per event.</summary>
    /// <example>
    /// <code>Get-MadfStorage | Where-Object OverBudget</code>
    /// Returns the storage report only when the active database is over its size budget.
    /// </example>
    /// <example>
    /// <code>Get-MadfStorage -Brief</code>
    /// The storage figures in at most 100 tokens.
    /// </example>
    /// <returns type="StorageReport">One StorageReport: the active database's size against its budget, the archive databases and logs, and events active and archived per period.</returns>
    /// <returns type="String">With -Brief: one compact text.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfStorage")]
    [OutputType(typeof(StorageReport), typeof(string))]
    public sealed class GetMadfStorageCommand : MadfCmdlet
    {
        /// <summary>Return one compact text (at most 100 tokens) instead of the object.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }

        protected override void EndProcessing()
        {
            UpgradeStore();
            var report = Engine(() => StorageReport.Get(DatabasePath));
            WriteObject(Brief ? MoreBriefs.Storage(report) : (object)report);
        }
    }
}
