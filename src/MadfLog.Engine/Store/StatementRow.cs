using System;
using System.Collections.Generic;
using System.Data;
using System.Runtime.CompilerServices;
using Dapper;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// A reader's current row read straight from its SQLite statement, for loops over tens of thousands of rows: one
    /// native call per value (two for a value that may be NULL), where SqliteDataReader's typed getters make three (the
    /// column count, the type, the value) and its IsDBNull two more; measured, they were most of the time a question over
    /// a whole summary table took. Take it after each Read(); columns by ordinal; Int64 and Double read NULL as 0; text is a
    /// value's UTF-8 bytes (sqlite3_column_blob gives them for any value, a number as SQLite writes it).
    /// </summary>
    internal readonly struct StatementRow
    {

        private readonly sqlite3_stmt _s;
        private readonly IntPtr _h; // the statement's native pointer, IntPtr.Zero where SqliteNative cannot read it

        private StatementRow(sqlite3_stmt s) { _s = s; _h = SqliteNative.HandleOf(s); }

        /// <summary>The row a reader (Dapper's wrapper or a SqliteDataReader) stands on.</summary>
        [MethodImpl(Hot.Small)]
        public static StatementRow Of(IDataReader reader)
        {
            var inner = (reader as IWrappedDataReader)?.Reader ?? reader;
            if (inner is SqliteDataReader r && r.Handle is sqlite3_stmt s) return new StatementRow(s);
            throw new InvalidOperationException("not a reader on a SQLite statement");
        }

        /// <summary>Each row's first column as an integer (ids, times: a page's thousands without Dapper's boxing per value).</summary>
        public static List<long> Int64s(IDbConnection c, string sql, object? parameters = null)
        {
            var list = new List<long>();
            using (var reader = c.ExecuteReader(sql, parameters))
                while (reader.Read()) list.Add(Of(reader).Int64(0));
            return list;
        }

        /// <summary>The value's storage class (raw.SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB or _NULL).</summary>
        [MethodImpl(Hot.Small)]
        public int Type(int i) => _h != IntPtr.Zero ? SqliteNative.sqlite3_column_type(_h, i) : raw.sqlite3_column_type(_s, i);

        [MethodImpl(Hot.Small)]
        public bool IsNull(int i) => Type(i) == raw.SQLITE_NULL;

        [MethodImpl(Hot.Small)]
        public long Int64(int i) => _h != IntPtr.Zero ? SqliteNative.sqlite3_column_int64(_h, i) : raw.sqlite3_column_int64(_s, i);

        [MethodImpl(Hot.Small)]
        public double Double(int i) => _h != IntPtr.Zero ? SqliteNative.sqlite3_column_double(_h, i) : raw.sqlite3_column_double(_s, i);

        [MethodImpl(Hot.Small)]
        public long? NullableInt64(int i) => IsNull(i) ? (long?)null : Int64(i);

        [MethodImpl(Hot.Small)]
        public double? NullableDouble(int i) => IsNull(i) ? (double?)null : Double(i);

        /// <summary>A value's bytes (a text's UTF-8, a blob's bytes), valid until the next Read().</summary>
        [MethodImpl(Hot.Small)]
        public unsafe ReadOnlySpan<byte> Bytes(int i)
        {
            if (_h == IntPtr.Zero) return raw.sqlite3_column_blob(_s, i);
            var p = SqliteNative.sqlite3_column_blob(_h, i); // first, then the length, as SQLite's documentation asks
            return p == IntPtr.Zero ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>((void*)p, SqliteNative.sqlite3_column_bytes(_h, i));
        }

        /// <summary>A column as text (a number as SQLite writes it); null for NULL.</summary>
        [MethodImpl(Hot.Small)]
        public string? Text(int i) => IsNull(i) ? null : Utf8StringCache.Decode(Bytes(i));

        /// <summary>A details value (d1..d5) as text, a packed id (<see cref="PackedId"/>) unpacked; null for NULL.</summary>
        [MethodImpl(Hot.Small)]
        public string? DetailsValue(int i) => Type(i) == raw.SQLITE_BLOB ? PackedId.Unpack(Bytes(i)) : Text(i);

        /// <summary>A column as text decoded once per distinct value (names that repeat on many rows); null for NULL.</summary>
        [MethodImpl(Hot.Small)]
        public string? Text(int i, FewTexts names) => IsNull(i) ? null : names.Get(Bytes(i));
    }

    /// <summary>
    /// The texts of a column with few distinct values (stories, agents), each decoded once: a short list compared byte by
    /// byte, cheaper per row than hashing (Utf8StringCache, for an import's many names). Past its capacity it decodes.
    /// </summary>
    internal sealed class FewTexts
    {
        private const int Capacity = 64;
        private readonly List<(byte[] utf8, string text)> _seen = new List<(byte[], string)>();

        [MethodImpl(Hot.Small)]
        public string Get(ReadOnlySpan<byte> utf8)
        {
            foreach (var (bytes, text) in _seen)
                if (utf8.SequenceEqual(bytes)) return text;
            var s = Utf8StringCache.Decode(utf8);
            if (_seen.Count < Capacity) _seen.Add((utf8.ToArray(), s));
            return s;
        }
    }
}
