using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MadfLog.Engine;
using MadfLog.Engine.Import;

namespace MadfLog.Commands.Import
{
    /// <summary>
    /// Imports JSONL logs (files, folders, wildcards; .jsonl and .jsonl.gz) into the MadfLog store, exactly once.
    /// </summary>
    /// <remarks>
    /// <para>Import-MadfLog reads QuickLogger JSONL files (one event per line) and Claude Code records: session transcripts, claude -p stream-json output, and JSON arrays of records such as hooks' logs/chat.json dumps. Folders are walked recursively for *.jsonl and *.jsonl.gz files, and *.json files that are arrays of Claude Code records.</para>
    /// <para>Each file is remembered by its path and a hash of its first bytes, with the byte offset of the last complete line, so a daily run reads only new lines; a moved (rotated) file is recognised, a truncated one is read again, and duplicate lines add nothing. A last line without its newline is left for the next run.</para>
    /// <para>Every line becomes an event or is quarantined with its file, line number and reason (see Get-MadfQuarantine); each quarantined line is also a non-terminating LineQuarantined error. The run returns one ImportResult.</para>
    /// </remarks>
    /// <example>
    /// <code>Import-MadfLog -Path ./logs</code>
    /// Imports every new line of every *.jsonl and *.jsonl.gz file under ./logs into the default database.
    /// </example>
    /// <example>
    /// <code>Get-ChildItem ./logs -Recurse -Filter *.jsonl | Import-MadfLog -Database ./team.db | Where-Object Quarantined -gt 0</code>
    /// Imports the files Get-ChildItem finds into ./team.db and shows the result only if some lines were quarantined. Claude Code transcripts (~/.claude/projects) import the same way.
    /// </example>
    /// <example>
    /// <code>Import-MadfLog ./logs/madf-*.jsonl -WhatIf</code>
    /// Shows how many new bytes each file would contribute, without reading or writing anything.
    /// </example>
    /// <returns>One ImportResult per run: files and lines read, events imported, duplicates, quarantined and blank lines, and the time taken. Nothing under -WhatIf or when every file was declined.</returns>
    [Cmdlet(VerbsData.Import, "MadfLog", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ImportResult))]
    public sealed class ImportMadfLogCommand : MadfCmdlet
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

        private readonly List<string> _files = new List<string>();

        /// <summary>Files or folders to import; wildcards are expanded.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Files or folders to import, used exactly as typed (no wildcard expansion).</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>Auto recognises each file; Madf (QuickLogger), ClaudeCode (projects/ transcripts), ClaudeCodeStream (claude -p stream-json) or ClaudeCodeJson (a JSON array of records, e.g. logs/chat.json) forces one.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(LogFormatCompleter))]
        [ValidateNotNullOrEmpty]
        public string Format { get; set; } = "Auto";

        /// <summary>Story id for events that carry none.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Story { get; set; }

        protected override void BeginProcessing()
        {
            if (!string.Equals(Format, "Auto", StringComparison.OrdinalIgnoreCase) && LogFormats.Find(Format) == null)
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException(string.Format(Messages.Culture, Messages.UnknownFormat, Format, string.Join(", ", LogFormats.Names))),
                    "UnknownFormat", ErrorCategory.InvalidArgument, Format));
        }

        protected override void ProcessRecord()
        {
            var literal = ParameterSetName == LiteralPathSet;
            _files.AddRange(ResolvePaths(literal ? LiteralPath : Path, literal));
        }

        protected override void EndProcessing()
        {
            if (_files.Count == 0) return;
            UpgradeStore();
            var options = new ImportOptions { DatabasePath = DatabasePath, Format = Format, Story = Story };
            var importer = Engine(() => new LogImporter(options));

            // -WhatIf/-Confirm: decide per file, from what would be read.
            // Folders are walked here (the import then gets the files): link loops and unreadable folders are reported now.
            var folderIssues = new List<ImportIssue>();
            var plan = Engine(() => importer.Plan(_files, folderIssues.Add));
            foreach (var issue in folderIssues) WriteImportIssue(issue);
            if (plan.Count == 0) WriteWarning(string.Format(Messages.Culture, Messages.NoLogFiles, string.Join(", ", _files.Select(f => "'" + f + "'"))));
            var approved = new List<string>();
            foreach (var item in plan)
            {
                var action = item.NothingNew
                    ? "Check for new lines (none since last import)"
                    : $"Import {(item.Length - item.StartOffset):N0} new bytes ({item.Format}) into {options.DatabasePath}";
                if (ShouldProcess(item.Path, action)) approved.Add(item.Path);
            }
            if (approved.Count == 0) return;

            if (!RunInBackground(run =>
                {
                    options.OnIssue = run.Issue;
                    options.Progress = run.ImportProgress;
                    options.Cancellation = run.Cancellation;
                    return importer.Import(approved);
                }, out var result))
                return; // Ctrl+C: committed batches stay, the next run resumes.
            WriteObject(result);
        }
    }

    /// <summary>Completes -Format with the formats the engine knows.</summary>
    public sealed class LogFormatCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
        {
            return new[] { "Auto" }.Concat(LogFormats.Names)
                .Where(n => n.StartsWith(wordToComplete ?? "", StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
    }
}
