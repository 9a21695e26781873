using System;
using System.Collections.Generic;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Inserts events with one prepared statement per transaction. INSERT OR IGNORE on the unique
    /// dedup_key index is what makes re-imports add nothing.
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

        private readonly SqliteCommand _insert;
        private readonly SqliteParameter[] _p;
        private SqliteCommand? _grow;

        public EventWriter(SqliteConnection connection, SqliteTransaction transaction)
        {
            _insert = connection.CreateCommand();
            _insert.Transaction = transaction;
            _insert.CommandText = "INSERT OR IGNORE INTO events(" + string.Join(",", Columns) + ") VALUES (" +
                                  string.Join(",", Array.ConvertAll(Columns, c => "$" + c)) + ")";
            _p = new SqliteParameter[Columns.Length];
            for (var i = 0; i < Columns.Length; i++) _p[i] = _insert.Parameters.Add(new SqliteParameter("$" + Columns[i], null));
            _insert.Prepare();
        }

        /// <summary>Inserts the rows; returns how many were new (the rest were duplicates). Sets Id on new rows.</summary>
        public int Write(IReadOnlyList<EventRow> rows)
        {
            var inserted = 0;
            var connection = _insert.Connection!;
            for (var i = 0; i < rows.Count; i++)
            {
                var e = rows[i];
                _p[0].Value = e.Timestamp;
                _p[1].Value = e.EventType;
                _p[2].Value = e.Category;
                _p[3].Value = (object?)e.SessionId ?? DBNull.Value;
                _p[4].Value = (object?)e.StoryId ?? DBNull.Value;
                _p[5].Value = (object?)e.WorkflowId ?? DBNull.Value;
                _p[6].Value = (object?)e.AgentName ?? DBNull.Value;
                _p[7].Value = (object?)e.DurationMs ?? DBNull.Value;
                _p[8].Value = (object?)e.TokensUsed ?? DBNull.Value;
                _p[9].Value = (object?)e.ContextPercent ?? DBNull.Value;
                _p[10].Value = e.Success.HasValue ? (e.Success.Value ? 1 : 0) : (object)DBNull.Value;
                _p[11].Value = (object?)e.ConfidenceScore ?? DBNull.Value;
                _p[12].Value = (object?)e.Details ?? DBNull.Value;
                _p[13].Value = (object?)e.ImpactScore ?? DBNull.Value;
                _p[14].Value = (object?)e.TimeSavedOrWastedMs ?? DBNull.Value;
                _p[15].Value = (object?)e.UserSatisfactionDelta ?? DBNull.Value;
                _p[16].Value = (object?)e.CreatedRule ?? DBNull.Value;
                _p[17].Value = e.PatternDetected || e.PatternId.HasValue ? 1 : 0;
                _p[18].Value = e.NeedsReview ? 1 : 0;
                _p[19].Value = (object?)e.PatternId ?? DBNull.Value;
                _p[20].Value = e.DedupKey;
                if (_insert.ExecuteNonQuery() == 1)
                {
                    inserted++;
                    e.Id = LastInsertRowId(connection);
                }
                else
                {
                    e.Id = 0;
                    if (e.KeepLargestTokens) GrowTokens(e);
                }
            }
            return inserted;
        }

        private void GrowTokens(EventRow e)
        {
            if (_grow == null)
            {
                _grow = _insert.Connection!.CreateCommand();
                _grow.Transaction = _insert.Transaction;
                _grow.CommandText = "UPDATE events SET tokens_used = $t, context_percent = $c, details = $d WHERE dedup_key = $k AND coalesce(tokens_used, 0) < $t";
                _grow.Parameters.Add(new SqliteParameter("$t", null));
                _grow.Parameters.Add(new SqliteParameter("$c", null));
                _grow.Parameters.Add(new SqliteParameter("$d", null));
                _grow.Parameters.Add(new SqliteParameter("$k", null));
            }
            _grow.Parameters[0].Value = (object?)e.TokensUsed ?? DBNull.Value;
            _grow.Parameters[1].Value = (object?)e.ContextPercent ?? DBNull.Value;
            _grow.Parameters[2].Value = (object?)e.Details ?? DBNull.Value;
            _grow.Parameters[3].Value = e.DedupKey;
            _grow.ExecuteNonQuery();
        }

        private static long LastInsertRowId(SqliteConnection connection) =>
            SQLitePCL.raw.sqlite3_last_insert_rowid(connection.Handle);

        public void Dispose()
        {
            _insert.Dispose();
            _grow?.Dispose();
        }
    }
}
