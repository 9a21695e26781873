using System;
using System.Collections.Generic;
using System.Linq;
using SQLitePCL;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Inserts events with one prepared statement per transaction, bound through SQLite's own API (ADO.NET's
    /// per-parameter overhead was most of the import's cost). INSERT OR IGNORE on the unique dedup_key index is what
    /// makes re-imports add nothing.
    /// </summary>
    public sealed class EventWriter : IDisposable
    {
        private static readonly string[] Columns =
        {
            "timestamp", "event_type", "category", "session_id", "story_id", "workflow_id", "agent_name", "duration_ms",
            "tokens_used", "context_percent", "success", "confidence_score", "details", "impact_score",
            "time_saved_or_wasted_ms", "user_satisfaction_delta", "created_rule", "pattern_detected", "needs_review",
            "pattern_id", "dedup_key",
        };

        private const int Done = 101;
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;
        private readonly sqlite3_stmt _insert;

        public EventWriter(SqliteConnection connection, SqliteTransaction transaction)
        {
            _connection = connection;
            _transaction = transaction;
            var sql = "INSERT OR IGNORE INTO events(" + string.Join(",", Columns) + ") VALUES (" + string.Join(",", Columns.Select(_ => "?")) + ")";
            Check(raw.sqlite3_prepare_v2(connection.Handle, sql, out _insert));
        }

        /// <summary>Inserts the rows; returns how many were new (the rest were duplicates). Sets Id on new rows (0 on duplicates).</summary>
        public int Write(IReadOnlyList<EventRow> rows)
        {
            var inserted = 0;
            var db = _connection.Handle!;
            var s = _insert;
            for (var i = 0; i < rows.Count; i++)
            {
                var e = rows[i];
                raw.sqlite3_bind_int64(s, 1, e.Timestamp);
                Text(s, 2, e.EventType);
                Text(s, 3, e.Category);
                Text(s, 4, e.SessionId);
                Text(s, 5, e.StoryId);
                Text(s, 6, e.WorkflowId);
                Text(s, 7, e.AgentName);
                Int(s, 8, e.DurationMs);
                Int(s, 9, e.TokensUsed);
                Real(s, 10, e.ContextPercent);
                Int(s, 11, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : (long?)null);
                Real(s, 12, e.ConfidenceScore);
                Text(s, 13, e.Details);
                Real(s, 14, e.ImpactScore);
                Int(s, 15, e.TimeSavedOrWastedMs);
                Real(s, 16, e.UserSatisfactionDelta);
                Int(s, 17, e.CreatedRule);
                raw.sqlite3_bind_int64(s, 18, e.PatternDetected || e.PatternId.HasValue ? 1 : 0);
                raw.sqlite3_bind_int64(s, 19, e.NeedsReview ? 1 : 0);
                Int(s, 20, e.PatternId);
                raw.sqlite3_bind_int64(s, 21, e.DedupKey);
                var rc = raw.sqlite3_step(s);
                raw.sqlite3_reset(s);
                if (rc != Done) Check(rc);
                if (raw.sqlite3_changes(db) == 1)
                {
                    inserted++;
                    e.Id = raw.sqlite3_last_insert_rowid(db);
                }
                else
                {
                    e.Id = 0;
                    if (e.KeepLargestTokens) GrowTokens(e);
                }
            }
            return inserted;
        }

        // Names (types, agents, stories, sessions) repeat on almost every row: encode each once per batch.
        private readonly Dictionary<string, byte[]> _utf8 = new Dictionary<string, byte[]>(StringComparer.Ordinal);

        private void Text(sqlite3_stmt s, int i, string? v)
        {
            if (v == null) { raw.sqlite3_bind_null(s, i); return; }
            if (v.Length > 64) { raw.sqlite3_bind_text(s, i, v); return; }
            if (!_utf8.TryGetValue(v, out var bytes))
            {
                bytes = System.Text.Encoding.UTF8.GetBytes(v);
                if (_utf8.Count < 10_000) _utf8[v] = bytes;
            }
            raw.sqlite3_bind_text(s, i, new ReadOnlySpan<byte>(bytes));
        }
        private static void Int(sqlite3_stmt s, int i, long? v) { if (v.HasValue) raw.sqlite3_bind_int64(s, i, v.Value); else raw.sqlite3_bind_null(s, i); }
        private static void Real(sqlite3_stmt s, int i, double? v) { if (v.HasValue) raw.sqlite3_bind_double(s, i, v.Value); else raw.sqlite3_bind_null(s, i); }

        private void Check(int rc)
        {
            if (rc == 0 || rc == Done) return;
            var message = raw.sqlite3_errmsg(_connection.Handle).utf8_to_string();
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc);
        }

        private SqliteCommand? _grow, _stored;

        private void GrowTokens(EventRow e)
        {
            if (_grow == null)
            {
                _grow = _connection.CreateCommand();
                _grow.Transaction = _transaction;
                _grow.CommandText = "UPDATE events SET tokens_used = $t, context_percent = $c, details = $d WHERE dedup_key = $k AND coalesce(tokens_used, 0) < $t";
                _grow.Parameters.Add(new SqliteParameter("$t", null));
                _grow.Parameters.Add(new SqliteParameter("$c", null));
                _grow.Parameters.Add(new SqliteParameter("$d", null));
                _grow.Parameters.Add(new SqliteParameter("$k", null));
            }
            if (_stored == null)
            {
                _stored = _connection.CreateCommand();
                _stored.Transaction = _transaction;
                _stored.CommandText = "SELECT coalesce(tokens_used, 0) FROM events WHERE dedup_key = $k";
                _stored.Parameters.Add(new SqliteParameter("$k", null));
            }
            _stored.Parameters[0].Value = e.DedupKey;
            var before = _stored.ExecuteScalar() is long stored ? stored : (long?)null;
            e.TokensGrowth = before.HasValue && (e.TokensUsed ?? 0) > before.Value ? (e.TokensUsed ?? 0) - before.Value : 0;
            if (e.TokensGrowth == 0) return;
            _grow.Parameters[0].Value = (object?)e.TokensUsed ?? DBNull.Value;
            _grow.Parameters[1].Value = (object?)e.ContextPercent ?? DBNull.Value;
            _grow.Parameters[2].Value = (object?)e.Details ?? DBNull.Value;
            _grow.Parameters[3].Value = e.DedupKey;
            _grow.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _insert.Dispose();
            _grow?.Dispose();
            _stored?.Dispose();
        }
    }
}
