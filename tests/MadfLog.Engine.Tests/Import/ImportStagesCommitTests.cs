using System.Collections.Generic;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
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
