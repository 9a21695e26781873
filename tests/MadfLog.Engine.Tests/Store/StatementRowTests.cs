using System;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>
    /// StatementRow reads a statement's values through SQLite's own column functions on its pointer (where the library
    /// SQLitePCLRaw uses answers): every storage class must read as Microsoft.Data.Sqlite's reader gives it.
    /// </summary>
    public class StatementRowTests
    {
        [Fact]
        public void EveryStorageClassReadsAsTheDataReaderGivesIt()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            // The platform the tests run on reads natively, so that is the path checked here.
            Assert.True(SqliteNative.Usable);
            c.Execute(@"CREATE TEMP TABLE v (x); INSERT INTO v VALUES (0), (-9223372036854775808), (9223372036854775807), (-0.5), (1e300), ('text'), (''),
                        ('ünïcødé ✓ 名前'), (x''), (x'00ff10'), (NULL), ('12'), (3.25)");
            var rows = 0;
            using var reader = c.ExecuteReader("SELECT x, typeof(x), x, x FROM v ORDER BY rowid");
            var inner = (Microsoft.Data.Sqlite.SqliteDataReader)((IWrappedDataReader)reader).Reader;
            while (reader.Read())
            {
                rows++;
                var s = StatementRow.Of(reader);
                var type = inner.GetString(1);
                Assert.Equal(type switch { "integer" => 1, "real" => 2, "text" => 3, "blob" => 4, _ => 5 }, s.Type(0));
                Assert.Equal(inner.IsDBNull(0), s.IsNull(0));
                if (inner.IsDBNull(0))
                {
                    Assert.Null(s.NullableInt64(0));
                    Assert.Null(s.NullableDouble(0));
                    Assert.Null(s.Text(0));
                    Assert.Equal(0, s.Bytes(2).Length);
                    continue;
                }
                Assert.Equal(inner.GetInt64(0), s.Int64(0));
                Assert.Equal(inner.GetInt64(0), s.NullableInt64(0));
                Assert.Equal(inner.GetDouble(0), s.Double(0));
                Assert.Equal(inner.GetDouble(0), s.NullableDouble(0));
                Assert.Equal(inner.GetString(0), s.Text(0));
                Assert.Equal(inner.GetString(0), s.Text(0, new FewTexts()));
                // A value's bytes, each copy read once (reading converts a value in place).
                Assert.Equal(inner.GetFieldValue<byte[]>(3), s.Bytes(2).ToArray());
            }
            Assert.Equal(13, rows);
        }
    }
}
