using System.Collections.Generic;
using System.Management.Automation;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Patterns
{
    /// <summary>The pattern of one message.</summary>
    public sealed class MessagePattern
    {
        public MessagePattern(string message, long patternId, string template, string errorClass, string signature)
        {
            Message = message; PatternId = patternId; Template = template; ErrorClass = errorClass; Signature = signature;
        }
        public string Message { get; }
        public long PatternId { get; }
        public string Template { get; }
        /// <summary>The kind of error (TestFailure, PathNotFound, FileNotRead…), as Get-MadfErrorPattern shows it.</summary>
        public string ErrorClass { get; }
        /// <summary>What the pattern was mined over: the error's signature (the tool's message, or the program and kind of failure).</summary>
        public string Signature { get; }
    }

    /// <summary>Groups any messages into patterns with MadfLog's template miner: one object per input, in order.</summary>
    /// <remarks>
    /// <para>Strings, or objects with a Message property (and Tool and Command or Input, as Get-MadfEvent and Claude Code tool calls have them), come in from the pipeline. Patterns are mined over each error's signature, as Import-MadfLog does: for a shell tool, the program and subcommand that failed with the kind of failure its output shows; otherwise the tool's message. Variable parts (numbers, ids, paths, URLs, hosts, quoted text, dates) become &lt;*&gt;; messages that differ only there share a PatternId. A word position becomes a variable once at least four different words were seen there; errors that differ in a constant word stay separate.</para>
    /// <para>The ids are final for the whole input (later messages can widen a pattern), so results are written when the input ends. With -Database, messages are assigned to the patterns stored there (nothing is written).</para>
    /// </remarks>
    /// <example>
    /// <code>'File does not exist: src/a.py', 'File does not exist: tests/b.cs' | ConvertTo-MadfPattern</code>
    /// Both messages get the same PatternId with the template "File does not exist: &lt;*&gt;".
    /// </example>
    /// <example>
    /// <code>[pscustomobject]@{ Tool = 'Bash'; Command = 'uv run ruff check src/'; Message = "Exit code 1`nF401 unused import" } | ConvertTo-MadfPattern</code>
    /// The signature is "Bash ruff check lint or format check failed", class LintFailure, whatever ruff reported.
    /// </example>
    /// <example>
    /// <code>Get-MadfEvent -Success $false -First 200 | ConvertTo-MadfPattern | Group-Object Template -NoElement | Sort-Object Count -Descending</code>
    /// Groups the messages of 200 failed events (their Message property binds) and counts each pattern.
    /// </example>
    /// <returns>One MessagePattern per input message: the pattern id the import would give it, its template, error class and signature.</returns>
    [Cmdlet(VerbsData.ConvertTo, "MadfPattern")]
    [OutputType(typeof(MessagePattern))]
    public sealed class ConvertToMadfPatternCommand : MadfCmdlet
    {
        private TemplateMiner? _miner;
        private readonly List<(string Message, ErrorSignature Signature, MinedPattern Pattern)> _seen = new List<(string, ErrorSignature, MinedPattern)>();

        /// <summary>The message to group (objects bind their Message property).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Message { get; set; } = "";

        /// <summary>The tool that failed (Bash, Edit, Read…); shell tools are grouped by the program their command ran.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Tool { get; set; }

        /// <summary>The call's command (for shell tools) or input.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Input", "Target")]
        public string? Command { get; set; }

        protected override void BeginProcessing()
        {
            if (Database == null) { _miner = new TemplateMiner(); return; }
            var store = Store();
            _miner = Engine(() => store.LoadMiner());
        }

        protected override void ProcessRecord()
        {
            var signature = ErrorSignature.Of(Tool, Command, Message);
            _seen.Add((Message, signature, _miner!.Add(signature.Text)));
        }

        protected override void EndProcessing()
        {
            foreach (var (message, signature, pattern) in _seen)
            {
                var final = _miner!.Resolve(pattern);
                WriteObject(new MessagePattern(message, final.Id, TemplateMiner.Display(signature.Text, final.Tokens), signature.ErrorClass, signature.Text));
            }
        }
    }
}
