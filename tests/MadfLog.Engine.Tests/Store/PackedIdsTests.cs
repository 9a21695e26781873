using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Schema 81: a details literal of exactly 22 base-62 characters in d1 (a Claude Code id after its shared start) is stored as 17 bytes.</summary>
    public class PackedIdsTests
    {
        private static readonly string Zeros = new string('0', 22), Zs = new string('z', 22);

        // Details with ids: tool-use and message ids after their shared start, an object whose five values are all ids
        // (no shared start: whole; the first is packed, the others stay text), and near misses that stay text. A key's strings are names until its first 256 show it
        // is an id's (then literals), and the literals' shared start is learned on their first 64: the edge ids come last.
        private const int Lines = 1200;

        private static List<string> Details()
        {
            var r = new Random(5);
            var details = new List<string>();
            for (var i = 0; i < Lines; i++)
            {
                var id = i >= Lines - 9 ? (i % 9 < 3 ? Zeros : i % 9 < 6 ? Zs : "0" + LiteralPrefixTests.Random(r, 21)) : LiteralPrefixTests.Random(r, 22);
                details.Add(i % 3 == 0
                    ? "{\"tool\":\"Read\",\"tool_use_id\":\"toolu_01" + id + "\",\"line\":" + i + "}"
                    : i % 3 == 1
                        ? "{\"model\":\"claude-sonnet-4-5\",\"message_id\":\"msg_01" + id + "\",\"input_tokens\":" + i + ",\"output_tokens\":13,\"cache_creation_input_tokens\":7,\"cache_read_input_tokens\":99,\"stop_reason\":null}"
                        : "{\"a\":\"" + id + "\",\"b\":\"" + LiteralPrefixTests.Random(r, 22) + "\",\"c\":\"" + LiteralPrefixTests.Random(r, 22) + "\",\"d\":\"" + LiteralPrefixTests.Random(r, 22) + "\",\"e\":\"" + LiteralPrefixTests.Random(r, 22) + "\"}");
            }
            // Not exactly 22 base-62 characters: one short, one long, one with a dash, one outside ASCII.
            foreach (var near in new[] { LiteralPrefixTests.Random(r, 21), LiteralPrefixTests.Random(r, 23), LiteralPrefixTests.Random(r, 10) + "-" + LiteralPrefixTests.Random(r, 11), LiteralPrefixTests.Random(r, 21) + "\u00e9" })
                details.Add("{\"tool\":\"Read\",\"tool_use_id\":\"toolu_01" + near + "\",\"line\":0}");
            return details;
        }

        private static string WriteLogs(TempFolder t, List<string> details, long start = 0, long step = 1000)
        {
            var file = t.File("ids.jsonl");
            File.WriteAllLines(file, details.Select((d, i) => LiteralPrefixTests.Line((start == 0 ? LiteralPrefixTests.T0 : start) + i * step, d)));
            return file;
        }

        private static long Packed(SqliteConnection c, string col = "d1") => c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE typeof({col}) = 'blob'");

        [Fact]
        public void AnIdRoundTripsInCAndInPlainSqlite()
        {
            var r = new Random(3);
            var ids = new[] { Zeros, Zs, "0000000000000000000001", "zzzzzzzzzzzzzzzzzzzzz0", "Z" + Zeros.Substring(1) }.Concat(Enumerable.Range(0, 200).Select(_ => LiteralPrefixTests.Random(r, 22))).ToList();
            using var plain = new SqliteConnection("Data Source=:memory:");
            plain.Open();
            foreach (var id in ids)
            {
                Assert.True(PackedId.Is(id, 0, id.Length));
                var packed = PackedId.Pack(id, 0);
                Assert.Equal(PackedId.PackedLength, packed.Length);
                Assert.Equal(id, PackedId.Unpack(packed));
                Assert.Equal(id, plain.ExecuteScalar<string>($"SELECT {PackedId.Sql("$b")}", new Dictionary<string, object> { ["b"] = packed }));
            }
            Assert.Equal(new byte[17], PackedId.Pack(Zeros, 0));
            Assert.Equal(ids.Count, ids.Select(id => Convert.ToBase64String(PackedId.Pack(id, 0))).Distinct().Count());
            // Within a longer text, as the writer finds a literal after its shared start.
            Assert.Equal(Zs, PackedId.Unpack(PackedId.Pack("\"toolu_01" + Zs + "\"", 9)));
        }

        [Fact]
        public void ATextThatIsNotExactlyAnIdIsNotPacked()
        {
            foreach (var text in new[] { "", new string('a', 21), new string('a', 23), "aaaaaaaaaa-aaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaa\u00e9", "aaaaaaaaaaaaaaaaaaaaa ", "aaaaaaaaaaaaaaaaaaaaa_" })
            {
                Assert.False(PackedId.Is(text, 0, text.Length));
                Assert.Same(text, PackedId.Packed(text));
            }
            Assert.Equal(12L, PackedId.Packed(12L));
            Assert.Null(PackedId.Unpack(new byte[16]));
            Assert.Null(PackedId.Unpack(Enumerable.Repeat((byte)0xFF, 17).ToArray())); // a group past 62^4 - 1
        }

        [Fact]
        public void ImportedIdsAreStoredIn17BytesAndReadBackAsWritten()
        {
            using var t = TestPaths.NewTemp();
            var details = Details();
            Assert.Equal(details.Count, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { WriteLogs(t, details) }).Imported);
            // Plain SQLite (no function of ours) reads them back through the view, and the cmdlets' reader too.
            Assert.Equal(details, LiteralPrefixTests.Read(t.Db));
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(details, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).OrderBy(e => e.Timestamp).Select(e => e.Details));
            // Every literal id in d1 (tool-use and message ids after their learned start, the edge ones included, and the
            // first of the objects of five ids); ids in the other slots stay text.
            Assert.True(Packed(c) > 250, $"{Packed(c)} packed");
            foreach (var col in EventStorage.ValueColumns.Skip(PackedId.Slots))
            {
                Assert.Equal(0, Packed(c, col));
                // A slot before the last holds an id alone; the last, the object's members from its own on (ids among them) as one literal.
                var id = col == EventStorage.ValueColumns.Last() ? $"length({col}) > {PackedId.Length} AND {col} LIKE '%\"_%\"%'" : $"length({col}) = {PackedId.Length}";
                Assert.True(c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE typeof({col}) = 'text' AND {id}") >= 100, col);
            }
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE " + string.Join(" OR ", EventStorage.ValueColumns.Select(col => $"typeof({col}) = 'blob' AND length({col}) <> 17"))));
            foreach (var id in new[] { Zeros, Zs })
                Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE d1 = @b", new { b = PackedId.Pack(id, 0) }));
            // The near misses stay text, after the shared start.
            foreach (var near in details.Skip(Lines))
                Assert.Equal("text", c.ExecuteScalar<string>("SELECT typeof(d1) FROM events e JOIN event_rows r ON r.id = e.id WHERE e.details = @near", new { near }));
        }

        [Fact]
        public void RetentionArchivesPackedIdsAndTheCombinedStoreReadsThem()
        {
            using var t = TestPaths.NewTemp();
            var details = Details();
            // A minute apart, newest first, from 2026-10-01 10:03: retention of 30 days on 2026-10-31 moves September's 600,
            // the last written (most of the packed ids), to an archive.
            var start = new DateTimeOffset(2026, 10, 1, 10, 3, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { WriteLogs(t, details, start, -60_000) });
            Directory.CreateDirectory(t.File("live"));
            var moved = new Rotation(new RotationOptions
            {
                DatabasePath = t.Db, LogPaths = new[] { t.File("live") }, ArchivePath = t.File("archive"), RetentionDays = 30,
                Now = new DateTimeOffset(2026, 10, 31, 0, 0, 0, TimeSpan.Zero),
            }).Run().EventsMoved;
            Assert.Equal(600, moved);
            using (var active = MadfDatabase.Open(t.Db, forWrite: false))
            {
                var archive = CombinedStore.Archives(active).Single().ArchivePath;
                using var a = MadfDatabase.Open(archive, forWrite: false);
                Assert.True(Packed(a) > 250, $"{Packed(a)} archived");
                Assert.Equal(details.Skip(details.Count - (int)moved), LiteralPrefixTests.Read(archive));
            }
            using var store = MadfStore.OpenWithArchives(t.Db);
            Assert.True(store.IncludesArchives);
            Assert.Equal(details, LiteralPrefixTests.Read(store.Path));
        }

        [Fact]
        public void TheViewUnpacksAnIdOncePerRowAndAStoreOfSchema82TakesThatView()
        {
            using var t = TestPaths.NewTemp();
            var details = Details();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { WriteLogs(t, details) });
            // How many times the view's text unpacks d1 (SQLite copies the whole text into every statement on the view).
            static long Unpackings(SqliteConnection c) =>
                c.ExecuteScalar<string>("SELECT sql FROM sqlite_master WHERE name = 'events'")!.Split(new[] { "typeof(r.d1) = 'blob'" }, StringSplitOptions.None).Length - 1;
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(1, Unpackings(c));
                // As schema 81 and 82 had it: the unpacking in each of the details' two branches.
                CompactStorageTests.UndoThreeSlots(c);
                c.Execute("DROP VIEW events; DELETE FROM schema_version WHERE version >= 83;" + Schema.EventsViewOf81);
                Assert.Equal(2, Unpackings(c));
                Assert.Equal(details, LiteralPrefixTests.Read(t.Db));
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(1, Unpackings(c));
            Assert.Equal(details, LiteralPrefixTests.Read(t.Db));
        }

        [Fact]
        public void AStoreOfSchema80AnswersTheSameOnceItsIdsArePackedAndImportsOnAsAFreshOne()
        {
            long packed = 0, texts = 0, changed = 0;
            var text = $"SELECT count(*) FROM event_rows WHERE typeof(d1) = 'text' AND length(d1) = {PackedId.Length}";
            TurnedBackStore.Check(
                before: c => { packed = Packed(c); texts = c.ExecuteScalar<long>(text); },
                turnBack: c =>
                {
                    // As schema 80 held them: the ids as text.
                    CompactStorageTests.UndoPackedIds(c);
                    Assert.Equal(0, Packed(c));
                    Assert.Equal(texts + packed, c.ExecuteScalar<long>(text));
                    changed = c.ExecuteScalar<long>("SELECT count(*) FROM event_changes");
                },
                upgraded: c =>
                {
                    Assert.True(packed > 250, $"{packed} packed");
                    Assert.Equal(packed, Packed(c));
                    Assert.Equal(texts, c.ExecuteScalar<long>(text)); // the near misses
                    // The copy lists no row as changed.
                    Assert.Equal(changed, c.ExecuteScalar<long>("SELECT count(*) FROM event_changes"));
                },
                importedOn: (c, f) =>
                {
                    foreach (var col in EventStorage.ValueColumns) Assert.Equal(Packed(f, col), Packed(c, col));
                    Assert.Equal(f.Query<string>("SELECT details FROM events ORDER BY timestamp, details"), c.Query<string>("SELECT details FROM events ORDER BY timestamp, details"));
                },
                firstLogs: t => new[] { WriteLogs(t, Details()) });
        }
    }
}
