using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using SQLitePCL;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Writes events into the compact store (Schema version 7): the dedup key first (INSERT OR IGNORE into event_keys,
    /// whose rowid it is, is what makes re-imports add nothing), then the row with its texts as name ids and its details
    /// as shape and values. Statements are prepared once per transaction and bound through SQLite's own API
    /// (ADO.NET's per-parameter overhead was most of the import's cost).
    /// </summary>
    public sealed class EventWriter : IDisposable
    {
        private static readonly string[] Columns =
        {
            "id", "timestamp", "event_type", "category", "session_id", "story_id", "workflow_id", "agent_name", "duration_ms",
            "tokens_used", "context_percent", "success", "pattern_detected", "needs_review", "pattern_id",
            "details_shape", "d1", "d2", "d3", "d4",
            "confidence_score", "impact_score", "time_saved_or_wasted_ms", "user_satisfaction_delta", "created_rule",
        };

        private const int Done = 101, Row = 100;
        private readonly SqliteConnection _connection;
        private readonly sqlite3_stmt _key, _insert, _findName, _addName;
        private long _nextId;

        public EventWriter(SqliteConnection connection, SqliteTransaction transaction)
        {
            _connection = connection;
            Check(raw.sqlite3_prepare_v2(connection.Handle, "INSERT OR IGNORE INTO event_keys(key, event_id) VALUES (?, ?)", out _key));
            Check(raw.sqlite3_prepare_v2(connection.Handle,
                "INSERT INTO event_rows(" + string.Join(",", Columns) + ") VALUES (" + string.Join(",", Columns.Select(_ => "?")) + ")", out _insert));
            Check(raw.sqlite3_prepare_v2(connection.Handle, "SELECT id FROM names WHERE text = ?", out _findName));
            Check(raw.sqlite3_prepare_v2(connection.Handle, "INSERT INTO names(text) VALUES (?)", out _addName));
            // AUTOINCREMENT's high-water mark: ids are never reused, even after retention moved the newest rows out.
            foreach (var (period, path) in connection.Query<(string, string)>("SELECT period, archive_path FROM event_archives", transaction: transaction))
                _archives[period] = path;
            _nextId = Math.Max(
                connection.ExecuteScalar<long>("SELECT coalesce(max(id), 0) FROM event_rows", transaction: transaction),
                connection.ExecuteScalar<long>("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'event_rows'", transaction: transaction)) + 1;
        }

        /// <summary>Inserts the rows; returns how many were new (the rest were duplicates). Sets Id on new rows (0 on duplicates).</summary>
        public int Write(IReadOnlyList<EventRow> rows)
        {
            var inserted = 0;
            var db = _connection.Handle!;
            for (var i = 0; i < rows.Count; i++)
            {
                var e = rows[i];
                if (_archives.Count > 0 && InArchive(e))
                {
                    e.Id = 0; // moved to an archive database by retention: already stored once
                    continue;
                }
                raw.sqlite3_bind_int64(_key, 1, e.DedupKey);
                raw.sqlite3_bind_int64(_key, 2, _nextId);
                Step(_key);
                if (raw.sqlite3_changes(db) != 1)
                {
                    e.Id = 0;
                    if (e.KeepLargestTokens) GrowTokens(e);
                    continue;
                }
                var s = _insert;
                raw.sqlite3_bind_int64(s, 1, _nextId);
                raw.sqlite3_bind_int64(s, 2, e.Timestamp);
                Name(s, 3, e.EventType);
                Name(s, 4, e.Category);
                Name(s, 5, e.SessionId);
                Name(s, 6, e.StoryId);
                Name(s, 7, e.WorkflowId);
                Name(s, 8, e.AgentName);
                Int(s, 9, e.DurationMs);
                Int(s, 10, e.TokensUsed);
                Context(s, 11, e.ContextPercent);
                Int(s, 12, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : (long?)null);
                raw.sqlite3_bind_int64(s, 13, e.PatternDetected || e.PatternId.HasValue ? 1 : 0);
                raw.sqlite3_bind_int64(s, 14, e.NeedsReview ? 1 : 0);
                Int(s, 15, e.PatternId);
                Details(s, 16, e);
                Real(s, 21, e.ConfidenceScore);
                Real(s, 22, e.ImpactScore);
                Int(s, 23, e.TimeSavedOrWastedMs);
                Real(s, 24, e.UserSatisfactionDelta);
                Int(s, 25, e.CreatedRule);
                Step(s);
                Span(_nextId / EventStorage.BlockSize, e.Timestamp);
                e.Id = _nextId++;
                inserted++;
            }
            WriteBlocks();
            return inserted;
        }

        // The time span of each block of ids this batch wrote into (EventStorage.BlockSize), merged into event_blocks.
        private readonly Dictionary<long, (long min, long max)> _blocks = new Dictionary<long, (long, long)>();

        private void Span(long block, long timestamp)
        {
            _blocks[block] = _blocks.TryGetValue(block, out var span)
                ? (Math.Min(span.min, timestamp), Math.Max(span.max, timestamp))
                : (timestamp, timestamp);
        }

        private void WriteBlocks()
        {
            if (_blocks.Count == 0) return;
            if (_block == null)
                Check(raw.sqlite3_prepare_v2(_connection.Handle,
                    @"INSERT INTO event_blocks(block, min_ts, max_ts) VALUES (?, ?, ?)
                      ON CONFLICT(block) DO UPDATE SET min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)", out _block));
            foreach (var pair in _blocks)
            {
                raw.sqlite3_bind_int64(_block, 1, pair.Key);
                raw.sqlite3_bind_int64(_block, 2, pair.Value.min);
                raw.sqlite3_bind_int64(_block, 3, pair.Value.max);
                Step(_block);
            }
            _blocks.Clear();
        }

        // Retention moves whole months (or their older part) to archive databases and takes the keys along, so the
        // active store stays small; an event of an archived month is looked up in its archive before it is added.
        private readonly Dictionary<string, string> _archives = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, SqliteConnection> _archiveConnections = new Dictionary<string, SqliteConnection>(StringComparer.Ordinal);

        private bool InArchive(EventRow e)
        {
            var month = DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp).UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
            if (!_archives.TryGetValue(month, out var path) || !System.IO.File.Exists(path)) return false;
            if (!_archiveConnections.TryGetValue(path, out var archive))
                _archiveConnections[path] = archive = MadfDatabase.Open(path, forWrite: false);
            return archive.ExecuteScalar<long>("SELECT count(*) FROM event_keys WHERE key = @key", new { key = e.DedupKey }) > 0;
        }

        // Names (types, agents, stories, sessions, details shapes) repeat on almost every row: look each up once per
        // writer. The cache lives no longer than the transaction, so a rollback cannot leave it pointing at lost ids.
        private readonly Dictionary<string, long> _names = new Dictionary<string, long>(StringComparer.Ordinal);

        private long NameId(string text)
        {
            if (_names.TryGetValue(text, out var id)) return id;
            raw.sqlite3_bind_text(_findName, 1, text);
            var rc = raw.sqlite3_step(_findName);
            if (rc == Row) id = raw.sqlite3_column_int64(_findName, 0);
            raw.sqlite3_reset(_findName);
            if (rc != Row)
            {
                if (rc != Done) Check(rc);
                raw.sqlite3_bind_text(_addName, 1, text);
                Step(_addName);
                id = raw.sqlite3_last_insert_rowid(_connection.Handle);
            }
            if (_names.Count < 100_000) _names[text] = id;
            return id;
        }

        private void Name(sqlite3_stmt s, int i, string? v)
        {
            if (v == null) raw.sqlite3_bind_null(s, i);
            else raw.sqlite3_bind_int64(s, i, NameId(v));
        }

        // Binds details_shape and d1..d4 starting at column i.
        private void Details(sqlite3_stmt s, int i, EventRow e)
        {
            var split = e.StoredDetails != null && ReferenceEquals(e.StoredDetails.Source, e.Details) ? e.StoredDetails : new DetailsShape.Split(e.Details);
            if (split.Shape != null)
            {
                raw.sqlite3_bind_int64(s, i, NameId(split.Shape));
                for (var k = 0; k < DetailsShape.Slots; k++)
                {
                    var v = split.Values[k];
                    if (v is long l) raw.sqlite3_bind_int64(s, i + 1 + k, l);
                    else if (v is DetailsShape.Name n) raw.sqlite3_bind_int64(s, i + 1 + k, NameId(n.Text));
                    else if (v is string t) raw.sqlite3_bind_text(s, i + 1 + k, t);
                    else raw.sqlite3_bind_null(s, i + 1 + k);
                }
                return;
            }
            raw.sqlite3_bind_null(s, i);
            if (e.Details == null) raw.sqlite3_bind_null(s, i + 1); else raw.sqlite3_bind_text(s, i + 1, e.Details);
            for (var k = 2; k <= DetailsShape.Slots; k++) raw.sqlite3_bind_null(s, i + k);
        }

        /// <summary>context_percent as exact hundredths in an integer when it round-trips (2 bytes instead of 8), else the real.</summary>
        public static object? StoredContext(double? v)
        {
            if (!v.HasValue) return null;
            var hundredths = Math.Round(v.Value * 100);
            if (Math.Abs(hundredths) < 1e15 && hundredths / 100.0 == v.Value) return (long)hundredths;
            return v.Value;
        }

        private static void Context(sqlite3_stmt s, int i, double? v)
        {
            var stored = StoredContext(v);
            if (stored is long l) raw.sqlite3_bind_int64(s, i, l);
            else if (stored is double d) raw.sqlite3_bind_double(s, i, d);
            else raw.sqlite3_bind_null(s, i);
        }

        private static void Int(sqlite3_stmt s, int i, long? v) { if (v.HasValue) raw.sqlite3_bind_int64(s, i, v.Value); else raw.sqlite3_bind_null(s, i); }
        private static void Real(sqlite3_stmt s, int i, double? v) { if (v.HasValue) raw.sqlite3_bind_double(s, i, v.Value); else raw.sqlite3_bind_null(s, i); }

        private void Step(sqlite3_stmt s)
        {
            var rc = raw.sqlite3_step(s);
            raw.sqlite3_reset(s);
            if (rc != Done) Check(rc);
        }

        private void Check(int rc)
        {
            if (rc == 0 || rc == Done || rc == Row) return;
            var message = raw.sqlite3_errmsg(_connection.Handle).utf8_to_string();
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc);
        }

        private sqlite3_stmt? _stored, _grow, _block;

        // A repeated Claude Code response line: keep the larger usage (and its details), report the growth for the summaries.
        private void GrowTokens(EventRow e)
        {
            if (_stored == null)
            {
                Check(raw.sqlite3_prepare_v2(_connection.Handle,
                    "SELECT r.id, coalesce(r.tokens_used, 0) FROM event_keys k JOIN event_rows r ON r.id = k.event_id WHERE k.key = ?", out _stored));
                Check(raw.sqlite3_prepare_v2(_connection.Handle,
                    "UPDATE event_rows SET tokens_used = ?, context_percent = ?, details_shape = ?, d1 = ?, d2 = ?, d3 = ?, d4 = ? WHERE id = ?", out _grow));
            }
            raw.sqlite3_bind_int64(_stored, 1, e.DedupKey);
            long id = 0, before = 0;
            var rc = raw.sqlite3_step(_stored);
            if (rc == Row) { id = raw.sqlite3_column_int64(_stored, 0); before = raw.sqlite3_column_int64(_stored, 1); }
            raw.sqlite3_reset(_stored);
            if (rc != Row && rc != Done) Check(rc);
            // No row: the event was moved to an archive; its key stays here so the archive keeps it.
            e.TokensGrowth = id != 0 && (e.TokensUsed ?? 0) > before ? (e.TokensUsed ?? 0) - before : 0;
            if (e.TokensGrowth == 0) return;
            Int(_grow!, 1, e.TokensUsed);
            Context(_grow!, 2, e.ContextPercent);
            Details(_grow!, 3, e);
            raw.sqlite3_bind_int64(_grow!, 8, id);
            Step(_grow!);
        }

        public void Dispose()
        {
            _key.Dispose();
            _insert.Dispose();
            _findName.Dispose();
            _addName.Dispose();
            _stored?.Dispose();
            _grow?.Dispose();
            _block?.Dispose();
            foreach (var archive in _archiveConnections.Values) archive.Dispose();
        }
    }
}
