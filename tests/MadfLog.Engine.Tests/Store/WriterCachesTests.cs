using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>
    /// The import hands one <see cref="EventWriter.Caches"/> from each transaction's writer to the next (so its tables keep
    /// their room): ids a rolled-back transaction cached must not be used by the next writer.
    /// </summary>
    public class WriterCachesTests
    {
        private static EventRow Row(string session, string agent, string type, long at) => new EventRow
        {
            Timestamp = 1_790_000_000_000 + at, EventType = type, Category = "tool", SessionId = session, StoryId = "1.1", AgentName = agent,
            Success = true, DedupKey = StableHash.Hash(session, agent, type, at.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };

        private static void Write(Microsoft.Data.Sqlite.SqliteConnection c, Microsoft.Data.Sqlite.SqliteTransaction tx, EventWriter.Caches caches, params EventRow[] rows)
        {
            using var writer = new EventWriter(c, tx, caches: caches);
            writer.Write(rows.ToList());
            writer.Flush();
        }

        [Fact]
        public void ANamesIdCachedInARolledBackTransactionIsLookedUpAgainByTheNextWriter()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var caches = new EventWriter.Caches();
            using (var tx = c.BeginTransaction())
            {
                // New names, cached with the ids their rows took: all rolled back.
                Write(c, tx, caches, Row("lost-session", "lost-agent", "lost_type", 1));
                tx.Rollback();
            }
            using (var tx = c.BeginTransaction())
            {
                // Other new names first take the ids the lost ones had; then the lost event's names come again.
                Write(c, tx, caches, Row("other-session", "other-agent", "other_type", 2), Row("lost-session", "lost-agent", "lost_type", 3));
                tx.Commit();
            }
            var rows = c.Query<(string Session, string Agent, string Type)>("SELECT session_id, agent_name, event_type FROM events ORDER BY timestamp").ToList();
            Assert.Equal(new[] { ("other-session", "other-agent", "other_type"), ("lost-session", "lost-agent", "lost_type") }, rows);
        }

        [Fact]
        public void WritersSharingCachesAcrossCommitsStoreWhatWritersOfTheirOwnStore()
        {
            var rows = Enumerable.Range(0, 300).Select(i => Row("s" + i % 7, "a" + i % 3, "t" + i % 5, i)).ToList();
            string Stored(bool shared)
            {
                using var t = TestPaths.NewTemp();
                using var c = MadfDatabase.Open(t.Db);
                var caches = new EventWriter.Caches();
                for (var from = 0; from < rows.Count; from += 100)
                    using (var tx = c.BeginTransaction())
                    {
                        Write(c, tx, shared ? caches : new EventWriter.Caches(), rows.Skip(from).Take(100).ToArray());
                        tx.Commit();
                    }
                return string.Join("\n", c.Query<(long, string, string, string)>("SELECT id, session_id, agent_name, event_type FROM events ORDER BY id"));
            }
            Assert.Equal(Stored(shared: false), Stored(shared: true));
        }
    }
}
