using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import.ClaudeCode
{
    /// <summary>
    /// One Claude Code record as <see cref="TranscriptParser"/> uses it: the fields it reads, found in one forward pass of
    /// a Utf8JsonReader over the line (a JsonDocument per line was a fifth of the reader thread). Each is kept as where
    /// its JSON text lies and decoded only when asked, as JsonElement decoded it: a key written twice counts by its last
    /// value, a value of another type is no string or number, and a string that cannot be decoded fails where it is read.
    /// The whole line is still read, so damaged JSON fails with the reader's message, as JsonDocument.Parse failed.
    /// </summary>
    internal sealed class TranscriptRecord
    {
        /// <summary>Where a value's JSON text lies in the line (quotes, brackets included); Kind None when absent.</summary>
        internal struct Value
        {
            public JsonTokenType Kind;
            public int Start;
            public int Length;

            public bool IsObject => Kind == JsonTokenType.StartObject;
            public bool IsArray => Kind == JsonTokenType.StartArray;
            public bool IsString => Kind == JsonTokenType.String;
            public bool IsTrue => Kind == JsonTokenType.True;
        }

        internal sealed class Usage
        {
            public Value Self, InputTokens, OutputTokens, CacheCreation, CacheRead;
        }

        internal sealed class Input
        {
            public Value Self, FilePath, Path, Pattern, Command, Url, Description, Prompt, SubagentType, Questions;
            /// <summary>Each element's "question" (absent for an element that is no object or has none).</summary>
            public readonly List<Value> QuestionItems = new List<Value>();
        }

        /// <summary>A content block (of a message, or of a tool_result's content).</summary>
        internal sealed class Block
        {
            public Value Self, Type, Id, Name, Text, ToolUseId, IsError, Content;
            public readonly Input Input = new Input();
            /// <summary>A tool_result's content blocks, when its content is an array.</summary>
            public readonly Blocks Inner = new Blocks();
        }

        /// <summary>The blocks of an array, reused from line to line.</summary>
        internal sealed class Blocks
        {
            private readonly List<Block> _items = new List<Block>();
            public int Count { get; private set; }

            public Block this[int index] => _items[index];

            public void Clear() => Count = 0;

            public Block Next()
            {
                if (Count == _items.Count) _items.Add(new Block());
                return _items[Count++];
            }
        }

        internal sealed class Message
        {
            public Value Self, Content, Id, Model, StopReason;
            public readonly Usage Usage = new Usage();
            public readonly Blocks Blocks = new Blocks();
        }

        /// <summary>toolUseResult (transcripts) or tool_use_result (streams): an object, a string or a list.</summary>
        internal sealed class ToolResult
        {
            public Value Self, AgentId, DurationMs, TotalDurationMs;
        }

        private byte[] _line = Array.Empty<byte>();

        public Value Root, Type, Cwd, SessionId, SessionIdSnake, GitBranch, Timestamp, ParentToolUseIdSnake, IsSidechain, AgentId,
            ParentUuid, Uuid, ParentToolUseId, Data, DataAgentId, IsError, Subtype, NumTurns, DurationApiMs, TotalCostUsd, CostUsd,
            Errors, Result, DurationMs;
        public readonly Message Msg = new Message();
        public readonly ToolResult ToolUseResultCamel = new ToolResult(), ToolUseResultSnake = new ToolResult();
        public readonly List<Value> ErrorItems = new List<Value>();

        /// <summary>toolUseResult when the record has it (whatever its value), else tool_use_result.</summary>
        public ToolResult ToolUseResult => ToolUseResultCamel.Self.Kind != JsonTokenType.None ? ToolUseResultCamel : ToolUseResultSnake;

        /// <summary>Reads the line's fields; throws JsonException where the line is not JSON. The line's bytes must stay as they are while the record is used.</summary>
        [MethodImpl(Hot.Path)]
        public void Read(byte[] line, int length)
        {
            _line = line;
            Root = Type = Cwd = SessionId = SessionIdSnake = GitBranch = Timestamp = ParentToolUseIdSnake = IsSidechain = AgentId = default;
            ParentUuid = Uuid = ParentToolUseId = Data = DataAgentId = IsError = Subtype = NumTurns = DurationApiMs = TotalCostUsd = CostUsd = default;
            Errors = Result = DurationMs = default;
            Msg.Self = default;
            ToolUseResultCamel.Self = ToolUseResultSnake.Self = default;
            var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(line, 0, length), default(JsonReaderOptions));
            reader.Read();
            Root.Kind = reader.TokenType;
            if (Root.Kind == JsonTokenType.StartObject) ReadRecord(ref reader);
            else reader.Skip();
            while (reader.Read()) { } // only blanks may follow: the reader throws on anything else
        }

        [MethodImpl(Hot.Path)]
        private void ReadRecord(ref Utf8JsonReader r)
        {
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("type"u8)) Type = Next(ref r);
                else if (r.ValueTextEquals("message"u8)) { r.Read(); ReadMessage(ref r, Msg); }
                else if (r.ValueTextEquals("timestamp"u8)) Timestamp = Next(ref r);
                else if (r.ValueTextEquals("sessionId"u8)) SessionId = Next(ref r);
                else if (r.ValueTextEquals("session_id"u8)) SessionIdSnake = Next(ref r);
                else if (r.ValueTextEquals("gitBranch"u8)) GitBranch = Next(ref r);
                else if (r.ValueTextEquals("cwd"u8)) Cwd = Next(ref r);
                else if (r.ValueTextEquals("uuid"u8)) Uuid = Next(ref r);
                else if (r.ValueTextEquals("parentUuid"u8)) ParentUuid = Next(ref r);
                else if (r.ValueTextEquals("isSidechain"u8)) IsSidechain = Next(ref r);
                else if (r.ValueTextEquals("agentId"u8)) AgentId = Next(ref r);
                else if (r.ValueTextEquals("parent_tool_use_id"u8)) ParentToolUseIdSnake = Next(ref r);
                else if (r.ValueTextEquals("toolUseResult"u8)) { r.Read(); ReadToolResult(ref r, ToolUseResultCamel); }
                else if (r.ValueTextEquals("tool_use_result"u8)) { r.Read(); ReadToolResult(ref r, ToolUseResultSnake); }
                else if (r.ValueTextEquals("parentToolUseID"u8)) ParentToolUseId = Next(ref r);
                else if (r.ValueTextEquals("data"u8)) { r.Read(); ReadData(ref r); }
                else if (r.ValueTextEquals("is_error"u8)) IsError = Next(ref r);
                else if (r.ValueTextEquals("subtype"u8)) Subtype = Next(ref r);
                else if (r.ValueTextEquals("num_turns"u8)) NumTurns = Next(ref r);
                else if (r.ValueTextEquals("duration_ms"u8)) DurationMs = Next(ref r);
                else if (r.ValueTextEquals("duration_api_ms"u8)) DurationApiMs = Next(ref r);
                else if (r.ValueTextEquals("total_cost_usd"u8)) TotalCostUsd = Next(ref r);
                else if (r.ValueTextEquals("cost_usd"u8)) CostUsd = Next(ref r);
                else if (r.ValueTextEquals("result"u8)) Result = Next(ref r);
                else if (r.ValueTextEquals("errors"u8)) { r.Read(); ReadValues(ref r, ref Errors, ErrorItems); }
                else { r.Read(); r.Skip(); }
            }
        }

        /// <summary>The value after a property name, skipped over whole.</summary>
        private static Value Next(ref Utf8JsonReader r)
        {
            r.Read();
            return Skip(ref r);
        }

        /// <summary>The value the reader is at, skipped over whole.</summary>
        [MethodImpl(Hot.Path)]
        private static Value Skip(ref Utf8JsonReader r)
        {
            var v = new Value { Kind = r.TokenType, Start = (int)r.TokenStartIndex };
            if (v.Kind == JsonTokenType.StartObject || v.Kind == JsonTokenType.StartArray) r.Skip();
            v.Length = (int)r.BytesConsumed - v.Start;
            return v;
        }

        private static Value Open(ref Utf8JsonReader r) => new Value { Kind = r.TokenType, Start = (int)r.TokenStartIndex };

        private static void Close(ref Utf8JsonReader r, ref Value v) => v.Length = (int)r.BytesConsumed - v.Start;

        private static void ReadValues(ref Utf8JsonReader r, ref Value self, List<Value> items)
        {
            items.Clear();
            self = Open(ref r);
            if (self.Kind != JsonTokenType.StartArray) { Close(ref r, ref self); return; }
            while (r.Read() && r.TokenType != JsonTokenType.EndArray) items.Add(Skip(ref r));
            Close(ref r, ref self);
        }

        private void ReadData(ref Utf8JsonReader r)
        {
            DataAgentId = default;
            Data = Open(ref r);
            if (Data.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref Data); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("agentId"u8)) DataAgentId = Next(ref r);
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref Data);
        }

        private static void ReadToolResult(ref Utf8JsonReader r, ToolResult t)
        {
            t.AgentId = t.DurationMs = t.TotalDurationMs = default;
            t.Self = Open(ref r);
            if (t.Self.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref t.Self); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("agentId"u8)) t.AgentId = Next(ref r);
                else if (r.ValueTextEquals("durationMs"u8)) t.DurationMs = Next(ref r);
                else if (r.ValueTextEquals("totalDurationMs"u8)) t.TotalDurationMs = Next(ref r);
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref t.Self);
        }

        [MethodImpl(Hot.Path)]
        private static void ReadMessage(ref Utf8JsonReader r, Message m)
        {
            m.Content = m.Id = m.Model = m.StopReason = default;
            m.Usage.Self = default;
            m.Blocks.Clear();
            m.Self = Open(ref r);
            if (m.Self.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref m.Self); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("content"u8)) { r.Read(); ReadContent(ref r, ref m.Content, m.Blocks); }
                else if (r.ValueTextEquals("id"u8)) m.Id = Next(ref r);
                else if (r.ValueTextEquals("model"u8)) m.Model = Next(ref r);
                else if (r.ValueTextEquals("stop_reason"u8)) m.StopReason = Next(ref r);
                else if (r.ValueTextEquals("usage"u8)) { r.Read(); ReadUsage(ref r, m.Usage); }
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref m.Self);
        }

        [MethodImpl(Hot.Path)]
        private static void ReadUsage(ref Utf8JsonReader r, Usage u)
        {
            u.InputTokens = u.OutputTokens = u.CacheCreation = u.CacheRead = default;
            u.Self = Open(ref r);
            if (u.Self.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref u.Self); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("input_tokens"u8)) u.InputTokens = Next(ref r);
                else if (r.ValueTextEquals("output_tokens"u8)) u.OutputTokens = Next(ref r);
                else if (r.ValueTextEquals("cache_creation_input_tokens"u8)) u.CacheCreation = Next(ref r);
                else if (r.ValueTextEquals("cache_read_input_tokens"u8)) u.CacheRead = Next(ref r);
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref u.Self);
        }

        /// <summary>A content value: a string, or an array read as blocks, or anything else kept as its kind.</summary>
        [MethodImpl(Hot.Path)]
        private static void ReadContent(ref Utf8JsonReader r, ref Value self, Blocks blocks)
        {
            blocks.Clear();
            if (r.TokenType != JsonTokenType.StartArray) { self = Skip(ref r); return; }
            self = Open(ref r);
            while (r.Read() && r.TokenType != JsonTokenType.EndArray) ReadBlock(ref r, blocks.Next());
            Close(ref r, ref self);
        }

        [MethodImpl(Hot.Path)]
        private static void ReadBlock(ref Utf8JsonReader r, Block b)
        {
            b.Type = b.Id = b.Name = b.Text = b.ToolUseId = b.IsError = b.Content = default;
            b.Input.Self = default;
            b.Inner.Clear();
            b.Self = Open(ref r);
            if (b.Self.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref b.Self); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("type"u8)) b.Type = Next(ref r);
                else if (r.ValueTextEquals("id"u8)) b.Id = Next(ref r);
                else if (r.ValueTextEquals("name"u8)) b.Name = Next(ref r);
                else if (r.ValueTextEquals("text"u8)) b.Text = Next(ref r);
                else if (r.ValueTextEquals("tool_use_id"u8)) b.ToolUseId = Next(ref r);
                else if (r.ValueTextEquals("is_error"u8)) b.IsError = Next(ref r);
                else if (r.ValueTextEquals("input"u8)) { r.Read(); ReadInput(ref r, b.Input); }
                else if (r.ValueTextEquals("content"u8)) { r.Read(); ReadContent(ref r, ref b.Content, b.Inner); }
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref b.Self);
        }

        [MethodImpl(Hot.Path)]
        private static void ReadInput(ref Utf8JsonReader r, Input i)
        {
            i.FilePath = i.Path = i.Pattern = i.Command = i.Url = i.Description = i.Prompt = i.SubagentType = i.Questions = default;
            i.QuestionItems.Clear();
            i.Self = Open(ref r);
            if (i.Self.Kind != JsonTokenType.StartObject) { r.Skip(); Close(ref r, ref i.Self); return; }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("file_path"u8)) i.FilePath = Next(ref r);
                else if (r.ValueTextEquals("path"u8)) i.Path = Next(ref r);
                else if (r.ValueTextEquals("pattern"u8)) i.Pattern = Next(ref r);
                else if (r.ValueTextEquals("command"u8)) i.Command = Next(ref r);
                else if (r.ValueTextEquals("url"u8)) i.Url = Next(ref r);
                else if (r.ValueTextEquals("description"u8)) i.Description = Next(ref r);
                else if (r.ValueTextEquals("prompt"u8)) i.Prompt = Next(ref r);
                else if (r.ValueTextEquals("subagent_type"u8)) i.SubagentType = Next(ref r);
                else if (r.ValueTextEquals("questions"u8)) { r.Read(); ReadQuestions(ref r, i); }
                else { r.Read(); r.Skip(); }
            }
            Close(ref r, ref i.Self);
        }

        private static void ReadQuestions(ref Utf8JsonReader r, Input i)
        {
            i.QuestionItems.Clear();
            i.Questions = Open(ref r);
            if (i.Questions.Kind != JsonTokenType.StartArray) { r.Skip(); Close(ref r, ref i.Questions); return; }
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                var question = default(Value);
                if (r.TokenType == JsonTokenType.StartObject)
                {
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        if (r.ValueTextEquals("question"u8)) question = Next(ref r);
                        else { r.Read(); r.Skip(); }
                    }
                }
                else r.Skip();
                i.QuestionItems.Add(question);
            }
            Close(ref r, ref i.Questions);
        }

        // Decoding, as JsonElement decodes: a reader over the value's own text.

        [MethodImpl(Hot.Small)]
        private Utf8JsonReader At(Value v)
        {
            var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(_line, v.Start, v.Length), default(JsonReaderOptions));
            reader.Read();
            return reader;
        }

        /// <summary>The string, or null when the value is absent or no string.</summary>
        [MethodImpl(Hot.Path)]
        public string? Str(Value v)
        {
            if (v.Kind != JsonTokenType.String) return null;
            // Without a backslash the text between the quotes is the string (the line is valid UTF-8, checked by the importer).
            if (Array.IndexOf(_line, (byte)'\\', v.Start + 1, v.Length - 2) < 0) return Encoding.UTF8.GetString(_line, v.Start + 1, v.Length - 2);
            return At(v).GetString();
        }

        // Types, sessions, branches, models and tool names repeat on almost every line: each distinct one decoded once.
        private readonly Utf8StringCache _names = new Utf8StringCache();

        /// <summary>As <see cref="Str"/>, for a value that repeats from line to line (the same text, decoded once).</summary>
        [MethodImpl(Hot.Path)]
        public string? Name(Value v)
        {
            if (v.Kind != JsonTokenType.String) return null;
            if (Array.IndexOf(_line, (byte)'\\', v.Start + 1, v.Length - 2) < 0) return _names.Get(new ReadOnlySpan<byte>(_line, v.Start + 1, v.Length - 2));
            return At(v).GetString();
        }

        /// <summary>Whether the value is a string whose JSON text, without escapes, ends with the given character.</summary>
        public bool IsPlainStringEndingWith(Value v, byte last) =>
            v.Kind == JsonTokenType.String && v.Length > 2 && _line[v.Start + v.Length - 2] == last && Array.IndexOf(_line, (byte)'\\', v.Start + 1, v.Length - 2) < 0;

        /// <summary>A number that is a whole 64-bit integer, else null.</summary>
        [MethodImpl(Hot.Small)]
        public long? Num(Value v) => v.Kind == JsonTokenType.Number && At(v).TryGetInt64(out var n) ? n : (long?)null;

        /// <summary>A number as a finite double, else null: 1e400 is valid JSON but no double (and JSON cannot write it back).</summary>
        public double? Dbl(Value v) => v.Kind == JsonTokenType.Number && At(v).TryGetDouble(out var d) && !double.IsInfinity(d) && !double.IsNaN(d) ? d : (double?)null;

        /// <summary>The value's JSON text as written, "" when absent.</summary>
        public string Raw(Value v) => v.Kind == JsonTokenType.None ? "" : Encoding.UTF8.GetString(_line, v.Start, v.Length);

        [MethodImpl(Hot.Small)]
        public bool TryGetDateTimeOffset(Value v, out DateTimeOffset value)
        {
            value = default;
            return v.Kind == JsonTokenType.String && At(v).TryGetDateTimeOffset(out value);
        }
    }
}
