using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>One statement, prepared once and run for many rows (summary flushes write thousands).</summary>
    public static class PreparedBatch
    {
        /// <summary>
        /// Runs <paramref name="sql"/> (one statement, parameters $1..$n) once for every row, binding the row's values in
        /// order. Bound through SQLite's own API, as the event writer does: ADO.NET's per-parameter work was most of
        /// a summary flush's cost.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static void Run(SqliteConnection c, SqliteTransaction? tx, string sql, IEnumerable<object?[]> rows)
        {
            _ = tx; // the statement runs in the connection's transaction, which is tx (or none)
            sqlite3_stmt? statement = null;
            int[]? index = null;
            try
            {
                foreach (var row in rows)
                {
                    if (statement == null)
                    {
                        Check(c, raw.sqlite3_prepare_v2(c.Handle, sql, out statement));
                        index = new int[row.Length];
                        for (var i = 0; i < row.Length; i++)
                        {
                            index[i] = raw.sqlite3_bind_parameter_index(statement, "$" + (i + 1));
                            if (index[i] == 0) throw new ArgumentException($"parameter ${i + 1} is not in the statement", nameof(sql));
                        }
                    }
                    for (var i = 0; i < row.Length; i++) Bind(statement, index![i], row[i]);
                    var rc = SqliteNative.StepAndReset(statement);
                    if (rc != raw.SQLITE_DONE) Check(c, rc);
                }
            }
            finally { statement?.Dispose(); }
        }

        private static void Bind(sqlite3_stmt s, int i, object? value)
        {
            switch (value)
            {
                case null: case DBNull _: SqliteNative.BindNull(s, i); break;
                case long l: SqliteNative.BindInt64(s, i, l); break;
                case int n: SqliteNative.BindInt64(s, i, n); break;
                case bool b: SqliteNative.BindInt64(s, i, b ? 1 : 0); break;
                case double d: SqliteNative.BindDouble(s, i, d); break;
                case string t: raw.sqlite3_bind_text(s, i, t); break;
                case byte[] blob: raw.sqlite3_bind_blob(s, i, blob); break;
                default: throw new ArgumentException($"cannot bind a {value.GetType().Name}", nameof(value));
            }
        }

        private static void Check(SqliteConnection c, int rc) => SqliteResult.Check(c, rc);
    }
}
