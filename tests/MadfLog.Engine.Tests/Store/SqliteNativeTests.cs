using System;
using Dapper;
using MadfLog.Engine.Store;
using SQLitePCL;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>
    /// The writer's statements are bound, stepped and reset through SqliteNative (the statement's pointer, no SafeHandle):
    /// each value must be stored exactly as SQLitePCLRaw's own calls store it, the empty text included (a pointer to no
    /// characters is NULL to SQLite, which would store NULL instead of '').
    /// </summary>
    public class SqliteNativeTests
    {
        [Fact]
        public void ValuesBoundOnThePointerAreStoredAsThroughTheProvider()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            Assert.True(SqliteNative.Usable); // the platform the tests run on binds natively, so that is the path checked
            c.Execute("CREATE TEMP TABLE v (how TEXT, i, d, n, t, e, u)");
            Assert.Equal(0, raw.sqlite3_prepare_v2(c.Handle, "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", out var s));
            using (s)
            {
                var text = "ab ünïcødé ✓ 名前 \U0001F600 cd";
                foreach (var native in new[] { true, false })
                {
                    raw.sqlite3_bind_text(s, 1, native ? "native" : "provider");
                    if (native)
                    {
                        SqliteNative.BindInt64(s, 2, long.MinValue);
                        SqliteNative.BindDouble(s, 3, -0.25);
                        SqliteNative.BindInt64(s, 4, 7);
                        SqliteNative.BindNull(s, 4); // a value bound again as NULL
                        SqliteNative.BindText16(s, 5, text.AsSpan(3, text.Length - 6));
                        SqliteNative.BindText16(s, 6, text.AsSpan(0, 0));
                        SqliteNative.BindText16(s, 7, default);
                        Assert.Equal(raw.SQLITE_DONE, SqliteNative.Step(s));
                        Assert.Equal(raw.SQLITE_OK, SqliteNative.Reset(s));
                    }
                    else
                    {
                        raw.sqlite3_bind_int64(s, 2, long.MinValue);
                        raw.sqlite3_bind_double(s, 3, -0.25);
                        raw.sqlite3_bind_null(s, 4);
                        raw.sqlite3_bind_text(s, 5, text.Substring(3, text.Length - 6));
                        raw.sqlite3_bind_text(s, 6, "");
                        raw.sqlite3_bind_text(s, 7, "");
                        Assert.Equal(raw.SQLITE_DONE, raw.sqlite3_step(s));
                        raw.sqlite3_reset(s);
                    }
                }
            }
            var rows = c.Query<(string how, string stored)>(
                "SELECT how, quote(i) || ' ' || quote(d) || ' ' || quote(n) || ' ' || quote(t) || ' ' || typeof(t) || ' ' || quote(e) || ' ' || typeof(e) || ' ' || quote(u) || ' ' || typeof(u) FROM v ORDER BY how").AsList();
            Assert.Equal(2, rows.Count);
            Assert.Equal(rows[1].stored, rows[0].stored); // native, then provider
            Assert.Contains("'' text '' text", rows[0].stored, StringComparison.Ordinal);
            Assert.StartsWith("-9223372036854775808 -0.25 NULL 'ünïcødé", rows[0].stored, StringComparison.Ordinal);
        }
    }
}
