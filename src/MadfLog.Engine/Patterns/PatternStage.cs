using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Patterns
{
    /// <summary>
    /// Assigns every minable event (Domain.Mining: errors and human interactions) to a stable pattern during import, in the same
    /// transaction as the events: new patterns get new ids, merges keep the oldest id and re-point earlier events,
    /// and per-pattern counts, first/last seen and an example are kept up to date.
    /// </summary>
    public sealed class PatternStage : ImportStage<PatternStage.Signatures>
    {
        private TemplateMiner? _miner;
        private readonly Dictionary<long, PatternEvidence> _examples = new Dictionary<long, PatternEvidence>();
        private readonly PatternReferences _references;

        /// <param name="references">Moves what other folders keep per pattern (the rules) when patterns merge.</param>
        public PatternStage(PatternReferences references) { _references = references; }

        /// <summary>What the preparing thread computed for a batch: the signature and its tokens of every event to mine, by index in the batch.</summary>
        public sealed class Signatures
        {
            public List<(int Index, ErrorSignature Signature, string[] Tokens)> Events { get; } = new List<(int, ErrorSignature, string[])>();
        }

        /// <summary>Tokenizing (the regex work) happens on the preparing thread, not the writer's.</summary>
        [MethodImpl(Hot.Path)]
        public override Signatures? Prepare(List<EventRow> batch)
        {
            Signatures? prepared = null;
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (!Mining.WillMine(e)) continue;
                e.Message = Mining.MessageOf(e); // the split made by ShapeDetailsStage
                var (signature, tokens) = Prepared(e);
                (prepared ??= new Signatures()).Events.Add((i, signature, tokens));
            }
            return prepared;
        }

        // The same failure repeats (a retried call, a test suite failing the same way): its signature and tokens are
        // computed once per import run, from exactly what SignatureOf reads. The miner gets its own copy of the tokens.
        private readonly Dictionary<(string?, string?, string?, string?), (ErrorSignature, string[])> _seen = new Dictionary<(string?, string?, string?, string?), (ErrorSignature, string[])>();

        [MethodImpl(Hot.Path)]
        private (ErrorSignature, string[]) Prepared(EventRow e)
        {
            var human = e.EventType == "human_interaction";
            var tool = human ? null : e.StoredDetails?.Tool ?? e.StoredDetails?.Step ?? e.Step;
            var input = human || !ErrorSignature.IsShell(tool) ? null : CallInput(e.Details);
            var key = (human ? "human" : null, tool, input, e.Message);
            if (!_seen.TryGetValue(key, out var known))
            {
                var signature = human ? ErrorSignature.OfMessage(e.Message) : ErrorSignature.Of(tool, input, e.Message);
                known = (signature, TemplateMiner.Tokenize(signature.Text));
                if (_seen.Count >= 10_000) _seen.Clear();
                _seen[key] = known;
            }
            return (known.Item1, (string[])known.Item2.Clone());
        }

        /// <summary>
        /// What an event's pattern is mined over: for errors, the signature of the failed call (its tool, command and
        /// decisive lines); for human interactions, what was said.
        /// </summary>
        public static ErrorSignature SignatureOf(EventRow e)
        {
            if (e.EventType == "human_interaction") return ErrorSignature.OfMessage(e.Message);
            var tool = e.StoredDetails?.Tool ?? e.StoredDetails?.Step ?? e.Step;
            // Only a shell call's signature uses its input (the command); other calls are read no further.
            return ErrorSignature.Of(tool, ErrorSignature.IsShell(tool) ? CallInput(e.Details) : null, e.Message);
        }

        // The command or input of the call, from details: read for failed shell calls only, and only when details has one.
        [MethodImpl(Hot.Path)]
        private static string? CallInput(string? details)
        {
            if (string.IsNullOrEmpty(details) || !EventDetails.InputKeys.Any(k => details!.IndexOf("\"" + k + "\"", StringComparison.Ordinal) >= 0)) return null;
            return EventDetails.Call(details).Input;
        }

        [MethodImpl(Hot.Path)]
        public override void BeforeWrite(List<EventRow> batch, Signatures? prepared, SqliteConnection connection, SqliteTransaction transaction)
        {
            var miner = _miner ??= PatternStore.LoadMiner(connection, transaction);
            if (prepared == null) return;
            var any = false;
            foreach (var (index, signature, tokens) in prepared.Events)
            {
                var e = batch[index];
                var message = e.Message!;
                var p = miner.AddTokens(tokens);
                e.PatternId = p.Id;
                e.PatternDetected = true;
                if (!_examples.ContainsKey(p.Id))
                    _examples[p.Id] = new PatternEvidence(message!.Length > 500 ? message.Substring(0, 500) : message, signature.Text, signature.ErrorClass);
                any = true;
            }
            if (!any) return;
            // Merges during this batch re-point its rows to the survivors.
            foreach (var e in batch)
                if (e.PatternId.HasValue) e.PatternId = miner.Find(e.PatternId.Value)?.Id ?? e.PatternId;
            PatternStore.Save(connection, transaction, miner, _examples, _references);
        }

        /// <summary>A pattern's events written since the last commit, and their first and last time.</summary>
        private sealed class Written
        {
            public long Events, First = long.MaxValue, Last = long.MinValue;

            public void Add(Written o) { Events += o.Events; First = Math.Min(First, o.First); Last = Math.Max(Last, o.Last); }
        }

        // Per pattern, since the last commit (written once per transaction).
        private readonly Dictionary<long, Written> _stats = new Dictionary<long, Written>();

        public override void AfterWrite(List<EventRow> batch, Signatures? prepared, SqliteConnection connection, SqliteTransaction transaction)
        {
            foreach (var e in batch)
            {
                if (e.Id == 0 || !e.PatternId.HasValue) continue;
                if (!_stats.TryGetValue(e.PatternId.Value, out var s)) _stats[e.PatternId.Value] = s = new Written();
                s.Events++;
                s.First = Math.Min(s.First, e.Timestamp);
                s.Last = Math.Max(s.Last, e.Timestamp);
            }
        }

        public override void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction)
        {
            if (_stats.Count == 0) return;
            // A pattern counted earlier in the transaction may have merged since: its events count for the survivor.
            var merged = new Dictionary<long, Written>();
            foreach (var kv in _stats)
            {
                var id = _miner?.Find(kv.Key)?.Id ?? kv.Key;
                if (!merged.TryGetValue(id, out var m)) { merged[id] = kv.Value; continue; }
                m.Add(kv.Value);
            }
            PatternStore.AddEvents(connection, transaction, merged.Select(kv => (kv.Key, kv.Value.Events, kv.Value.First, kv.Value.Last)));
            _stats.Clear();
        }
    }
}
