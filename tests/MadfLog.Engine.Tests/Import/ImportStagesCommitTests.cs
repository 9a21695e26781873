using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Summaries;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    public class ImportStagesCommitTests
    {
        private class Stage : IImportStage
        {
            private readonly List<string> _calls;
            protected readonly string Name;

            public Stage(string name, List<string> calls) { Name = name; _calls = calls; }

            protected void Called(string what) => _calls.Add(Name + "." + what);

            public object? Prepare(List<EventRow> batch) => null;
            public void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }
            public void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }
            public void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction) => Called("commit");
        }

        private sealed class EarlyStage : Stage, IStartsCommitEarly
        {
            public EarlyStage(string name, List<string> calls) : base(name, calls) { }

            public void StartCommit(SqliteConnection connection, SqliteTransaction transaction) => Called("start");

            public void AbandonCommit() => Called("abandon");
        }

        private sealed class FailingStage : IImportStage
        {
            public bool Fail = true;
            public object? Prepare(List<EventRow> batch) => null;
            public void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }
            public void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }
            public void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction)
            {
                if (Fail) throw new InvalidOperationException("the flush after the summaries' failed");
            }
        }

        [Fact]
        public void AFlushThatFailsAfterAStageStartedEarlyAbandonsThatStagesCommit()
        {
            var calls = new List<string>();
            var stages = new List<IImportStage> { new Stage("a", calls), new EarlyStage("b", calls), new FailingStage(), new Stage("d", calls) };
            using var c = new SqliteConnection("Data Source=:memory:");
            c.Open();
            using var tx = c.BeginTransaction();
            Assert.Throws<InvalidOperationException>(() => ImportStages.BeforeCommit(stages, c, tx));
            Assert.Equal(new[] { "a.commit", "b.start", "b.abandon" }, calls);
        }

        [Fact]
        public void TheSummariesOfACommitThatFailedAreNotCountedByTheNext()
        {
            // The summaries' derivation runs on the thread pool from StartCommit; a later stage's flush fails before the
            // summaries' BeforeCommit waits for it. The derivation is waited for and the rolled-back events' counts are
            // dropped: the stage, used again, counts only what the next transaction commits.
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var rollup = new RollupStage();
            var failing = new FailingStage();
            var stages = new List<IImportStage> { rollup, failing };
            EventRow Row(int i) => new EventRow
            {
                Timestamp = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + i * 1000L, EventType = "tool_call",
                Category = "execution", AgentName = "dev", StoryId = "1.1", Success = true, DedupKey = 1000 + i,
            };
            using (var tx = c.BeginTransaction())
            {
                ImportStages.Write(c, tx, Enumerable.Range(0, 50).Select(Row).ToList(), stages, flush: false);
                Assert.Throws<InvalidOperationException>(() => ImportStages.BeforeCommit(stages, c, tx));
                Assert.False(rollup.HoldsPending);
            }
            failing.Fail = false;
            using (var tx = c.BeginTransaction())
            {
                ImportStages.Write(c, tx, Enumerable.Range(100, 3).Select(Row).ToList(), stages);
                tx.Commit();
            }
            Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
            Assert.Equal(3, c.ExecuteScalar<long>("SELECT sum(events) FROM event_rollup"));
        }

        [Fact]
        public void AStageThatStartsEarlyStartsInItsTurnAndFinishesAfterTheRest()
        {
            // The summaries' stage derives its rows on another thread while the stages after it flush: it must start
            // after the stages before it (pattern merges are resolved by then) and write after all of them.
            var calls = new List<string>();
            var stages = new List<IImportStage> { new Stage("a", calls), new EarlyStage("b", calls), new Stage("c", calls) };
            using var c = new SqliteConnection("Data Source=:memory:");
            c.Open();
            using var tx = c.BeginTransaction();
            ImportStages.BeforeCommit(stages, c, tx);
            Assert.Equal(new[] { "a.commit", "b.start", "c.commit", "b.commit" }, calls);
        }
    }
}
