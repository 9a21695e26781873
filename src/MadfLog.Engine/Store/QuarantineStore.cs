using System;
using System.Collections.Generic;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>A line that could not become an event, kept with its reason and raw text.</summary>
    public sealed class QuarantinedLine
    {
        public long Id { get; set; }
        public string File { get; set; } = "";
        public long Line { get; set; }
        public long ByteOffset { get; set; }
        public string Reason { get; set; } = "";
        public string Raw { get; set; } = "";
        public DateTime QuarantinedAt { get; set; }
    }

    public static class QuarantineStore
    {
        /// <summary>Quarantines a line, in the import's transaction (a line already there, same file, offset and text, is kept once).</summary>
        public static void Add(SqliteConnection c, SqliteTransaction tx, string file, long line, long offset, string reason, string raw) => c.Execute(
            "INSERT OR IGNORE INTO quarantine(file_path, line_number, byte_offset, reason, raw, quarantined_at) VALUES (@file, @line, @offset, @reason, @raw, @at)",
            new { file, line, offset, reason, raw, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, tx);

        /// <summary>Drops a file's quarantined lines (it is being read again as another format).</summary>
        public static void Forget(SqliteConnection c, SqliteTransaction tx, string file) =>
            c.Execute("DELETE FROM quarantine WHERE file_path = @file", new { file }, tx);

        /// <summary>Quarantined lines, oldest first, optionally only those whose file path matches a SQL LIKE pattern.</summary>
        public static IEnumerable<QuarantinedLine> List(SqliteConnection c, string? fileLike = null)
        {
            var rows = c.Query<QuarantineTableRow>(
                @"SELECT id, file_path AS FilePath, line_number AS LineNumber, byte_offset AS ByteOffset, reason, raw, quarantined_at AS QuarantinedAt FROM quarantine
                  WHERE (@like IS NULL OR file_path LIKE @like ESCAPE '\') ORDER BY id",
                new { like = fileLike }, buffered: false);
            foreach (var r in rows)
                yield return new QuarantinedLine
                {
                    Id = r.Id, File = r.FilePath, Line = r.LineNumber, ByteOffset = r.ByteOffset, Reason = r.Reason, Raw = r.Raw,
                    QuarantinedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.QuarantinedAt).UtcDateTime,
                };
        }

        /// <summary>A quarantine row (mapped by column name).</summary>
        private sealed class QuarantineTableRow
        {
            public long Id { get; set; }
            public string FilePath { get; set; } = "";
            public long LineNumber { get; set; }
            public long ByteOffset { get; set; }
            public string Reason { get; set; } = "";
            public string Raw { get; set; } = "";
            public long QuarantinedAt { get; set; }
        }
    }
}
