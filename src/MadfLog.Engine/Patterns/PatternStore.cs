using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// Moves, in a pattern merge's transaction, what another folder keeps per pattern id from the merged pattern
    /// (<paramref name="from"/>) to its survivor (<paramref name="into"/>): the rules' (their store passes its move; this
    /// folder cannot name it, since rules are written from patterns).
    /// </summary>
    public delegate void PatternReferences(SqliteConnection c, SqliteTransaction tx, long from, long into);

    /// <summary>What a pattern is shown and classed by: a full example message and the signature it was mined from.</summary>
    public sealed class PatternEvidence
    {
        public PatternEvidence(string example, string signature, string errorClass) { Example = example; Signature = signature; ErrorClass = errorClass; }
        public string Example { get; }
        public string Signature { get; }
        public string ErrorClass { get; }
    }

    /// <summary>
    /// The patterns and pattern_signatures tables' owner: every write to them is here. Loads and saves the miner's state,
    /// adds the counts of written events, records each pattern's first story (from the summaries' flush), re-keys,
    /// and merges a pattern into its survivor with everything that refers to it.
    /// </summary>
    public static class PatternStore
    {
        public static TemplateMiner LoadMiner(SqliteConnection c, SqliteTransaction? tx = null)
        {
            var miner = new TemplateMiner();
            foreach (var r in c.Query<PatternRow>("SELECT id, template, merged_into AS MergedInto FROM patterns ORDER BY id", transaction: tx))
                miner.Restore(r.Id, r.Template, r.MergedInto);
            foreach (var r in c.Query<SignatureRow>("SELECT signature, pattern_id AS PatternId FROM pattern_signatures", transaction: tx))
                miner.RestoreSignature(r.Signature, r.PatternId);
            return miner;
        }

        /// <summary>A patterns row as the miner is restored from (mapped by column name).</summary>
        private sealed class PatternRow
        {
            public long Id { get; set; }
            public string Template { get; set; } = "";
            public long? MergedInto { get; set; }
        }

        /// <summary>A pattern_signatures row (mapped by column name).</summary>
        private sealed class SignatureRow
        {
            public string Signature { get; set; } = "";
            public long PatternId { get; set; }
        }

        /// <summary>Adds each pattern's events written in this transaction to its count, and widens its first and last time.</summary>
        public static void AddEvents(SqliteConnection c, SqliteTransaction tx, IEnumerable<(long Pattern, long Events, long First, long Last)> written) =>
            PreparedBatch.Run(c, tx,
                @"UPDATE patterns SET event_count = event_count + $2,
                    first_seen = CASE WHEN first_seen IS NULL OR first_seen > $3 THEN $3 ELSE first_seen END,
                    last_seen = CASE WHEN last_seen IS NULL OR last_seen < $4 THEN $4 ELSE last_seen END
                  WHERE id = $1", written.Select(w => new object?[] { w.Pattern, w.Events, w.First, w.Last }));

        /// <summary>
        /// Records the story ("" for none) of each pattern's first occurrence, where the event counted at
        /// <c>Ts</c> is the pattern's first (first_seen): from the summaries' flush, which knows each event's story.
        /// </summary>
        public static void SetFirstStories(SqliteConnection c, SqliteTransaction tx, IEnumerable<KeyValuePair<long, (long Ts, string Story)>> firsts) =>
            PreparedBatch.Run(c, tx, "UPDATE patterns SET first_story = $2 WHERE id = $1 AND first_seen = $3",
                firsts.Select(kv => new object?[] { kv.Key, kv.Value.Story, kv.Value.Ts }));

        /// <summary>A re-keyed pattern's new template, its token count, class and display text.</summary>
        public static void SetTemplate(SqliteConnection c, SqliteTransaction tx, long id, string template, int tokenCount, string errorClass, string display) =>
            c.Execute("UPDATE patterns SET template = @template, token_count = @tokenCount, error_class = @errorClass, display = @display WHERE id = @id",
                new { template, tokenCount, errorClass, display, id }, tx);

        /// <summary>Replaces every signature → pattern entry of the miner's exact index (a re-key: old keys would never match again).</summary>
        public static void ReplaceSignatures(SqliteConnection c, SqliteTransaction tx, IEnumerable<(string Signature, long Pattern)> signatures)
        {
            c.Execute("DELETE FROM pattern_signatures", transaction: tx);
            foreach (var (signature, pattern) in signatures)
                c.Execute("INSERT OR REPLACE INTO pattern_signatures(signature, pattern_id) VALUES (@signature, @pattern)", new { signature, pattern }, tx);
        }

        /// <summary>
        /// Earlier events, counts, summaries and what other folders keep per pattern (<paramref name="references"/>: the
        /// rules) follow a merged pattern into its survivor, and the error sequences' cells are counted again for the
        /// sessions that name it (SequenceCells.Reconcile): left as counted before, every whole-store question on error
        /// sequences would read each session's rows until the next import (the archive bench's merge: 15 ms to 150 ms at 1M).
        /// </summary>
        public static void MergeInto(SqliteConnection c, SqliteTransaction tx, long from, long into, PatternReferences references)
        {
            Move(c, tx, from, into, references);
            SequenceCells.Reconcile(c, tx);
        }

        /// <summary>
        /// <see cref="MergeInto"/> without counting the error sequences' cells again: for a caller that merges several and
        /// reconciles once before it commits (the import: Summaries.SequenceStage at each commit; a re-key).
        /// </summary>
        internal static void Move(SqliteConnection c, SqliteTransaction tx, long from, long into, PatternReferences references)
        {
            var p = new { into, Id = from };
            EventStorage.MovePattern(c, tx, from, into);
            c.Execute(@"UPDATE patterns SET event_count = event_count + (SELECT event_count FROM patterns WHERE id = @Id),
                          first_seen = min(coalesce(first_seen, 9223372036854775807), coalesce((SELECT first_seen FROM patterns WHERE id = @Id), 9223372036854775807)),
                          last_seen = max(coalesce(last_seen, 0), coalesce((SELECT last_seen FROM patterns WHERE id = @Id), 0))
                        WHERE id = @into", p, tx);
            c.Execute("UPDATE patterns SET first_story = (SELECT first_story FROM patterns WHERE id = @Id) WHERE id = @into AND first_seen = (SELECT first_seen FROM patterns WHERE id = @Id)", p, tx);
            c.Execute("UPDATE patterns SET event_count = 0, merged_into = @into WHERE id = @Id", p, tx);
            references(c, tx, from, into);
            SummaryTables.MovePattern(c, tx, from, into);
        }

        public static void Save(SqliteConnection c, SqliteTransaction tx, TemplateMiner miner, IDictionary<long, PatternEvidence> examples, PatternReferences references)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var p in miner.TakeDirty().OrderBy(p => p.Id))
            {
                string? example, signature, cls;
                if (examples.TryGetValue(p.Id, out var evidence)) (example, signature, cls) = (evidence.Example, evidence.Signature, evidence.ErrorClass);
                else
                {
                    var stored = c.QueryFirstOrDefault<StoredEvidence>("SELECT example, error_class AS ErrorClass FROM patterns WHERE id = @Id", new { p.Id }, tx);
                    (example, signature, cls) = (stored?.Example, null, stored?.ErrorClass);
                }
                signature ??= example == null ? null : ErrorSignature.OfMessage(example).Text;
                c.Execute(
                    @"INSERT INTO patterns(id, template, token_count, error_class, event_count, example, created, merged_into, display)
                      VALUES (@Id, @Template, @count, @cls, 0, @example, @now, @MergedInto, @display)
                      ON CONFLICT(id) DO UPDATE SET template = excluded.template, token_count = excluded.token_count, merged_into = excluded.merged_into,
                          example = coalesce(patterns.example, excluded.example), display = excluded.display",
                    new { p.Id, p.Template, count = p.Tokens.Length, cls = cls ?? ErrorSignature.OfMessage(example ?? p.Template).ErrorClass, example, now, p.MergedInto,
                          display = TemplateMiner.Display(signature, p.Tokens) }, tx);
                if (p.MergedInto.HasValue) Move(c, tx, p.Id, miner.Find(p.Id)!.Id, references); // the import's commit reconciles the cells (SequenceStage)
            }
            foreach (var signature in miner.TakeNewSignatures())
                c.Execute("INSERT OR REPLACE INTO pattern_signatures(signature, pattern_id) VALUES (@signature, @id)", new { signature, id = miner.ForSignature(signature).Id }, tx);
        }

        /// <summary>A stored pattern's example and class (mapped by column name).</summary>
        private sealed class StoredEvidence
        {
            public string? Example { get; set; }
            public string? ErrorClass { get; set; }
        }
    }
}
