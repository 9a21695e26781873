using System.Collections.Generic;
using System.Management.Automation;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Patterns
{
    /// <summary>The pattern of one message.</summary>
    public sealed class MessagePattern
    {
        public MessagePattern(string message, long patternId, string template) { Message = message; PatternId = patternId; Template = template; }
        public string Message { get; }
        public long PatternId { get; }
        public string Template { get; }
    }

    /// <summary>Groups any messages into patterns with MadfLog's template miner: one object per input, in order.</summary>
    /// <remarks>
    /// <para>Strings, or objects with a Message property, come in from the pipeline. Variable parts (numbers, ids, paths, URLs, hosts, quoted text, dates) become &lt;*&gt;; messages that differ only there share a PatternId. A word position becomes a variable once at least four different words were seen there; errors that differ in a constant word stay separate.</para>
    /// <para>The ids are final for the whole input (later messages can widen a pattern), so results are written when the input ends. With -Database, messages are assigned to the patterns stored there (nothing is written).</para>
    /// </remarks>
    /// <example>
    /// <code>'File does not exist: src/a.py', 'File does not exist: tests/b.cs' | ConvertTo-MadfPattern</code>
    /// Both messages get the same PatternId with the template "File does not exist: &lt;*&gt;".
    /// </example>
    [Cmdlet(VerbsData.ConvertTo, "MadfPattern")]
    [OutputType(typeof(MessagePattern))]
    public sealed class ConvertToMadfPatternCommand : MadfCmdlet
    {
        private TemplateMiner? _miner;
        private readonly List<(string Message, MinedPattern Pattern)> _seen = new List<(string, MinedPattern)>();

        /// <summary>The message to group (objects bind their Message property).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Message { get; set; } = "";

        protected override void BeginProcessing()
        {
            if (Database == null) { _miner = new TemplateMiner(); return; }
            using var c = Engine(() => MadfDatabase.Open(DatabasePath, forWrite: false));
            _miner = PatternStore.LoadMiner(c);
        }

        protected override void ProcessRecord() => _seen.Add((Message, _miner!.Add(Message)));

        protected override void EndProcessing()
        {
            foreach (var (message, pattern) in _seen)
            {
                var final = _miner!.Resolve(pattern);
                WriteObject(new MessagePattern(message, final.Id, TemplateMiner.Display(message, final.Tokens)));
            }
        }
    }
}
