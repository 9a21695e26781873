using MadfLog.Engine.Briefing;
using System;
using System.Management.Automation;
using MadfLog.Engine.Insights;

namespace MadfLog.Commands.Rules
{
    /// <summary>Returns the health of the loop (OK, Warning or Critical) with each check, and writes a warning for each problem.</summary>
    /// <remarks><para>Checks, with thresholds from Set-MadfConfig: error rate up more than ErrorRateIncreasePercent week over week; a pattern newly at or above the rule threshold; more than MaxQuarantinePercent of last week's lines quarantined; the active database over MaxActiveMB; no import for MaxImportAgeDays. Critical means twice the threshold.</para></remarks>
    /// <example>
    /// <code>if ((Get-MadfHealth -WarningAction SilentlyContinue).Status -ne 'OK') { Write-Warning 'MadfLog needs attention: run Get-MadfHealth' }</code>
    /// Lets a scheduled job or an admin script act on the loop's health.
    /// </example>
    /// <example>
    /// <code>Get-MadfHealth -Brief</code>
    /// The health of the loop in at most 100 tokens.
    /// </example>
    /// <returns type="HealthReport">One HealthReport: the overall status and each check (last import, quarantine share, error-rate change, new frequent patterns, ...) with its value, threshold and message.</returns>
    /// <returns type="String">With -Brief: one compact text.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfHealth")]
    [OutputType(typeof(HealthReport), typeof(string))]
    public sealed class GetMadfHealthCommand : MadfCmdlet
    {
        /// <summary>Return one compact text (at most 100 tokens) instead of the object.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }

        protected override void EndProcessing()
        {
            UpgradeStore();
            var report = Engine(() => Health.Check(DatabasePath, DateTimeOffset.UtcNow));
            if (Brief) { WriteObject(MoreBriefs.Health(report)); return; }
            foreach (var p in report.Problems) WriteWarning($"{p.Name}: {p.Message}");
            WriteObject(report);
        }
    }
}
