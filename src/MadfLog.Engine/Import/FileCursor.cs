using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;
using Dapper;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Import
{
    /// <summary>A cheap look at a log file: size, time, and its first bytes (decompressed for .gz).</summary>
    internal sealed class FileProbe
    {
        public long Length { get; private set; }
        public long LastWriteUtc { get; private set; }
        public bool IsGzip { get; private set; }
        private string _path = "";
        private byte[]? _head;
        private uint _gzipTrailerSize;
        /// <summary>The first bytes (read by <see cref="Read"/>, or by <see cref="ReadHead"/> after <see cref="Stat"/>; else when first asked for).</summary>
        public byte[] Head
        {
            get { if (_head == null) ReadHead(); return _head!; }
        }

        /// <summary>For .gz: the uncompressed size (mod 2^32) its trailer claims.</summary>
        public uint GzipTrailerSize
        {
            get { if (_head == null) ReadHead(); return _gzipTrailerSize; }
        }
        public ReadOnlySpan<byte> FirstLine => FirstNonBlankLine(Head);

        public long HeadHash(int length) => StableHash.Hash(new ReadOnlySpan<byte>(Head, 0, Math.Min(length, Head.Length)));

        /// <summary>True when a .gz file's trailer does not match what was decompressed: the file was cut short.</summary>
        public bool GzipTruncatedAt(long uncompressedTotal) => IsGzip && (uint)(uncompressedTotal & 0xFFFFFFFF) != GzipTrailerSize;

        /// <summary>Size, time and first bytes.</summary>
        public static FileProbe Read(string path)
        {
            var probe = Stat(path);
            probe.ReadHead();
            return probe;
        }

        /// <summary>Size and time only (of the file a link leads to): enough to tell a file unchanged since its cursor.</summary>
        public static FileProbe Stat(string path)
        {
            var info = Target(path);
            if (!info.Exists) throw new FileNotFoundException(Messages.IssueFileNotFound, path);
            return new FileProbe
            {
                _path = path,
                Length = info.Length,
                LastWriteUtc = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds(),
                IsGzip = LogFileFinder.IsGzip(path),
            };
        }

        /// <summary>Reads the first bytes (decompressed for .gz) and a .gz file's trailer.</summary>
        public void ReadHead()
        {
            using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var head = new byte[LogImporter.HeadBytes];
            int n;
            if (IsGzip)
            {
                if (fs.Length >= 4)
                {
                    fs.Seek(-4, SeekOrigin.End);
                    var t = new byte[4];
                    if (ReadFully(fs, t) == 4) _gzipTrailerSize = BitConverter.ToUInt32(t, 0);
                    fs.Seek(0, SeekOrigin.Begin);
                }
                try
                {
                    using var gz = new GZipStream(fs, CompressionMode.Decompress, leaveOpen: true);
                    n = ReadFully(gz, head);
                }
                catch (InvalidDataException) { n = 0; }
            }
            else
            {
                n = ReadFully(fs, head);
            }
            Array.Resize(ref head, n);
            _head = head;
        }

        /// <summary>
        /// The file a path leads to: a symbolic link's own size and time (FileInfo's on .NET, Windows and Unix) are not the
        /// log's, so a linked log would look changed on every run and be read again from its start.
        /// </summary>
        public static FileInfo Target(string path)
        {
            var info = new FileInfo(path);
            return info.Exists && (info.Attributes & FileAttributes.ReparsePoint) != 0 ? new FileInfo(FileIdentity.Of(path)) : info;
        }

        private static int ReadFully(Stream s, byte[] buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var r = s.Read(buffer, total, buffer.Length - total);
                if (r <= 0) break;
                total += r;
            }
            return total;
        }

        private static ReadOnlySpan<byte> FirstNonBlankLine(byte[] head)
        {
            var span = new ReadOnlySpan<byte>(head);
            if (span.Length >= 3 && span[0] == 0xEF && span[1] == 0xBB && span[2] == 0xBF) span = span.Slice(3);
            while (span.Length > 0)
            {
                var nl = span.IndexOf((byte)'\n');
                var line = nl < 0 ? span : span.Slice(0, nl);
                foreach (var b in line)
                    if (b != (byte)' ' && b != (byte)'\t' && b != (byte)'\r') return line;
                if (nl < 0) break;
                span = span.Slice(nl + 1);
            }
            return ReadOnlySpan<byte>.Empty;
        }
    }

    /// <summary>
    /// How far a file has been read. A file is known by its path or, when moved or rotated, by a hash of its
    /// first bytes; a file whose first bytes changed or that shrank is read again from the start (dedup keys
    /// keep that exactly-once).
    /// </summary>
    internal sealed class FileCursor
    {
        // Shared by all snapshots of one file so the row inserted for the first batch is updated by the next ones.
        private StrongBox<long> _id = new StrongBox<long>();

        public long Id { get => _id.Value; set => _id.Value = value; }
        public string Path { get; set; } = "";
        public string Format { get; set; } = "";
        public int HeadLength { get; set; }
        public long HeadHash { get; set; }
        public long Offset { get; set; }
        public long Lines { get; set; }
        public long Size { get; set; }
        public long LastWriteUtc { get; set; }
        public bool Complete { get; set; }
        public long FirstImported { get; set; }
        /// <summary>
        /// The parser's state at <see cref="Offset"/> (<see cref="IReplaysEarlierLines.SavedState"/>): a grown file resumes
        /// from it without replaying the lines before. Loaded only for files about to be resumed (<see cref="FileCursors.LoadNumbering"/>).
        /// </summary>
        public byte[]? Numbering { get; set; }
        /// <summary>The store holds a <see cref="Numbering"/> for this cursor (loaded or not).</summary>
        public bool HasNumbering { get; set; }
        // Set when the cursor moved: the numbering column is written (the state at the new offset, or null for none).
        private bool _numberingMoved;
        /// <summary>Not a real cursor (the file could not be read): nothing to save.</summary>
        public bool Skip { get; set; }

        public bool HeadMatches(FileProbe probe) =>
            HeadLength <= probe.Head.Length && probe.HeadHash(HeadLength) == HeadHash;

        /// <summary>
        /// The file has the size and time it had when it was last read to its end (or, before cursors said so, is read up to
        /// its size): reading it again would find only what was found, whatever a parser held back for lines still to come.
        /// A stat and this check are all a re-import of an unchanged file costs (its first bytes are not read again).
        /// </summary>
        public bool Unchanged(FileProbe probe) =>
            Size == probe.Length && LastWriteUtc == probe.LastWriteUtc && (Complete || !probe.IsGzip && (Offset == Size || LogFormats.IsWholeDocument(Format)));

        /// <summary>Unchanged, or a line file read up to its length (moved, or its time changed without a byte more).</summary>
        public bool NothingNew(FileProbe probe) =>
            HeadMatches(probe) && (Unchanged(probe) || !probe.IsGzip && !LogFormats.IsWholeDocument(Format) && probe.Length == Offset);

        public long ResumeOffset(FileProbe probe)
        {
            if (!HeadMatches(probe)) return 0;
            if (LogFormats.IsWholeDocument(Format)) return 0; // rewritten, not appended to: read again whole (dedup keys keep it exactly-once)
            if (!probe.IsGzip && probe.Length < Offset) return 0; // truncated and rewritten
            return Offset;
        }

        public void Touch(string path, FileProbe probe)
        {
            Path = path; Size = probe.Length; LastWriteUtc = probe.LastWriteUtc;
        }

        /// <summary>Moves the cursor and returns a snapshot for the writer (the reader keeps going).</summary>
        public FileCursor Advance(long offset, long lines, FileProbe probe, bool complete, byte[]? numbering = null)
        {
            Offset = offset; Lines = lines; Complete = complete;
            Numbering = numbering; HasNumbering = numbering != null; _numberingMoved = true;
            HeadLength = probe.Head.Length; HeadHash = probe.HeadHash(probe.Head.Length);
            Touch(Path, probe);
            return Snapshot();
        }

        public FileCursor Snapshot()
        {
            var copy = (FileCursor)MemberwiseClone();
            copy._id = _id;
            return copy;
        }

        public void Save(SqliteConnection c, SqliteTransaction tx)
        {
            if (Skip) return;
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (FirstImported == 0) FirstImported = now;
            var args = new { Id, Path, Format, HeadLength, HeadHash, Offset, Lines, Size, LastWriteUtc, Complete = Complete ? 1 : 0, FirstImported, Now = now,
                Numbering, Moved = _numberingMoved ? 1 : 0 };
            if (Id == 0)
            {
                Id = c.ExecuteScalar<long>(
                    @"INSERT INTO import_files(path, format, head_length, head_hash, offset, lines, size, last_write_utc, complete, first_imported, last_imported, numbering)
                      VALUES (@Path, @Format, @HeadLength, @HeadHash, @Offset, @Lines, @Size, @LastWriteUtc, @Complete, @FirstImported, @Now, @Numbering);
                      SELECT last_insert_rowid();", args, tx);
            }
            else
            {
                // A cursor that did not move keeps the state saved with its offset.
                c.Execute(
                    @"UPDATE import_files SET path=@Path, format=@Format, head_length=@HeadLength, head_hash=@HeadHash, offset=@Offset, lines=@Lines,
                      size=@Size, last_write_utc=@LastWriteUtc, complete=@Complete, last_imported=@Now,
                      numbering = CASE WHEN @Moved = 1 THEN @Numbering ELSE numbering END WHERE id=@Id", args, tx);
            }
        }

        public static FileCursors LoadAll(SqliteConnection c)
        {
            var all = new FileCursors();
            var rows = c.Query<FileCursor>(
                @"SELECT id AS Id, path AS Path, format AS Format, head_length AS HeadLength, head_hash AS HeadHash, offset AS Offset,
                         lines AS Lines, size AS Size, last_write_utc AS LastWriteUtc, complete AS Complete, first_imported AS FirstImported,
                         numbering IS NOT NULL AS HasNumbering
                  FROM import_files");
            foreach (var r in rows) all.Add(r);
            return all;
        }

        /// <summary>This cursor's saved numbering state, read from the store.</summary>
        public void LoadNumbering(SqliteConnection c) =>
            Numbering = c.ExecuteScalar<byte[]?>("SELECT numbering FROM import_files WHERE id = @Id", new { Id });

        /// <summary>How far a file has been imported (its cursor's byte offset), or null for a file never imported.</summary>
        public static long? ImportedTo(SqliteConnection c, string path) =>
            c.ExecuteScalar<long?>("SELECT max(offset) FROM import_files WHERE path = @path", new { path });

        /// <summary>Records that a file was moved (rotation closing a daily log): its cursor follows it.</summary>
        public static void Moved(SqliteConnection c, string from, string to) =>
            c.Execute("UPDATE import_files SET path = @to WHERE path = @from", new { from, to });
    }

    /// <summary>All known files, looked up by path, then by the hash of their first bytes.</summary>
    internal sealed class FileCursors
    {
        private readonly Dictionary<string, FileCursor> _byPath = new Dictionary<string, FileCursor>(StringComparer.Ordinal);
        private readonly Dictionary<long, List<FileCursor>> _byHead = new Dictionary<long, List<FileCursor>>();

        public void Add(FileCursor cursor)
        {
            _byPath[cursor.Path] = cursor;
            if (!_byHead.TryGetValue(cursor.HeadHash, out var list)) _byHead[cursor.HeadHash] = list = new List<FileCursor>();
            list.Add(cursor);
        }

        /// <summary>
        /// Reads the saved numbering state of each of these files that will be resumed (it has one, and its size or time
        /// changed): the reader thread continues from it without the connection. A moved file has its lines replayed instead.
        /// </summary>
        public void LoadNumbering(SqliteConnection c, IEnumerable<string> paths)
        {
            foreach (var path in paths)
            {
                if (!(ByPath(path) is { HasNumbering: true } cursor)) continue;
                try { if (cursor.Unchanged(FileProbe.Stat(path))) continue; }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { continue; }
                cursor.LoadNumbering(c);
            }
        }

        /// <summary>The cursor of a file at this path (no look at its content).</summary>
        public FileCursor? ByPath(string path) => _byPath.TryGetValue(path, out var byPath) ? byPath : null;

        public FileCursor? Match(string path, FileProbe probe)
        {
            if (_byPath.TryGetValue(path, out var byPath)) return byPath;
            if (probe.Head.Length == 0) return null;
            if (_byHead.TryGetValue(probe.HeadHash(probe.Head.Length), out var list))
            {
                // A moved/rotated file: same first bytes, same kind (plain or gzip), and not already claimed by a file still in place.
                var moved = list.FirstOrDefault(c => c.HeadLength == probe.Head.Length
                                                      && LogFileFinder.IsGzip(c.Path) == probe.IsGzip
                                                      && !File.Exists(c.Path));
                if (moved != null)
                {
                    _byPath.Remove(moved.Path);
                    _byPath[path] = moved;
                    return moved;
                }
            }
            return null;
        }
    }
}
