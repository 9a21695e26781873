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
        /// <summary>Quarantined lines, oldest first, optionally only those whose file path matches a SQL LIKE pattern.</summary>
        public static IEnumerable<QuarantinedLine> List(SqliteConnection c, string? fileLike = null)
        {
            var rows = c.Query<(long id, string file, long line, long offset, string reason, string raw, long at)>(
                @"SELECT id, file_path, line_number, byte_offset, reason, raw, quarantined_at FROM quarantine
                  WHERE (@like IS NULL OR file_path LIKE @like ESCAPE '\') ORDER BY id",
                new { like = fileLike }, buffered: false);
            foreach (var r in rows)
                yield return new QuarantinedLine
                {
                    Id = r.id, File = r.file, Line = r.line, ByteOffset = r.offset, Reason = r.reason, Raw = r.raw,
                    QuarantinedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.at).UtcDateTime,
                };
        }
    }
}
