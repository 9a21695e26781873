using System.Management.Automation;
using MadfLog.Engine.Lifecycle;

namespace MadfLog.Commands.Lifecycle
{
    /// <summary>Shows how much room MadfLog takes: the active database, archives and log folders, events per month and bytes per event.</summary>
    /// <example>
    /// <code>Get-MadfStorage | Where-Object OverBudget</code>
    /// Returns the storage report only when the active database is over its size budget.
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MadfStorage")]
    [OutputType(typeof(StorageReport))]
    public sealed class GetMadfStorageCommand : MadfCmdlet
    {
        protected override void EndProcessing() => WriteObject(Engine(() => StorageReport.Get(DatabasePath)));
    }
}
