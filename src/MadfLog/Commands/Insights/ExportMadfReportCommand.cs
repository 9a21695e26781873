using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using MadfLog.Engine;
using MadfLog.Commands.Query;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Query;

namespace MadfLog.Commands.Insights
{
    /// <summary>Writes one self-contained HTML report: headline figures, trends, top error patterns with sparklines, agents, bottlenecks, human interactions, rules and their effectiveness, storage and health.</summary>
    /// <remarks><para>The file has no scripts, fonts or external links, so it opens offline and is safe to mail; charts are inline SVG that follow the reader's light or dark mode. Invoke-MadfRevision writes one for each week next to its markdown report.</para></remarks>
    /// <example>
    /// <code>Export-MadfReport -Path ./week.html -Since (Get-Date).AddDays(-7)</code>
    /// Writes last week's report; add -Open to open it in the default browser.
    /// </example>
    /// <example>
    /// <code>Export-MadfReport ./story-1.2.html -Story 1.2 -WhatIf</code>
    /// Shows where the report of story 1.2 would be written, without writing it.
    /// </example>
    /// <returns>The FileInfo of the HTML report written (nothing under -WhatIf).</returns>
    [Cmdlet(VerbsData.Export, "MadfReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportMadfReportCommand : FilteredCmdlet
    {
        /// <summary>The HTML file to write; default madflog-report.html in the current location.</summary>
        [Parameter(Position = 0)] public string Path { get; set; } = "madflog-report.html";
        /// <summary>Open the report in the default browser.</summary>
        [Parameter] public SwitchParameter Open { get; set; }

        protected override void EndProcessing()
        {
            var target = ResolveOutputPath(Path);
            // A typo in -Path must not leave new folders behind: the folder has to exist.
            var folder = System.IO.Path.GetDirectoryName(target);
            if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
                ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException(string.Format(Messages.Culture, Messages.ReportFolderNotFound, folder)),
                    "ReportFolderNotFound", ErrorCategory.ObjectNotFound, folder));
            var store = Store();
            var filter = ResolveFilter(store);
            if (filter == null) return;
            if (!ShouldProcess(target, "Write the MadfLog HTML report")) return;
            // store.Path: the database, or under -IncludeArchive the store of its active and archived events.
            var html = Engine(() => HtmlReport.Build(store.Path, filter, DateTimeOffset.UtcNow));
            var written = Engine(() => HtmlReport.Write(target, html));
            WriteObject(new FileInfo(written));
            if (Open) OpenInBrowser(written);
        }

        private void OpenInBrowser(string file)
        {
            try
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) Process.Start(new ProcessStartInfo(file) { UseShellExecute = true });
                else Process.Start(RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "open" : "xdg-open", "\"" + file + "\"");
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException)
            {
                WriteWarning(string.Format(Messages.Culture, Messages.BrowserNotOpened, ex.Message, file));
            }
        }
    }
}
