using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
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
    /// Turns Claude Code records into events, whatever shape carried them: transcript records (camelCase envelope with
    /// uuid and timestamp) and stream-json records (session_id, parent_tool_use_id, tool_use_result, no uuid or time).
    /// Every key is built from ids the shapes share (tool_use_id, message.id), never from a position in the file.
    /// </summary>
    internal sealed class TranscriptParser : IEndOfFileParser
    {
        private sealed class PendingToolUse
        {
            public string Name = "";
            public long Timestamp;
            public bool TimeKnown;
            public long Offset;
            public string Agent = "main";
            public string? Target;
            public string? Question;
            // How full the context of the response that made the call was: the call, its error and what a human did about it happened there.
            public double? ContextPercent;
        }

        /// <summary>An event whose record has no time, waiting for the nearest record that has one.</summary>
        private sealed class Held
        {
            public EventRow Row = null!;
            public DetailsFields Details = null!;
            public long Record;
            public long Offset;
        }

        private sealed class Context
        {
            public long Timestamp;
            public bool TimeKnown;
            public long Record;
            public long Offset;
            public string? Session;
            public string Agent = "main";
            public string? Story;
        }

        /// <summary>Where an event's time came from when its own record had none (details.timestamp_source).</summary>
        internal const string FromNearestRecord = "nearest_record", FromResultRecord = "result_record", FromFileTime = "file_time";

        private readonly string _path;
        private readonly string? _story;
        private readonly string? _fileAgent;
        private string _project;
        private bool _projectFromCwd;
        private readonly Dictionary<string, PendingToolUse> _pending = new Dictionary<string, PendingToolUse>(StringComparer.Ordinal);
        // Largest usage seen per response (message.id): its lines repeat the usage, growing to the final figure.
        private readonly Dictionary<string, long> _responses = new Dictionary<string, long>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _typeByToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _agentToToolUse = new Dictionary<string, string>(StringComparer.Ordinal);
        // Older transcripts keep sub-agents inline (isSidechain): each chain's root is a Task call's prompt, the rest follow parentUuid.
        private readonly List<KeyValuePair<string, string>> _taskPrompts = new List<KeyValuePair<string, string>>();
        private readonly Dictionary<string, string> _sidechainAgent = new Dictionary<string, string>(StringComparer.Ordinal);
        // Per agent: its last response (one lookup per response), and whether its last user record rejected or interrupted
        // a tool call (the "[Request interrupted…]" text after it is that same act).
        private readonly Dictionary<string, LastResponse> _lastResponse = new Dictionary<string, LastResponse>(StringComparer.Ordinal);
        private readonly HashSet<string> _stoppedLast = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>
        /// An agent's last response as an interruption typed as text needs it: its message id and the interruptions since
        /// (the interruption's key), and how full its context was (the last figure seen: the interruption happened there).
        /// </summary>
        private sealed class LastResponse
        {
            public string? Id;
            public int Interruptions;
            public double? Context;
        }

        private LastResponse LastOf(string agent)
        {
            if (!_lastResponse.TryGetValue(agent, out var last)) _lastResponse[agent] = last = new LastResponse();
            return last;
        }
        private readonly List<Held> _held = new List<Held>();
        private long _record;
        private long? _lastTime;
        private long _lastTimeRecord;
        private long _latest;

        public TranscriptParser(string path, string? story, Shape shape)
        {
            _path = path;
            _story = story;
            _project = ClaudeCodeFormat.ProjectOf(path);
            // A stream or a dump lives anywhere (CI artefacts, logs/chat.json): the records' cwd names the project as projects/ would.
            _projectFromCwd = shape != Shape.Transcript;
            // A stream read from where the last import stopped has its init record (and cwd) behind it: look it up.
            if (shape == Shape.Stream && FirstRecordCwd(path) is { } cwd)
            {
                _project = ClaudeCodeFormat.ProjectOfCwd(cwd);
                _projectFromCwd = false;
            }
            _fileAgent = ClaudeCodeFormat.SubagentTypeOf(path);
        }

        private static string? FirstRecordCwd(string path)
        {
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var stream = LogFileFinder.IsGzip(path) ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : (Stream)file;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var line = reader.ReadLine();
                if (string.IsNullOrWhiteSpace(line)) return null;
                var record = new TranscriptRecord();
                var bytes = Encoding.UTF8.GetBytes(line);
                record.Read(bytes, bytes.Length);
                return record.Root.IsObject ? record.Str(record.Cwd) : null;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is JsonException || ex is InvalidDataException) { return null; }
        }

        /// <summary>
        /// The oldest record whose events are not out yet: a tool call still waiting for its result (given up an hour
        /// before the newest record), or an event waiting for a time.
        /// </summary>
        public long? EarliestPendingOffset
        {
            get
            {
                long? earliest = null;
                foreach (var p in _pending.Values)
                    if ((!p.TimeKnown || _latest - p.Timestamp < 3_600_000) && (earliest == null || p.Offset < earliest)) earliest = p.Offset;
                if (_held.Count > 0 && (earliest == null || _held[0].Offset < earliest)) earliest = _held[0].Offset;
                return earliest;
            }
        }

        private byte[] _line = new byte[4096];
        private readonly TranscriptRecord _r = new TranscriptRecord();

        [MethodImpl(Hot.Path)]
        public LineOutcome Parse(ReadOnlySpan<byte> line, long lineNumber, long lineOffset, List<EventRow> output, out string? reason)
        {
            reason = null;
            // The record decodes its values from a buffer kept for the next line (nothing keeps them past this call),
            // instead of a copy of every line.
            if (_line.Length < line.Length) _line = new byte[Math.Max(line.Length, _line.Length * 2)];
            line.CopyTo(_line);
            var r = _r;
            try { r.Read(_line, line.Length); }
            catch (JsonException ex)
            {
                reason = string.Format(Messages.Culture, Messages.ReasonInvalidJson, ex.Message.Split('\n')[0]);
                return LineOutcome.Quarantined;
            }
            {
                if (!r.Root.IsObject) { reason = Messages.ReasonNotJsonObject; return LineOutcome.Quarantined; }
                var type = r.Name(r.Type);
                if (type == null) { reason = Messages.ReasonRecordWithoutType; return LineOutcome.Quarantined; }
                _record++;
                CollectSubagentLinks(r, _typeByToolUse, _agentToToolUse);
                if (_projectFromCwd && r.Name(r.Cwd) is { } cwd)
                {
                    _project = ClaudeCodeFormat.ProjectOfCwd(cwd);
                    _projectFromCwd = false;
                }
                var agent = AgentOf(r);
                var ts = Timestamp(r);
                // Stream records carry no time; a transcript record without one is damaged.
                var stream = r.Name(r.SessionIdSnake) != null && r.Name(r.SessionId) == null;
                var outcome = LineOutcome.Parsed;
                if (type == "result")
                {
                    Result(r, Ctx(r, ts, lineOffset, agent), output);
                }
                else if (type != "assistant" && type != "user")
                {
                    outcome = LineOutcome.Skipped; // snapshots, progress, queue operations, system, summaries…
                }
                else if (ts == null && !stream)
                {
                    reason = string.Format(Messages.Culture, Messages.ReasonRecordWithoutTimestamp, type);
                    return LineOutcome.Quarantined;
                }
                else if (!r.Msg.Self.IsObject)
                {
                    reason = string.Format(Messages.Culture, Messages.ReasonRecordWithoutMessage, type);
                    return LineOutcome.Quarantined;
                }
                else
                {
                    var ctx = Ctx(r, ts, lineOffset, agent);
                    if (type == "assistant") Assistant(r, r.Msg, ctx, lineOffset, output);
                    else User(r, r.Msg, ctx, output);
                }
                if (ts != null)
                {
                    // Events held for want of a time get this record's or the previous one's, whichever is nearer.
                    Release(output, ts.Value, type == "result" ? FromResultRecord : FromNearestRecord);
                    _lastTime = ts;
                    _lastTimeRecord = _record;
                    _latest = Math.Max(_latest, ts.Value);
                }
                return outcome;
            }
        }

        /// <summary>The file ended: events still without a time get the last record's that had one, else the file's time.</summary>
        public void EndOfFile(List<EventRow> output) => ReleaseWithoutNext(output);

        // Held events are bounded so a long stream without times is read in constant memory (and resumable): past this
        // many, they are given out as at the end of the file, since a stream that has had no time so far rarely gets one.
        private const int MaxHeld = 10_000;

        private void ReleaseWithoutNext(List<EventRow> output)
        {
            if (_held.Count == 0) return;
            long fileTime;
            try { fileTime = new DateTimeOffset(FileProbe.Target(_path).LastWriteTimeUtc).ToUnixTimeMilliseconds(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { fileTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(); }
            foreach (var h in _held)
            {
                if (_lastTime.HasValue) Out(h, _lastTime.Value, FromNearestRecord, output);
                else Out(h, fileTime, FromFileTime, output);
            }
            _held.Clear();
        }

        private void Release(List<EventRow> output, long time, string source)
        {
            foreach (var h in _held)
            {
                var previousNearer = _lastTime.HasValue && h.Record - _lastTimeRecord <= _record - h.Record;
                if (previousNearer) Out(h, _lastTime!.Value, FromNearestRecord, output);
                else Out(h, time, source, output);
            }
            _held.Clear();
        }

        private void Out(Held h, long time, string source, List<EventRow> output)
        {
            h.Row.Timestamp = time;
            h.Details["timestamp_source"] = source;
            SetDetails(h.Row, h.Details);
            output.Add(h.Row);
        }

        [MethodImpl(Hot.Path)]
        private Context Ctx(TranscriptRecord r, long? ts, long offset, string agent) => new Context
        {
            Timestamp = ts ?? 0,
            TimeKnown = ts != null,
            Record = _record,
            Offset = offset,
            Session = r.Name(r.SessionId) ?? r.Name(r.SessionIdSnake),
            Agent = agent,
            Story = _story ?? StoryOfBranch(r.Name(r.GitBranch)),
        };

        private string AgentOf(TranscriptRecord r)
        {
            if (_fileAgent != null) return _fileAgent; // a file under <session>/subagents/ is one sub-agent, whatever its records say
            // stream-json: a sub-agent's records name the Task/Agent call that started it.
            if (r.Str(r.ParentToolUseIdSnake) is { } parentTool) return _typeByToolUse.TryGetValue(parentTool, out var byTool) ? byTool : "subagent";
            var sidechain = r.IsSidechain.IsTrue;
            if (!sidechain) return "main";
            var agentId = r.Str(r.AgentId);
            if (agentId != null && _agentToToolUse.TryGetValue(agentId, out var toolUse) && _typeByToolUse.TryGetValue(toolUse, out var type)) return type;
            // Inline sub-agent (older transcripts): follow the chain to its root, whose text is the Task call's prompt.
            string agent;
            if (r.Str(r.ParentUuid) is { } parent && _sidechainAgent.TryGetValue(parent, out var inherited)) agent = inherited;
            else agent = ClaimTaskPrompt(r) ?? "subagent";
            if (r.Str(r.Uuid) is { } uuid) _sidechainAgent[uuid] = agent;
            return agent;
        }

        private string? ClaimTaskPrompt(TranscriptRecord r)
        {
            var m = r.Msg;
            if (!m.Self.IsObject || m.Content.Kind == JsonTokenType.None) return null;
            var text = m.Content.IsString ? r.Str(m.Content) : m.Content.IsArray ? FirstText(r, m.Blocks) : null;
            if (text == null) return null;
            text = text.Trim();
            for (var i = 0; i < _taskPrompts.Count; i++)
            {
                if (!string.Equals(_taskPrompts[i].Key, text, StringComparison.Ordinal)) continue;
                var type = _taskPrompts[i].Value;
                _taskPrompts.RemoveAt(i); // parallel calls with one prompt: one chain each
                return type;
            }
            return null;
        }

        /// <summary>The first text block's text (null when it has none), as a prompt is found.</summary>
        private static string? FirstText(TranscriptRecord r, TranscriptRecord.Blocks blocks)
        {
            for (var i = 0; i < blocks.Count; i++)
                if (r.Str(blocks[i].Type) == "text") return r.Str(blocks[i].Text);
            return null;
        }

        [MethodImpl(Hot.Path)]
        private void Assistant(TranscriptRecord r, TranscriptRecord.Message message, Context ctx, long offset, List<EventRow> output)
        {
            _stoppedLast.Remove(ctx.Agent);
            var usage = message.Usage;
            double? context = usage.Self.IsObject
                ? ClaudeCodeFormat.ContextPercentOf(r.Num(usage.InputTokens) ?? 0, r.Num(usage.CacheCreation) ?? 0, r.Num(usage.CacheRead) ?? 0)
                : (double?)null;
            var last = LastOf(ctx.Agent);
            if (context.HasValue) last.Context = context;
            if (message.Content.IsArray)
            {
                for (var b = 0; b < message.Blocks.Count; b++)
                {
                    var block = message.Blocks[b];
                    if (r.Name(block.Type) != "tool_use") continue;
                    var id = r.Str(block.Id);
                    if (id == null) continue;
                    var pending = new PendingToolUse { Name = ToolName(r.Name(block.Name)), Timestamp = ctx.Timestamp, TimeKnown = ctx.TimeKnown, Offset = offset, Agent = ctx.Agent, ContextPercent = context };
                    var input = block.Input;
                    if (input.Self.IsObject)
                    {
                        pending.Target = r.Str(input.FilePath) ?? r.Str(input.Path) ?? r.Str(input.Pattern) ?? r.Str(input.Command) ?? r.Str(input.Url) ?? r.Str(input.Description);
                        if (pending.Name == "AskUserQuestion" && input.Questions.IsArray)
                            pending.Question = string.Join(" / ", input.QuestionItems.Select(q => r.Str(q)).Where(q => q != null));
                        if (r.Str(input.Prompt) is { } prompt && (r.Str(input.SubagentType) != null || pending.Name == "Task" || pending.Name == "Agent"))
                            _taskPrompts.Add(new KeyValuePair<string, string>(prompt.Trim(), r.Str(input.SubagentType) ?? "subagent"));
                    }
                    _pending[id] = pending;
                }
            }

            // One API response is written as one line per content block, each repeating the usage: count it once (by its
            // message.id, which every shape carries), keeping the largest usage, which is the final one.
            var messageId = r.Str(message.Id);
            if (messageId == null) return;
            last.Id = messageId;
            last.Interruptions = 0;
            if (!usage.Self.IsObject) return;
            long inputTokens = r.Num(usage.InputTokens) ?? 0, outputTokens = r.Num(usage.OutputTokens) ?? 0,
                 cacheCreate = r.Num(usage.CacheCreation) ?? 0, cacheRead = r.Num(usage.CacheRead) ?? 0;
            var total = inputTokens + outputTokens + cacheCreate + cacheRead;
            if (_responses.TryGetValue(messageId, out var seen) && seen >= total) return;
            var details = Fields();
            details["model"] = r.Name(message.Model);
            details["message_id"] = messageId;
            details["input_tokens"] = inputTokens;
            details["output_tokens"] = outputTokens;
            details["cache_creation_input_tokens"] = cacheCreate;
            details["cache_read_input_tokens"] = cacheRead;
            details["stop_reason"] = r.Name(message.StopReason);
            _responses[messageId] = total;
            var row = Row(ctx, "llm_call", "model", true);
            row.TokensUsed = total;
            row.KeepLargestTokens = true;
            row.ContextPercent = context;
            row.DedupKey = StableHash.Hash("cc:llm", messageId);
            Emit(ctx, row, details, output);
        }

        [MethodImpl(Hot.Path)]
        private void User(TranscriptRecord r, TranscriptRecord.Message message, Context ctx, List<EventRow> output)
        {
            var rejectedBefore = _stoppedLast.Remove(ctx.Agent);
            var content = message.Content;
            if (content.Kind == JsonTokenType.None) return;
            if (content.IsString)
            {
                Interruption(r.Str(content), ctx, rejectedBefore, output);
                return;
            }
            if (!content.IsArray) return;
            var index = 0;
            for (var b = 0; b < message.Blocks.Count; b++)
            {
                var block = message.Blocks[b];
                index++;
                var blockType = r.Name(block.Type);
                if (blockType == "text") { Interruption(r.Str(block.Text), ctx, rejectedBefore, output); continue; }
                if (blockType != "tool_result") continue;
                var toolUseId = r.Str(block.ToolUseId);
                if (toolUseId == null) continue;
                _pending.TryGetValue(toolUseId, out var use);
                _pending.Remove(toolUseId);
                var isError = block.IsError.IsTrue; // absent in older transcripts: false
                var text = ResultText(r, block) ?? StringResult(r);
                var details = Fields();
                details["tool"] = use?.Name ?? Domain.Steps.UnnamedTool;
                details["tool_use_id"] = toolUseId;
                details["target"] = Shorten(use?.Target, 300);
                var cascade = isError && text != null && text.IndexOf("Sibling tool call errored", StringComparison.OrdinalIgnoreCase) >= 0;
                if (isError) details["message"] = Shorten(CleanError(text), 2000);
                if (cascade) details["cascade"] = true;
                var row = Row(ctx, "tool_call", cascade ? "cascade" : "tool", !isError);
                row.AgentName = use?.Agent ?? ctx.Agent;
                row.ContextPercent = use?.ContextPercent;
                // Durations only where they are known: the tool's own figure, or two records' own times.
                row.DurationMs = ToolDuration(r) ?? (use != null && use.TimeKnown && ctx.TimeKnown ? Math.Max(0, ctx.Timestamp - use.Timestamp) : (long?)null);
                row.DedupKey = StableHash.Hash("cc:tool", toolUseId);
                if (isError) row.Message = (string?)details["message"];
                Emit(ctx, row, details, output);

                // What a human did: rejected the call, interrupted it, or answered a question. A rejection is an error once:
                // when the call it stopped is one already (UserRejection, is_error), the human's event is not a second.
                if (text != null && text.IndexOf("doesn't want to proceed", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    _stoppedLast.Add(ctx.Agent);
                    Human(ctx, "rejection", $"Rejected {use?.Name ?? "a tool call"}{(use?.Target != null ? " on " + Shorten(use.Target, 200) : "")}", toolUseId, index, row.AgentName, isError, use?.ContextPercent, output);
                }
                else if (text != null && text.IndexOf("[Request interrupted by user", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    _stoppedLast.Add(ctx.Agent);
                    Human(ctx, "interruption", $"Interrupted {use?.Name ?? "a tool call"}", toolUseId, index, row.AgentName, true, use?.ContextPercent, output);
                }
                if (use?.Name == "AskUserQuestion")
                    Human(ctx, "clarification", use.Question ?? Shorten(CleanError(text), 300) ?? "question", toolUseId, index, row.AgentName, !isError, use?.ContextPercent, output);
            }
        }

        private void Interruption(string? text, Context ctx, bool afterStop, List<EventRow> output)
        {
            if (text == null || !text.StartsWith("[Request interrupted by user", StringComparison.Ordinal)) return;
            if (afterStop) return; // the rejection or interrupted call just before already says it
            // Keyed by the response it interrupted (no uuid in stream-json), so every shape gives the same key.
            var last = LastOf(ctx.Agent);
            var index = last.Interruptions++;
            Human(ctx, "interruption", text.Trim('[', ']'), (ctx.Session ?? "") + "\u001f" + ctx.Agent + "\u001f" + last.Id, index, ctx.Agent, true, last.Context, output);
        }

        private void Human(Context ctx, string category, string about, string key, int index, string agent, bool success, double? contextPercent, List<EventRow> output)
        {
            var row = Row(ctx, "human_interaction", category, success);
            row.AgentName = agent;
            row.ContextPercent = contextPercent;
            row.DedupKey = StableHash.Hash("cc:human", key, category, index.ToString(CultureInfo.InvariantCulture));
            if (!success) row.Message = about;
            var details = Fields();
            details["message"] = about;
            Emit(ctx, row, details, output);
        }

        /// <summary>The final record of a <c>claude -p</c> run: its outcome, turns, wall and API time, and the cost Claude Code reports.</summary>
        private void Result(TranscriptRecord r, Context ctx, List<EventRow> output)
        {
            var isError = r.IsError.IsTrue;
            var subtype = r.Name(r.Subtype) ?? "result";
            var details = Fields();
            details["subtype"] = subtype;
            details["num_turns"] = r.Num(r.NumTurns);
            details["duration_api_ms"] = r.Num(r.DurationApiMs);
            details["cost_usd"] = r.Dbl(r.TotalCostUsd) ?? r.Dbl(r.CostUsd);
            string? message = null;
            if (isError)
            {
                var errors = r.Errors.IsArray
                    ? string.Join("\n", r.ErrorItems.Where(x => x.IsString).Select(x => r.Str(x)))
                    : null;
                message = Shorten(CleanError(r.Str(r.Result) ?? (string.IsNullOrEmpty(errors) ? null : errors) ?? subtype), 2000);
                details["message"] = message;
            }
            var row = Row(ctx, "session_result", subtype, !isError);
            row.DurationMs = r.Num(r.DurationMs);
            row.Message = message;
            // Tokens stay on the responses: the result's usage repeats them.
            row.DedupKey = StableHash.Hash("cc:result", ctx.Session, r.Str(r.Uuid)
                ?? string.Join("|", subtype, r.Raw(r.NumTurns), r.Raw(r.DurationMs), r.Raw(r.TotalCostUsd)));
            _pending.Clear(); // the run is over: calls still open will get no result
            Emit(ctx, row, details, output);
        }

        private EventRow Row(Context ctx, string type, string category, bool success) => new EventRow
        {
            Timestamp = ctx.Timestamp, EventType = type, Category = category, SessionId = ctx.Session, StoryId = ctx.Story,
            WorkflowId = _project, AgentName = ctx.Agent, Success = success,
        };

        // The details of the event being made: one instance, emptied for each event (Emit copies it for an event it holds).
        private readonly DetailsFields _fields = new DetailsFields();

        private DetailsFields Fields() => _fields.Clear();

        /// <summary>Outputs the event, or holds it until a time is known for it.</summary>
        [MethodImpl(Hot.Path)]
        private void Emit(Context ctx, EventRow row, DetailsFields details, List<EventRow> output)
        {
            if (!ctx.TimeKnown)
            {
                _held.Add(new Held { Row = row, Details = details.Copy(), Record = ctx.Record, Offset = ctx.Offset });
                if (_held.Count >= MaxHeld) ReleaseWithoutNext(output);
                return;
            }
            SetDetails(row, details);
            output.Add(row);
        }

        /// <summary>Where the details are kept as UTF-8 for the import's preparing thread to split
        /// (<see cref="LogFileContext.KeepDetailsUnsplit"/>); null: their text is made here.</summary>
        internal UnsplitDetails? Unsplit { get; set; }

        // The details kept as the UTF-8 written, for the preparing thread to split (their text made only if read), or as text.
        [MethodImpl(Hot.Path)]
        private void SetDetails(EventRow row, DetailsFields details)
        {
            var json = Serialize(details);
            if (Unsplit != null) Unsplit.Keep(row, json);
            else row.Details = Utf8StringCache.Decode(json);
        }

        // One buffer and writer per thread (details are written for every event; a parser runs on one thread).
        [ThreadStatic] private static MemoryStream? _detailsBuffer;
        [ThreadStatic] private static Utf8JsonWriter? _detailsWriter;

        [MethodImpl(Hot.Path)]
        private static ReadOnlySpan<byte> Serialize(DetailsFields details)
        {
            var buffer = _detailsBuffer ??= new MemoryStream();
            buffer.SetLength(0);
            var w = _detailsWriter ??= new Utf8JsonWriter(buffer, Json.Readable);
            w.Reset(buffer);
            w.WriteStartObject();
            for (var i = 0; i < details.Count; i++)
            {
                if (details.ValueAt(i) is not { } value) continue;
                w.WritePropertyName(details.NameAt(i));
                EventLogWriter.WriteValue(w, value, 0);
            }
            w.WriteEndObject();
            w.Flush();
            return new ReadOnlySpan<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        // The branch of consecutive records is almost always the same: match its story once.
        private string? _lastBranch, _lastBranchStory;

        private string? StoryOfBranch(string? branch)
        {
            if (branch == null) return null;
            if (!string.Equals(branch, _lastBranch, StringComparison.Ordinal))
            {
                _lastBranch = branch;
                _lastBranchStory = ClaudeCodeFormat.StoryFromBranch(branch);
            }
            return _lastBranchStory;
        }

        // Tools Claude Code has renamed: one name per tool, so older transcripts count with newer ones.
        private static readonly Dictionary<string, string> RenamedTools = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["exit_plan_mode"] = "ExitPlanMode", ["KillBash"] = "KillShell",
        };

        internal static string ToolName(string? name) =>
            name == null ? Domain.Steps.UnnamedTool : RenamedTools.TryGetValue(name, out var current) ? current : name;

        /// <summary>Task/Agent calls name the sub-agent type; progress records and results link the agent id to the call.</summary>
        [MethodImpl(Hot.Path)]
        internal static void CollectSubagentLinks(TranscriptRecord r, Dictionary<string, string> typeByToolUse, Dictionary<string, string> agentToToolUse)
        {
            var m = r.Msg;
            if (m.Self.IsObject && m.Content.IsArray)
            {
                var result = r.ToolUseResult;
                for (var b = 0; b < m.Blocks.Count; b++)
                {
                    var block = m.Blocks[b];
                    var bt = r.Str(block.Type);
                    if (bt == "tool_use" && block.Input.Self.IsObject && r.Str(block.Input.SubagentType) is { } sub && r.Str(block.Id) is { } id)
                        typeByToolUse[id] = sub;
                    if (bt == "tool_result" && result.Self.IsObject && r.Str(result.AgentId) is { } aid && r.Str(block.ToolUseId) is { } tid)
                        agentToToolUse[aid] = tid;
                }
            }
            if (r.Str(r.Type) == "progress" && r.Data.IsObject && r.Str(r.DataAgentId) is { } agentId && r.Str(r.ParentToolUseId) is { } parent)
                agentToToolUse[agentId] = parent;
        }

        private static long? ToolDuration(TranscriptRecord r)
        {
            var tur = r.ToolUseResult;
            if (!tur.Self.IsObject) return null;
            if (r.Num(tur.DurationMs) is { } ms) return ms;
            return r.Num(tur.TotalDurationMs);
        }

        /// <summary>A tool_result block's text: a string or text blocks.</summary>
        [MethodImpl(Hot.Path)]
        private static string? ResultText(TranscriptRecord r, TranscriptRecord.Block block)
        {
            var c = block.Content;
            if (c.Kind == JsonTokenType.None) return null;
            if (c.IsString) return r.Str(c);
            if (!c.IsArray) return null;
            var texts = new List<string?>();
            for (var i = 0; i < block.Inner.Count; i++)
                if (r.Str(block.Inner[i].Type) == "text") texts.Add(r.Str(block.Inner[i].Text));
            var text = string.Join("\n", texts);
            return text.Length > 0 ? text : null;
        }

        /// <summary>The record's tool result when it is a plain string ("Error: …"), for a tool_result block without text.</summary>
        private static string? StringResult(TranscriptRecord r)
        {
            var tur = r.ToolUseResult;
            return tur.Self.IsString ? r.Str(tur.Self) : null;
        }

        private static readonly Regex ToolUseErrorTag = new Regex("</?tool_use_error>", RegexOptions.Compiled);
        // Terminal colours and other escape sequences (CSI and OSC) in tool output.
        private static readonly Regex AnsiEscape = new Regex(@"\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])", RegexOptions.Compiled);

        [MethodImpl(Hot.Path)]
        internal static string? CleanError(string? text) =>
            text == null ? null : AnsiEscape.Replace(ToolUseErrorTag.Replace(text, ""), "").Trim();

        private static string? Shorten(string? s, int max) => s == null ? null : s.Length <= max ? s : s.Substring(0, max) + "…";

        [MethodImpl(Hot.Path)]
        private static long? Timestamp(TranscriptRecord r)
        {
            // Claude Code writes UTC with a Z: read that with JSON's ISO 8601 reader (from the bytes, when the text has no
            // escape), anything else with the general parser.
            if (r.IsPlainStringEndingWith(r.Timestamp, (byte)'Z') && r.TryGetDateTimeOffset(r.Timestamp, out var plain)) return plain.ToUnixTimeMilliseconds();
            var s = r.Str(r.Timestamp);
            if (s != null && s.Length > 0 && s[s.Length - 1] == 'Z' && r.TryGetDateTimeOffset(r.Timestamp, out var utc))
                return utc.ToUnixTimeMilliseconds();
            if (s == null || !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)) return null;
            return dto.ToUnixTimeMilliseconds();
        }
    }
}
