using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Query.Questions;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    /// <summary>
    /// The events of a span of time counted by session, error pattern and step: what rule effectiveness reads of each
    /// window. One pass of integers over event_rows; a tool call's or step's step is named once per key of its kind's
    /// details shape and the values its name depends on (DayParts.StepSlots, as the cut-window pass keys them), by one
    /// event of that key decoded through the events view (Steps.NameSql). Grouping the view by Steps.NameSql decoded
    /// every tool call's details (json_extract per call: about 2.7 s a week at 1M events).
    /// </summary>
    internal static class WindowRows
    {
        /// <summary>The pattern key of events that are not errors (errors without a pattern are 0).</summary>
        public const long NotAnError = -1;

        /// <summary>Events of one session, error pattern (or <see cref="NotAnError"/>) and step (<see cref="StepKey"/>; null for other events).</summary>
        public sealed class Row
        {
            public string? Session, Step;
            public long Pattern, N;
        }

        /// <summary>The key a step is counted under in <see cref="Row.Step"/>: its kind (Steps.Kind: "tool" or "step"), char 31, its name.</summary>
        public static string StepKey(string kind, string name) => kind + "\u001f" + name;

        private const int ValueBase = 3; // details value k is column ValueBase + k
        private const int IdColumn = 3;

        private sealed class KindInfo
        {
            public string Type = "";
            public bool Error, Named;
            public long Shape; // the details' shape (a names id; -1: stored whole in d1)
        }

        public static List<Row> Read(SqliteConnection c, long from, long to)
        {
            var kinds = c.Query<(long id, string? type, long error, long shape)>(
                    $"SELECT k.id, t.text, k.id IN {Errors.Kinds}, k.details_shape FROM kinds k LEFT JOIN names t ON t.id = k.event_type")
                .ToDictionary(k => k.id, k => new KindInfo
                {
                    Type = k.type ?? "", Error = k.error != 0, Named = Steps.Kind(k.type ?? "") != "event", Shape = k.shape == 0 ? -1 : k.shape,
                });
            // Counted by context, pattern and step key (0: no step; else an index into keys), then named.
            var counts = new Dictionary<(long context, long pattern, int step), long>();
            var keys = new Dictionary<DayParts.StepKey, int>();
            var keyEvent = new List<long> { 0 };
            var keyType = new List<string> { "" };
            var slots = new Dictionary<(long shape, string type), int[]>();
            var text = new System.Text.StringBuilder();
            var sql = $@"SELECT e.context, e.kind, e.pattern_id, e.id, {string.Join(", ", Enumerable.Range(1, Events.DetailsShape.Slots).Select(k => "e.d" + k))}
                         FROM {EventStorage.BlockRows("e", "eb")} WHERE {EventStorage.Within("e", "eb", "@from", "@to")}{EventStorage.BlockBounds("eb", "@from", "@to")}";
            using (var reader = c.ExecuteReader(sql, new { from, to }))
            {
                long lastKind = long.MinValue;
                KindInfo info = null!;
                while (reader.Read())
                {
                    var s = StatementRow.Of(reader);
                    var kind = s.Int64(1);
                    if (kind != lastKind) { info = kinds[kind]; lastKind = kind; }
                    var step = 0;
                    if (info.Named)
                    {
                        if (!slots.TryGetValue((info.Shape, info.Type), out var depends)) slots[(info.Shape, info.Type)] = depends = DayParts.StepSlots(c, info.Type, info.Shape);
                        var key = DayParts.StepKey.Of(info.Type, info.Shape, depends, s, ValueBase, text);
                        if (!keys.TryGetValue(key, out step))
                        {
                            keys[key] = step = keyEvent.Count;
                            keyEvent.Add(s.Int64(IdColumn));
                            keyType.Add(info.Type);
                        }
                    }
                    var pattern = info.Error ? (s.IsNull(2) ? 0 : s.Int64(2)) : NotAnError;
                    var k = (s.Int64(0), pattern, step);
                    counts[k] = counts.TryGetValue(k, out var n) ? n + 1 : 1;
                }
            }
            var names = DayParts.StepNames(c, keyEvent.Skip(1));
            var stepKeys = keyEvent.Select((id, i) => i == 0 ? null : StepKey(Steps.Kind(keyType[i]), names[id])).ToList();
            var sessions = c.Query<(long id, string? session)>(
                    "SELECT x.id, s.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id WHERE x.id IN (SELECT value FROM json_each(@ids))",
                    new { ids = "[" + string.Join(",", counts.Keys.Select(k => k.context).Distinct()) + "]" })
                .ToDictionary(x => x.id, x => x.session);
            // Contexts of one session (its stories, agents) and step keys of one name are summed into one row.
            var rows = new Dictionary<(string? session, long pattern, string? step), Row>();
            foreach (var kv in counts)
            {
                sessions.TryGetValue(kv.Key.context, out var session);
                var rk = (session, kv.Key.pattern, stepKeys[kv.Key.step]);
                if (!rows.TryGetValue(rk, out var row)) rows[rk] = row = new Row { Session = session, Pattern = kv.Key.pattern, Step = rk.Item3 };
                row.N += kv.Value;
            }
            return rows.Values.ToList();
        }
    }
}
