using System;
using System.Collections.Generic;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>One statement, prepared once and run for many rows (summary flushes write thousands).</summary>
    public static class PreparedBatch
    {
        /// <summary>Runs <paramref name="sql"/> (parameters $1..$n) once for every row, binding the row's values in order.</summary>
        public static void Run(SqliteConnection c, SqliteTransaction tx, string sql, IEnumerable<object?[]> rows)
        {
            using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = sql;
            SqliteParameter[]? ps = null;
            foreach (var row in rows)
            {
                if (ps == null)
                {
                    ps = new SqliteParameter[row.Length];
                    for (var i = 0; i < row.Length; i++) ps[i] = cmd.Parameters.Add(new SqliteParameter("$" + (i + 1), null));
                    cmd.Prepare();
                }
                for (var i = 0; i < row.Length; i++) ps[i].Value = row[i] ?? DBNull.Value;
                cmd.ExecuteNonQuery();
            }
        }

    }
}
