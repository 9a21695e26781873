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
    public sealed class ClaudeCodeFormat : ILogFormat
    {
        public string Name => "ClaudeCode";

        public bool Recognizes(string path, ReadOnlySpan<byte> firstLine)
        {
            foreach (var marker in new[] { "\"sessionId\"", "\"parentUuid\"", "\"type\":\"file-history-snapshot\"", "\"type\":\"summary\"", "\"leafUuid\"" })
                if (firstLine.IndexOf(Encoding.ASCII.GetBytes(marker)) >= 0) return true;
            return false;
        }

        public ILineParser CreateParser(LogFileContext file) => new TranscriptParser(file.Path, file.Options.Story);

        /// <summary>The context window assumed for context_percent (input + cache tokens of a response).</summary>
        public const double ContextWindowTokens = 200_000;

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
                while ((line = reader.ReadLine()) != null)
                {
                    if (line.IndexOf("subagent_type", StringComparison.Ordinal) < 0 && line.IndexOf("agentId", StringComparison.Ordinal) < 0) continue;
                    try
                    {
                        using var doc = JsonDocument.Parse(line);
                        TranscriptParser.CollectSubagentLinks(doc.RootElement, typeByToolUse, agentToToolUse);
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

    internal sealed class TranscriptParser : ILineParser
    {
        private sealed class PendingToolUse
        {
            public string Name = "";
            public long Timestamp;
            public long Offset;
            public string Agent = "main";
            public string? Target;
            public string? Question;
        }

        private readonly string _path;
        private readonly string? _story;
        private readonly string _project;
        private readonly string? _fileAgent;
        private readonly Dictionary<string, PendingToolUse> _pending = new Dictionary<string, PendingToolUse>(StringComparer.Ordinal);
        // Largest usage seen per response (message.id, requestId): its lines repeat the usage, growing to the final figure.
        private readonly Dictionary<string, long> _responses = new Dictionary<string, long>(StringComparer.Ordinal);
        // Records that rejected a tool call: the "[Request interrupted by user for tool use]" that follows is part of that rejection.
        private readonly HashSet<string> _rejections = new HashSet<string>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _typeByToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _agentToToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
        private long _latest;

        public TranscriptParser(string path, string? story)
        {
            _path = path;
            _story = story;
            _project = ClaudeCodeFormat.ProjectOf(path);
            _fileAgent = ClaudeCodeFormat.SubagentTypeOf(path);
        }

        /// <summary>The oldest tool call still waiting for its result; ones older than an hour before the newest record are given up.</summary>
        public long? EarliestPendingOffset
        {
            get
            {
                long? earliest = null;
                foreach (var p in _pending.Values)
                    if (_latest - p.Timestamp < 3_600_000 && (earliest == null || p.Offset < earliest)) earliest = p.Offset;
                return earliest;
            }
        }

        public LineOutcome Parse(ReadOnlySpan<byte> line, long lineNumber, long lineOffset, List<EventRow> output, out string? reason)
        {
            reason = null;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line.ToArray()); }
            catch (JsonException ex)
            {
                reason = "invalid JSON: " + ex.Message.Split('\n')[0];
                return LineOutcome.Quarantined;
            }
            using (doc)
            {
                var r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object) { reason = "not a JSON object"; return LineOutcome.Quarantined; }
                var type = Str(r, "type");
                if (type == null) { reason = "transcript record without 'type'"; return LineOutcome.Quarantined; }
                CollectSubagentLinks(r, _typeByToolUse, _agentToToolUse);
                if (type != "assistant" && type != "user") return LineOutcome.Skipped; // snapshots, progress, queue operations, system, summaries…

                var ts = Timestamp(r);
                if (ts == null) { reason = $"{type} record without a valid 'timestamp'"; return LineOutcome.Quarantined; }
                if (!r.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
                {
                    reason = $"{type} record without 'message'";
                    return LineOutcome.Quarantined;
                }
                _latest = Math.Max(_latest, ts.Value);
                var ctx = new Context
                {
                    Timestamp = ts.Value,
                    Session = Str(r, "sessionId"),
                    Agent = AgentOf(r),
                    Story = _story ?? ClaudeCodeFormat.StoryFromBranch(Str(r, "gitBranch")),
                    Uuid = Str(r, "uuid") ?? (lineOffset.ToString(CultureInfo.InvariantCulture) + "@" + _path),
                    ParentUuid = Str(r, "parentUuid"),
                };
                if (type == "assistant") Assistant(r, message, ctx, lineOffset, output);
                else User(r, message, ctx, output);
                return LineOutcome.Parsed;
            }
        }

        private sealed class Context
        {
            public long Timestamp;
            public string? Session;
            public string Agent = "main";
            public string? Story;
            public string Uuid = "";
            public string? ParentUuid;
        }

        private string AgentOf(JsonElement r)
        {
            var sidechain = r.TryGetProperty("isSidechain", out var s) && s.ValueKind == JsonValueKind.True;
            if (!sidechain) return "main";
            if (_fileAgent != null) return _fileAgent;
            var agentId = Str(r, "agentId");
            if (agentId != null && _agentToToolUse.TryGetValue(agentId, out var toolUse) && _typeByToolUse.TryGetValue(toolUse, out var type)) return type;
            return "subagent";
        }

        private void Assistant(JsonElement r, JsonElement message, Context ctx, long offset, List<EventRow> output)
        {
            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in content.EnumerateArray())
                {
                    if (Str(block, "type") != "tool_use") continue;
                    var id = Str(block, "id");
                    if (id == null) continue;
                    var pending = new PendingToolUse { Name = Str(block, "name") ?? "unknown", Timestamp = ctx.Timestamp, Offset = offset, Agent = ctx.Agent };
                    if (block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object)
                    {
                        pending.Target = Str(input, "file_path") ?? Str(input, "path") ?? Str(input, "pattern") ?? Str(input, "command") ?? Str(input, "url") ?? Str(input, "description");
                        if (pending.Name == "AskUserQuestion" && input.TryGetProperty("questions", out var qs) && qs.ValueKind == JsonValueKind.Array)
                            pending.Question = string.Join(" / ", qs.EnumerateArray().Select(q => Str(q, "question")).Where(q => q != null));
                    }
                    _pending[id] = pending;
                }
            }

            // One API response is written as one line per content block, each repeating the usage: count it once (by its
            // dedup key), keeping the largest usage, which is the final one.
            var messageId = Str(message, "id");
            var requestId = Str(r, "requestId");
            if (messageId == null || !message.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object) return;
            long inputTokens = Num(usage, "input_tokens"), outputTokens = Num(usage, "output_tokens"),
                 cacheCreate = Num(usage, "cache_creation_input_tokens"), cacheRead = Num(usage, "cache_read_input_tokens");
            var details = new Dictionary<string, object?>
            {
                ["model"] = Str(message, "model"), ["message_id"] = messageId, ["request_id"] = requestId,
                ["input_tokens"] = inputTokens, ["output_tokens"] = outputTokens,
                ["cache_creation_input_tokens"] = cacheCreate, ["cache_read_input_tokens"] = cacheRead,
                ["stop_reason"] = Str(message, "stop_reason"),
            };
            var total = inputTokens + outputTokens + cacheCreate + cacheRead;
            var key = messageId + "\u001f" + requestId;
            if (_responses.TryGetValue(key, out var seen) && seen >= total) return;
            _responses[key] = total;
            var row = Row(ctx, "llm_call", "model", true, details);
            row.TokensUsed = total;
            row.KeepLargestTokens = true;
            row.ContextPercent = Math.Round(Math.Min(100, (inputTokens + cacheCreate + cacheRead) / ClaudeCodeFormat.ContextWindowTokens * 100), 1);
            row.DedupKey = StableHash.Hash("cc:llm", messageId, requestId);
            output.Add(row);
        }

        private void User(JsonElement r, JsonElement message, Context ctx, List<EventRow> output)
        {
            if (!message.TryGetProperty("content", out var content)) return;
            if (content.ValueKind == JsonValueKind.String)
            {
                Interruption(content.GetString(), ctx, 0, output);
                return;
            }
            if (content.ValueKind != JsonValueKind.Array) return;
            var index = 0;
            foreach (var block in content.EnumerateArray())
            {
                index++;
                var blockType = Str(block, "type");
                if (blockType == "text") { Interruption(Str(block, "text"), ctx, index, output); continue; }
                if (blockType != "tool_result") continue;
                var toolUseId = Str(block, "tool_use_id");
                if (toolUseId == null) continue;
                _pending.TryGetValue(toolUseId, out var use);
                _pending.Remove(toolUseId);
                var isError = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
                var text = ResultText(block);
                var details = new Dictionary<string, object?>
                {
                    ["tool"] = use?.Name ?? "unknown", ["tool_use_id"] = toolUseId, ["target"] = Shorten(use?.Target, 300),
                };
                var cascade = isError && text != null && text.IndexOf("Sibling tool call errored", StringComparison.OrdinalIgnoreCase) >= 0;
                if (isError) details["message"] = Shorten(CleanError(text), 2000);
                if (cascade) details["cascade"] = true;
                var row = Row(ctx, "tool_call", cascade ? "cascade" : "tool", !isError, details);
                row.AgentName = use?.Agent ?? ctx.Agent;
                row.DurationMs = ToolDuration(r) ?? (use != null ? Math.Max(0, ctx.Timestamp - use.Timestamp) : (long?)null);
                row.DedupKey = StableHash.Hash("cc:tool", toolUseId);
                if (isError) row.Message = (string?)details["message"];
                output.Add(row);

                // What a human did: rejected the call, interrupted it, or answered a question.
                if (text != null && text.IndexOf("doesn't want to proceed", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    _rejections.Add(ctx.Uuid);
                    output.Add(Human(ctx, "rejection", $"Rejected {use?.Name ?? "a tool call"}{(use?.Target != null ? " on " + Shorten(use.Target, 200) : "")}", toolUseId, index, row.AgentName, false));
                }
                else if (text != null && text.IndexOf("[Request interrupted by user", StringComparison.OrdinalIgnoreCase) >= 0)
                    output.Add(Human(ctx, "interruption", $"Interrupted {use?.Name ?? "a tool call"}", toolUseId, index, row.AgentName, true));
                if (use?.Name == "AskUserQuestion")
                    output.Add(Human(ctx, "clarification", use.Question ?? Shorten(text, 300) ?? "question", toolUseId, index, row.AgentName, !isError));
            }
        }

        private void Interruption(string? text, Context ctx, int index, List<EventRow> output)
        {
            if (text == null || !text.StartsWith("[Request interrupted by user", StringComparison.Ordinal)) return;
            if (ctx.ParentUuid != null && _rejections.Contains(ctx.ParentUuid)) return; // the rejection already says it
            output.Add(Human(ctx, "interruption", text.Trim('[', ']'), ctx.Uuid, index, ctx.Agent, true));
        }

        private EventRow Human(Context ctx, string category, string about, string key, int index, string agent, bool success)
        {
            var row = Row(ctx, "human_interaction", category, success, new Dictionary<string, object?> { ["message"] = about });
            row.AgentName = agent;
            row.DedupKey = StableHash.Hash("cc:human", key, category, index.ToString(CultureInfo.InvariantCulture));
            if (!success) row.Message = about;
            return row;
        }

        private EventRow Row(Context ctx, string type, string category, bool success, Dictionary<string, object?> details)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, Json.Readable))
            {
                w.WriteStartObject();
                foreach (var kv in details)
                {
                    if (kv.Value == null) continue;
                    w.WritePropertyName(kv.Key);
                    EventLogWriter.WriteValue(w, kv.Value, 0);
                }
                w.WriteEndObject();
            }
            return new EventRow
            {
                Timestamp = ctx.Timestamp, EventType = type, Category = category, SessionId = ctx.Session, StoryId = ctx.Story,
                WorkflowId = _project, AgentName = ctx.Agent, Success = success, Details = Encoding.UTF8.GetString(ms.ToArray()),
            };
        }

        /// <summary>Task/Agent calls name the sub-agent type; progress records and results link the agent id to the call.</summary>
        internal static void CollectSubagentLinks(JsonElement r, Dictionary<string, string> typeByToolUse, Dictionary<string, string> agentToToolUse)
        {
            if (r.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object && m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in c.EnumerateArray())
                {
                    var bt = Str(block, "type");
                    if (bt == "tool_use" && block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object && Str(input, "subagent_type") is { } sub && Str(block, "id") is { } id)
                        typeByToolUse[id] = sub;
                    if (bt == "tool_result" && r.TryGetProperty("toolUseResult", out var tur) && tur.ValueKind == JsonValueKind.Object && Str(tur, "agentId") is { } aid && Str(block, "tool_use_id") is { } tid)
                        agentToToolUse[aid] = tid;
                }
            }
            if (Str(r, "type") == "progress" && r.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && Str(data, "agentId") is { } agentId && Str(r, "parentToolUseID") is { } parent)
                agentToToolUse[agentId] = parent;
        }

        private static long? ToolDuration(JsonElement r)
        {
            if (!r.TryGetProperty("toolUseResult", out var tur) || tur.ValueKind != JsonValueKind.Object) return null;
            foreach (var name in new[] { "durationMs", "totalDurationMs" })
                if (tur.TryGetProperty(name, out var d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var ms)) return ms;
            return null;
        }

        private static string? ResultText(JsonElement block)
        {
            if (!block.TryGetProperty("content", out var c)) return null;
            if (c.ValueKind == JsonValueKind.String) return c.GetString();
            if (c.ValueKind == JsonValueKind.Array)
                return string.Join("\n", c.EnumerateArray().Where(b => Str(b, "type") == "text").Select(b => Str(b, "text")));
            return null;
        }

        private static readonly Regex ToolUseErrorTag = new Regex("</?tool_use_error>", RegexOptions.Compiled);
        private static string? CleanError(string? text) => text == null ? null : ToolUseErrorTag.Replace(text, "").Trim();

        private static string? Shorten(string? s, int max) => s == null ? null : s.Length <= max ? s : s.Substring(0, max) + "…";

        private static long? Timestamp(JsonElement r)
        {
            var s = Str(r, "timestamp");
            if (s == null || !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)) return null;
            return dto.ToUnixTimeMilliseconds();
        }

        internal static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private static long Num(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;
    }
}
