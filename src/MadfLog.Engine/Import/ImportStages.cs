using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>The stages every import runs, in order. One instance per import run (stages may cache per run).</summary>
    public static class ImportStages
    {
        /// <summary>
        /// Writes events the one way that keeps derived data right: stages before, the insert, stages after, in the
        /// caller's transaction. Returns how many rows were new. (The importer prepares on its own thread and passes
        /// what the stages prepared; and writes several batches per transaction: flush false, then
        /// <see cref="BeforeCommit"/> once, with one writer for the transaction so its statements and name ids are reused, flushed before the commit.)
        /// </summary>
        [MethodImpl(Hot.Path)]
        public static int Write(SqliteConnection c, SqliteTransaction tx, List<EventRow> rows, List<IImportStage>? stages = null, PreparedStages? prepared = null, bool flush = true,
            Store.EventWriter? writer = null, Store.StepClock? clock = null)
        {
            stages ??= Create();
            prepared ??= PreparedStages.Run(stages, rows);
            for (var i = 0; i < stages.Count; i++) { stages[i].BeforeWrite(rows, prepared[i], c, tx); clock?.Lap(StepName("before", stages[i])); }
            int inserted;
            if (writer != null) inserted = writer.Write(rows);
            else
                using (var own = new Store.EventWriter(c, tx))
                {
                    inserted = own.Write(rows);
                    own.Flush();
                }
            for (var i = 0; i < stages.Count; i++) { stages[i].AfterWrite(rows, prepared[i], c, tx); clock?.Lap(StepName("after", stages[i])); }
            if (flush) BeforeCommit(stages, c, tx);
            return inserted;
        }

        /// <summary>Lets every stage write what it kept in memory; call once before committing.</summary>
        public static void BeforeCommit(List<IImportStage> stages, SqliteConnection c, SqliteTransaction tx, Store.StepClock? clock = null)
        {
            // A stage that starts early (the summaries' stage derives its rows on another thread) finishes after the rest.
            List<IImportStage>? late = null;
            try
            {
                foreach (var stage in stages)
                {
                    if (stage is IStartsCommitEarly early)
                    {
                        early.StartCommit(c, tx);
                        (late ??= new List<IImportStage>()).Add(stage);
                        clock?.Lap(StepName("start", stage));
                        continue;
                    }
                    stage.BeforeCommit(c, tx);
                    clock?.Lap(StepName("flush", stage));
                }
                while (late?.Count > 0)
                {
                    var stage = late[0];
                    stage.BeforeCommit(c, tx);
                    late.RemoveAt(0); // done: nothing of it left to abandon
                    clock?.Lap(StepName("flush", stage));
                }
            }
            catch
            {
                // A flush failed after a stage started early: its work on another thread is waited for before the failure
                // goes on to roll the transaction back (it would otherwise run on, its own failure never observed).
                if (late != null) foreach (var stage in late) ((IStartsCommitEarly)stage).AbandonCommit();
                throw;
            }
        }

        private static string StepName(string step, IImportStage stage) => step + " " + stage.GetType().Name;

        public static List<IImportStage> Create() => new List<IImportStage>
        {
            new SecretRedactionStage(), // first: nothing downstream (patterns, summaries) sees a secret
            new ShapeDetailsStage(), // after redaction: details are final; patterns and summaries read the split
            new Patterns.PatternStage(Rules.RuleStore.MovePattern), // merges move the rules too
            new Summaries.RollupStage(), // after patterns: summaries count pattern ids
            new Summaries.SequenceStage(), // after the summaries' stage, which names each event's step
        };
    }

    /// <summary>
    /// Splits details on the preparing thread (those the parser did not split already, or that redaction changed), so
    /// the writer only binds values and the later stages read the message and step from the split, not the JSON again.
    /// </summary>
    public sealed class ShapeDetailsStage : IImportStage
    {
        private readonly DetailsShape.Splitter _splitter = new DetailsShape.Splitter();

        public object? Prepare(List<EventRow> batch)
        {
            foreach (var e in batch)
                e.StoredDetails ??= _splitter.Of(e.Details);
            return null;
        }

        public void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction) { }
    }
}
