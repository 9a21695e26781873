using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>The folder map in docs/ARCHITECTURE.md names every engine folder and what each one uses, as the code does.</summary>
    public class FolderMapTests
    {
        private static string Engine => Path.Combine(TestPaths.RepoRoot, "src", "MadfLog.Engine");

        private static List<string> Folders() => Directory.GetDirectories(Engine).Select(Path.GetFileName)
            .Where(d => d != "bin" && d != "obj" && Directory.EnumerateFiles(Path.Combine(Engine, d!), "*.cs", SearchOption.AllDirectories).Any())
            .Select(d => d!).OrderBy(d => d, StringComparer.Ordinal).ToList();

        /// <summary>The table rows between the folder-map markers: folder → the folders it says it uses.</summary>
        private static Dictionary<string, SortedSet<string>> Documented()
        {
            var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "ARCHITECTURE.md"));
            var map = Regex.Match(doc, "<!-- folder-map: begin.*?-->(.*?)<!-- folder-map: end -->", RegexOptions.Singleline).Groups[1].Value;
            var result = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (Match row in Regex.Matches(map, @"^\| `(\w+)` \|.*\|(.*)\|\s*$", RegexOptions.Multiline))
                result[row.Groups[1].Value] = new SortedSet<string>(row.Groups[2].Value.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0), StringComparer.Ordinal);
            return result;
        }

        /// <summary>The other folders a folder's code refers to: a using directive or a qualified name, outside comments.</summary>
        private static SortedSet<string> Uses(string folder, List<string> folders)
        {
            var code = string.Join("\n", Directory.EnumerateFiles(Path.Combine(Engine, folder), "*.cs", SearchOption.AllDirectories)
                .SelectMany(File.ReadLines).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal))
                .Select(l => Regex.Replace(l, @"\s//.*$", "")));
            return new SortedSet<string>(folders.Where(o => o != folder &&
                Regex.IsMatch(code, $@"using MadfLog\.Engine\.{o};|MadfLog\.Engine\.{o}\.|(?<![\w.""]){o}\.[A-Z]")), StringComparer.Ordinal);
        }

        [Fact]
        public void EveryEngineFolderIsInTheMapWithWhatItUses()
        {
            var folders = Folders();
            var documented = Documented();
            Assert.Equal(folders, documented.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList());
            var wrong = folders.Select(f => (f, doc: string.Join(", ", documented[f]), code: string.Join(", ", Uses(f, folders))))
                .Where(x => x.doc != x.code).Select(x => $"{x.f}: the map says [{x.doc}], the code uses [{x.code}]").ToList();
            Assert.True(wrong.Count == 0, "docs/ARCHITECTURE.md's folder map is out of date:\n" + string.Join("\n", wrong));
        }
        [Fact]
        public void NoFolderUsesAFolderThatUsesItBack()
        {
            var folders = Folders();
            var uses = folders.ToDictionary(f => f, f => Uses(f, folders));
            // Depth-first search; a folder met again while still on the path closes a cycle.
            var state = folders.ToDictionary(f => f, _ => 0); // 0 unvisited, 1 on the path, 2 done
            var path = new List<string>();
            List<string>? cycle = null;
            void Visit(string f)
            {
                state[f] = 1;
                path.Add(f);
                foreach (var u in uses[f])
                {
                    if (cycle != null) return;
                    if (state[u] == 1) { cycle = path.Skip(path.IndexOf(u)).Append(u).ToList(); return; }
                    if (state[u] == 0) Visit(u);
                }
                path.RemoveAt(path.Count - 1);
                state[f] = 2;
            }
            foreach (var f in folders)
                if (state[f] == 0 && cycle == null) Visit(f);
            Assert.True(cycle == null, "engine folders use each other in a cycle: " + string.Join(" -> ", cycle ?? new List<string>()));
        }
    }
}
