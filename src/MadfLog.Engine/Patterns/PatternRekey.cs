using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// Re-keys patterns mined before error signatures (schema migration PatternRekeyMigration leaves a pending mark):
    /// each stored pattern gets the signature most of its events have now; patterns that land on one signature merge
    /// into the oldest (its id stays, as with every merge), with their events, counts, summaries and rules. Patterns
    /// are only merged, never split, so ids that rules and reports hold stay valid.
    /// </summary>
    public static class PatternRekey
    {
        // Events read per pattern to find its signature: enough for a majority, bounded on large stores.
        private const int SamplePerPattern = 25;

        public static bool IsPending(SqliteConnection c, SqliteTransaction? tx = null) =>
            c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pattern_rekey'", transaction: tx) > 0
            && c.ExecuteScalar<long>("SELECT count(*) FROM pattern_rekey", transaction: tx) > 0;

        /// <summary>Runs the pending re-key in its own transaction; returns how many patterns merged into others.</summary>
        public static int RunIfPending(SqliteConnection c, PatternReferences references)
        {
            if (!IsPending(c)) return 0;
            using var tx = c.BeginTransaction();
            if (!IsPending(c, tx)) return 0; // another process did it first
            var merged = Rekey(c, tx, references);
            Store.SequenceCells.Reconcile(c, tx); // the error sequences' cells name steps by the classes set here
            c.Execute("DELETE FROM pattern_rekey", transaction: tx);
            tx.Commit();
            return merged;
        }

        private static int Rekey(SqliteConnection c, SqliteTransaction tx, PatternReferences references)
        {
            var patterns = c.Query<(long id, string? example, string? cls, string template)>("SELECT id, example, error_class, template FROM patterns WHERE merged_into IS NULL ORDER BY id", transaction: tx).ToList();
            if (patterns.Count == 0) return 0;
            var signatureOf = new Dictionary<long, ErrorSignature>();
            foreach (var (id, example, _, _) in patterns)
            {
                var events = c.Query<(string type, string? details)>(
                    @"SELECT event_type, details FROM events WHERE id IN (SELECT id FROM event_rows WHERE pattern_id = @id ORDER BY id DESC LIMIT @n)",
                    new { id, n = SamplePerPattern }, tx);
                var signatures = events.Select(e => FromStored(e.type, e.details)).Where(e => !string.IsNullOrWhiteSpace(e.Message)).Select(PatternStage.SignatureOf).ToList();
                signatureOf[id] = signatures.Count > 0
                    ? signatures.GroupBy(s => s.Text).OrderByDescending(g => g.Count()).First().First()
                    : ErrorSignature.OfMessage(example); // only archived events left: the example is what there is
            }

            var classOf = patterns.ToDictionary(p => p.id, p => p.cls);
            var templateOf = patterns.ToDictionary(p => p.id, p => p.template);
            // Mine the signatures in id order so the oldest pattern of each group is met first.
            var maxId = patterns.Max(p => p.id);
            var miner = new TemplateMiner(firstId: maxId + 1);
            var assigned = patterns.Select(p => (p.id, mined: miner.Add(signatureOf[p.id].Text))).ToList();
            var merges = 0;
            var survivorOf = new Dictionary<long, long>();
            foreach (var group in assigned.GroupBy(a => miner.Resolve(a.mined).Id))
            {
                var ids = group.Select(g => g.id).OrderBy(i => i).ToList();
                var survivor = ids[0];
                var template = miner.Find(group.Key)!;
                var sig = signatureOf[survivor];
                // A pattern that neither merges nor changes class keeps its template: the miner here saw one signature
                // per pattern, so its template would name one error's values ("the auth helper") where the pattern's
                // generalises over all of them ("the <*> helper"), and later errors with other values would miss it. One whose
                // signature it no longer stands for (a pipeline keyed by another stage) takes the new one.
                if (ids.Count > 1 || sig.ErrorClass != classOf[survivor] || !TemplateMiner.CoversRuns(templateOf[survivor].Split(' '), TemplateMiner.Tokenize(sig.Text), int.MaxValue))
                    PatternStore.SetTemplate(c, tx, survivor, template.Template, template.Tokens.Length, sig.ErrorClass, TemplateMiner.Display(sig.Text, template.Tokens));
                foreach (var id in ids.Skip(1)) { PatternStore.Move(c, tx, id, survivor, references); merges++; } // cells reconciled once after
                foreach (var id in ids) survivorOf[id] = survivor;
                survivorOf[group.Key] = survivor;
            }

            // The miner's exact index now holds signatures: old message keys would never match again.
            PatternStore.ReplaceSignatures(c, tx, miner.TakeNewSignatures()
                .Select(signature => (signature, mined: miner.ForSignature(signature).Id))
                .Where(x => survivorOf.ContainsKey(x.mined)).Select(x => (x.signature, survivorOf[x.mined])).ToList());
            return merges;
        }

        // An event as the pattern stage sees it, from the stored details (tool or step, command, message).
        private static EventRow FromStored(string type, string? details)
        {
            var (tool, _, message) = EventDetails.Call(details);
            return new EventRow { EventType = type, Details = details, Message = message, Step = tool };
        }
    }
}
