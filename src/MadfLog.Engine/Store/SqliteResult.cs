using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>The result codes of SQLite's own API (used where the store binds through it on hot paths), turned into the exception ADO.NET would throw.</summary>
    internal static class SqliteResult
    {
        public static void Check(SqliteConnection c, int rc)
        {
            if (rc == raw.SQLITE_OK || rc == raw.SQLITE_ROW || rc == raw.SQLITE_DONE) return;
            throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(c.Handle).utf8_to_string()}'.", rc);
        }
    }
}
