using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import.ClaudeCode
{
    /// <summary>
    /// Claude Code session transcripts (~/.claude/projects/&lt;project&gt;/&lt;sessionId&gt;.jsonl and
    /// &lt;sessionId&gt;/subagents/agent-&lt;id&gt;.jsonl). The format is internal to Claude Code and changes between versions,
    /// so parsing is lenient: unknown record types are skipped, not quarantined.
    /// Mapping: tool_use + tool_result → tool_call; each API response (message.id, requestId) → one llm_call with its
    /// usage counted once; rejections, interruptions and AskUserQuestion → human_interaction.
    /// </summary>
    /// <summary>
    /// Claude Code session transcripts (~/.claude/projects/&lt;project&gt;/&lt;sessionId&gt;.jsonl and
    /// &lt;sessionId&gt;/subagents/agent-&lt;id&gt;.jsonl). The format is internal to Claude Code and changes between versions,
    /// so parsing is lenient: unknown record types are skipped, not quarantined.
    /// Mapping: tool_use + tool_result → tool_call; each API response (message.id) → one llm_call with its
    /// usage counted once; rejections, interruptions and AskUserQuestion → human_interaction.
    /// The other shapes (<see cref="ClaudeCodeStreamFormat"/>, <see cref="ClaudeCodeJsonFormat"/>) use the same parser,
    /// and keys that do not depend on the shape, so one session imported in several shapes is counted once.
    /// </summary>
    public sealed class ClaudeCodeFormat : ILogFormat
    {
        public string Name => "ClaudeCode";

        public bool Recognizes(string path, ReadOnlySpan<byte> firstLine) => IsTranscriptRecord(RecordHead.Read(firstLine));

        public ILineParser CreateParser(LogFileContext file) => new TranscriptParser(file.Path, file.Options.Story, Shape.Transcript) { Unsplit = file.KeepDetailsUnsplit ? new UnsplitDetails() : null };

        /// <summary>A record as Claude Code writes it under projects/ (and hooks dump as chat.json).</summary>
        internal static bool IsTranscriptRecord(RecordHead? head) =>
            head != null && (head.Has("sessionId") || head.Has("parentUuid") || head.Has("leafUuid")
                             || head.Type == "file-history-snapshot" || head.Type == "summary");

        /// <summary>A record as <c>claude -p --output-format stream-json</c> writes it (snake_case session_id).</summary>
        internal static bool IsStreamRecord(RecordHead? head) =>
            head != null && !head.Has("sessionId") && (head.Has("parent_tool_use_id")
                || head.Has("session_id") && (head.Type == "system" || head.Type == "assistant" || head.Type == "user" || head.Type == "result" || head.Type == "stream_event"));

        /// <summary>The context window assumed for context_percent (input + cache tokens of a response).</summary>
        public const double ContextWindowTokens = 200_000;

        /// <summary>How full a response's context was, in percent of <see cref="ContextWindowTokens"/>: what it read (input and cache).</summary>
        public static double ContextPercentOf(long inputTokens, long cacheCreationTokens, long cacheReadTokens) =>
            Math.Round(Math.Min(100, (inputTokens + cacheCreationTokens + cacheReadTokens) / ContextWindowTokens * 100), 1);

        private static readonly Regex StoryInBranch = new Regex(@"(?:story[-_/]?)(\d+)[._-](\d+)|^(\d+)-(\d+)(?:-|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>A story id found in a git branch name: story-1.2, feature/story_3-4, 1-2-login → 1.2.</summary>
        public static string? StoryFromBranch(string? branch)
        {
            if (string.IsNullOrEmpty(branch)) return null;
            var m = StoryInBranch.Match(branch);
            if (!m.Success) m = StoryInBranch.Match(branch!.Split('/').Last()); // "feature/1-2-login"
            if (!m.Success) return null;
            return m.Groups[1].Success ? m.Groups[1].Value + "." + m.Groups[2].Value : m.Groups[3].Value + "." + m.Groups[4].Value;
        }

        /// <summary>The project folder a transcript belongs to (the workflow id).</summary>
        public static string ProjectOf(string path)
        {
            var dir = Path.GetDirectoryName(path) ?? "";
            if (string.Equals(Path.GetFileName(dir), "subagents", StringComparison.OrdinalIgnoreCase))
                dir = Path.GetDirectoryName(Path.GetDirectoryName(dir) ?? "") ?? "";
            return Path.GetFileName(dir);
        }

        private static readonly Regex NotAlphanumeric = new Regex("[^A-Za-z0-9]", RegexOptions.CultureInvariant);

        /// <summary>The project a working directory stands for, named as Claude Code names its projects/ folder (/work/app → -work-app).</summary>
        public static string ProjectOfCwd(string cwd) => NotAlphanumeric.Replace(cwd, "-");

        /// <summary>For a sub-agent transcript, its type: agent-&lt;id&gt;.meta.json agentType, else the parent session's Task/Agent call.</summary>
        public static string? SubagentTypeOf(string path)
        {
            var dir = Path.GetDirectoryName(path) ?? "";
            if (!string.Equals(Path.GetFileName(dir), "subagents", StringComparison.OrdinalIgnoreCase)) return null;
            var file = Path.GetFileNameWithoutExtension(path);
            if (file.StartsWith("agent-acompact", StringComparison.OrdinalIgnoreCase)) return "compact";
            var meta = Path.Combine(dir, file + ".meta.json");
            if (File.Exists(meta))
            {
                try
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(meta));
                    if (doc.RootElement.TryGetProperty("agentType", out var t) && t.ValueKind == JsonValueKind.String) return t.GetString();
                }
                catch (JsonException) { }
                catch (IOException) { }
            }
            var agentId = file.StartsWith("agent-", StringComparison.OrdinalIgnoreCase) ? file.Substring(6) : file;
            var sessionFolder = Path.GetDirectoryName(dir) ?? "";
            var parent = sessionFolder + ".jsonl";
            if (File.Exists(parent))
            {
                var types = SubagentScan.Scan(parent);
                if (types.TryGetValue(agentId, out var type)) return type;
            }
            return "subagent";
        }
    }

    /// <summary>
    /// The <c>claude -p --output-format stream-json --verbose</c> stream of headless and CI runs: a system/init record,
    /// assistant/user records with session_id and parent_tool_use_id but no uuid or timestamp, and a final result record.
    /// </summary>
    public sealed class ClaudeCodeStreamFormat : ILogFormat
    {
        public string Name => "ClaudeCodeStream";

        public bool Recognizes(string path, ReadOnlySpan<byte> firstLine) => ClaudeCodeFormat.IsStreamRecord(RecordHead.Read(firstLine));

        public ILineParser CreateParser(LogFileContext file) => new TranscriptParser(file.Path, file.Options.Story, Shape.Stream) { Unsplit = file.KeepDetailsUnsplit ? new UnsplitDetails() : null };
    }

    /// <summary>
    /// A JSON array of Claude Code records: a transcript dumped whole by hooks (logs/chat.json, rewritten every session) or
    /// the array <c>claude -p --output-format json --verbose</c> prints. Each element is read as one record.
    /// </summary>
    public sealed class ClaudeCodeJsonFormat : IJsonArrayFormat
    {
        public string Name => "ClaudeCodeJson";

        /// <summary>Asked with the array's first element.</summary>
        public bool Recognizes(string path, ReadOnlySpan<byte> firstRecord)
        {
            var head = RecordHead.Read(firstRecord);
            return ClaudeCodeFormat.IsTranscriptRecord(head) || ClaudeCodeFormat.IsStreamRecord(head);
        }

        public ILineParser CreateParser(LogFileContext file) => new TranscriptParser(file.Path, file.Options.Story, Shape.Array) { Unsplit = file.KeepDetailsUnsplit ? new UnsplitDetails() : null };
    }

    /// <summary>How the records of a file reached us; the records themselves may be transcript or stream records in any.</summary>
    internal enum Shape { Transcript, Stream, Array }

    /// <summary>Reads a parent session for agentId → subagent_type (Task/Agent tool_use input, linked by agent_progress or toolUseResult.agentId).</summary>
    internal static class SubagentScan
    {
        public static Dictionary<string, string> Scan(string sessionFile)
        {
            var typeByToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
            var agentToToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using var stream = new FileStream(sessionFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                string? line;
                var record = new TranscriptRecord();
                while ((line = reader.ReadLine()) != null)
                {
                    if (line.IndexOf("subagent_type", StringComparison.Ordinal) < 0 && line.IndexOf("agentId", StringComparison.Ordinal) < 0) continue;
                    try
                    {
                        var bytes = Encoding.UTF8.GetBytes(line);
                        record.Read(bytes, bytes.Length);
                        if (record.Root.IsObject) TranscriptParser.CollectSubagentLinks(record, typeByToolUse, agentToToolUse);
                    }
                    catch (JsonException) { }
                }
            }
            catch (IOException) { }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in agentToToolUse)
                if (typeByToolUse.TryGetValue(kv.Value, out var type)) result[kv.Key] = type;
            return result;
        }
    }
}
