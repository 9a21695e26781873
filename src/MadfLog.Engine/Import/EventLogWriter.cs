using System;
using System.Runtime.CompilerServices;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Appends events to today's QuickLogger file (madf-YYYY-MM-DD.jsonl, UTC date) in a log folder.
    /// Each event is one whole line written in one call under a machine-wide named mutex per file, so
    /// concurrent writers (threads or processes) never interleave.
    /// </summary>
    public static class EventLogWriter
    {
        // Opening a named mutex costs about 100 µs on Linux: keep one per file for the life of the process.
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Mutex> Mutexes =
            new System.Collections.Concurrent.ConcurrentDictionary<string, Mutex>(StringComparer.Ordinal);

        public static string FileNameFor(DateTimeOffset timestamp) =>
            "madf-" + timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".jsonl";

        /// <summary>
        /// Throws when <paramref name="folder"/> is a file, or does not exist and is named like a log file
        /// (`-LogPath ./events.jsonl` would otherwise become a folder called events.jsonl).
        /// </summary>
        private static void CheckFolder(string folder)
        {
            var namedLikeALog = !Directory.Exists(folder) && LogFileFinder.IsLogFile(folder);
            if (File.Exists(folder) || namedLikeALog)
                throw new ArgumentException(string.Format(Messages.Culture, Messages.LogFolderIsFile, folder), nameof(folder));
        }

        /// <summary>Appends the event; returns the file written to.</summary>
        public static string Append(string folder, EventRow e, IDictionary? details)
        {
            CheckFolder(folder);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(Path.GetFullPath(folder), FileNameFor(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp)));
            // Each event gets its own id, so repeated identical events (the same step again) all count.
            var line = Serialize(e, details, Guid.NewGuid().ToString("N"));
            var mutex = Mutexes.GetOrAdd(path, p => new Mutex(false, MutexName(p)));
            var owned = false;
            try
            {
                try { owned = mutex.WaitOne(TimeSpan.FromSeconds(30)); }
                catch (AbandonedMutexException) { owned = true; } // a writer died mid-append; its line is whole or absent
                if (!owned) throw new IOException(string.Format(Messages.Culture, Messages.EventLogAppendTimedOut, path));
                using var fs = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
                fs.Write(line, 0, line.Length);
            }
            finally
            {
                if (owned) mutex.ReleaseMutex();
            }
            return path;
        }

        private static string MutexName(string path)
        {
            var key = Path.GetFullPath(path);
            if (Path.DirectorySeparatorChar == '\\') key = key.ToUpperInvariant();
            return "MadfLog_" + ((ulong)StableHash.Hash(key)).ToString("x16", CultureInfo.InvariantCulture);
        }

        /// <summary>One QuickLogger line (with its trailing newline); <paramref name="eventId"/>, when given, is the event's identity on import.</summary>
        public static byte[] Serialize(EventRow e, IDictionary? details, string? eventId = null)
        {
            using var ms = new MemoryStream(256);
            using (var w = new Utf8JsonWriter(ms, Json.Readable))
            {
                w.WriteStartObject();
                w.WriteString("timestamp", DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                Str(w, "event_id", eventId);
                w.WriteString("event_type", e.EventType);
                w.WriteString("category", e.Category);
                Str(w, "session_id", e.SessionId);
                Str(w, "story_id", e.StoryId);
                Str(w, "workflow_id", e.WorkflowId);
                Str(w, "agent_name", e.AgentName);
                Num(w, "duration_ms", e.DurationMs);
                Num(w, "tokens_used", e.TokensUsed);
                Num(w, "context_percent", e.ContextPercent);
                if (e.Success.HasValue) w.WriteBoolean("success", e.Success.Value);
                Num(w, "confidence_score", e.ConfidenceScore);
                Num(w, "impact_score", e.ImpactScore);
                Num(w, "time_saved_or_wasted_ms", e.TimeSavedOrWastedMs);
                Num(w, "user_satisfaction_delta", e.UserSatisfactionDelta);
                if (e.NeedsReview) w.WriteBoolean("needs_review", true);
                if (details != null && details.Count > 0)
                {
                    w.WritePropertyName("details");
                    WriteValue(w, details, 0);
                }
                w.WriteEndObject();
            }
            ms.WriteByte((byte)'\n');
            return ms.ToArray();
        }

        private static void Str(Utf8JsonWriter w, string name, string? v) { if (v != null) w.WriteString(name, v); }
        private static void Num(Utf8JsonWriter w, string name, long? v) { if (v.HasValue) w.WriteNumber(name, v.Value); }
        private static void Num(Utf8JsonWriter w, string name, double? v) { if (v.HasValue) w.WriteNumber(name, v.Value); }

        /// <summary>Writes plain .NET values (dictionaries, lists, primitives, dates); anything else as its string form.</summary>
        [MethodImpl(Hot.Path)]
        internal static void WriteValue(Utf8JsonWriter w, object? value, int depth)
        {
            if (depth > 32) { w.WriteStringValue(value?.ToString()); return; }
            switch (value)
            {
                case null: w.WriteNullValue(); break;
                case string s: w.WriteStringValue(s); break;
                case bool b: w.WriteBooleanValue(b); break;
                case int or long or short or byte or sbyte or ushort or uint: w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
                case ulong ul: w.WriteNumberValue(ul); break;
                case float or double or decimal: w.WriteNumberValue(Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
                case DateTime dt: w.WriteStringValue(dt.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture)); break;
                case DateTimeOffset dto: w.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); break;
                case IDictionary dict:
                    w.WriteStartObject();
                    foreach (DictionaryEntry entry in dict)
                    {
                        w.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                        WriteValue(w, entry.Value, depth + 1);
                    }
                    w.WriteEndObject();
                    break;
                case IEnumerable list:
                    w.WriteStartArray();
                    foreach (var item in list) WriteValue(w, item, depth + 1);
                    w.WriteEndArray();
                    break;
                default: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
