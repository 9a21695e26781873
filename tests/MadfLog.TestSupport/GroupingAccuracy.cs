using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace MadfLog.TestSupport
{
    /// <summary>
    /// Grouping accuracy (GA), the standard score for log template mining: a message is right when its predicted group
    /// holds exactly the messages of its true group. Used by the bench and the accuracy tests.
    /// </summary>
    public static class GroupingAccuracy
    {
        public static double Score<TP, TT>(IReadOnlyList<TP> predicted, IReadOnlyList<TT> truth) where TP : notnull where TT : notnull
        {
            if (predicted.Count != truth.Count) throw new ArgumentException("predicted and truth differ in length");
            if (predicted.Count == 0) return 1;
            var byPred = new Dictionary<TP, List<int>>();
            var byTruth = new Dictionary<TT, List<int>>();
            for (var i = 0; i < predicted.Count; i++)
            {
                if (!byPred.TryGetValue(predicted[i], out var p)) byPred[predicted[i]] = p = new List<int>();
                p.Add(i);
                if (!byTruth.TryGetValue(truth[i], out var t)) byTruth[truth[i]] = t = new List<int>();
                t.Add(i);
            }
            var right = 0;
            foreach (var group in byPred.Values)
            {
                var truthGroup = byTruth[truth[group[0]]];
                if (truthGroup.Count == group.Count && group.All(i => EqualityComparer<TT>.Default.Equals(truth[i], truth[group[0]]))) right += group.Count;
            }
            return (double)right / predicted.Count;
        }

        /// <summary>Pairwise precision and recall: of the pairs put together, how many belong together, and of those that do, how many were.</summary>
        public static (double Precision, double Recall) Pairwise<TP, TT>(IReadOnlyList<TP> predicted, IReadOnlyList<TT> truth) where TP : notnull where TT : notnull
        {
            long both = 0, pred = 0, real = 0;
            for (var i = 0; i < predicted.Count; i++)
                for (var j = i + 1; j < predicted.Count; j++)
                {
                    var p = EqualityComparer<TP>.Default.Equals(predicted[i], predicted[j]);
                    var t = EqualityComparer<TT>.Default.Equals(truth[i], truth[j]);
                    if (p) pred++;
                    if (t) real++;
                    if (p && t) both++;
                }
            return (pred == 0 ? 1 : (double)both / pred, real == 0 ? 1 : (double)both / real);
        }

        /// <summary>One labelled agent error: the failed call and the recurring mistake it belongs to.</summary>
        public sealed class LabelledError
        {
            public string Id = "", Tool = "", Input = "", Text = "", Group = "";
        }

        /// <summary>
        /// Real agent errors (errors.jsonl: id, tool, input, text) with their hand labels (labels.csv: id,group); groups
        /// named in <paramref name="exclude"/> (such as user rejections, which are not agent mistakes) are left out.
        /// </summary>
        public static List<LabelledError> LoadAgentErrors(string errorsJsonl, string labelsCsv, params string[] exclude)
        {
            var labels = ReadCsv(labelsCsv).Skip(1).Where(r => r.Length >= 2).ToDictionary(r => r[0], r => r[1]);
            var list = new List<LabelledError>();
            foreach (var line in File.ReadLines(errorsJsonl, Encoding.UTF8))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var doc = System.Text.Json.JsonDocument.Parse(line);
                var r = doc.RootElement;
                string S(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() ?? "" : "";
                var id = S("id");
                if (!labels.TryGetValue(id, out var group) || exclude.Contains(group)) continue;
                list.Add(new LabelledError { Id = id, Tool = S("tool"), Input = S("input"), Text = S("text"), Group = group });
            }
            return list;
        }

        /// <summary>Messages and their true templates from a Loghub *_structured.csv (columns Content and EventTemplate).</summary>
        public static (List<string> Messages, List<string> Templates) LoadLoghub(string structuredCsv)
        {
            var rows = ReadCsv(structuredCsv).ToList();
            var header = rows[0];
            int content = Array.IndexOf(header, "Content"), template = Array.IndexOf(header, "EventTemplate");
            if (content < 0 || template < 0) throw new InvalidDataException($"{structuredCsv} has no Content/EventTemplate columns");
            return (rows.Skip(1).Select(r => r[content]).ToList(), rows.Skip(1).Select(r => r[template]).ToList());
        }

        private static IEnumerable<string[]> ReadCsv(string path)
        {
            var text = File.ReadAllText(path, Encoding.UTF8);
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else field.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                else if (c == '\n' || c == '\r')
                {
                    if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                    fields.Add(field.ToString()); field.Clear();
                    yield return fields.ToArray();
                    fields.Clear();
                }
                else field.Append(c);
            }
            if (field.Length > 0 || fields.Count > 0) { fields.Add(field.ToString()); yield return fields.ToArray(); }
        }
    }
}
