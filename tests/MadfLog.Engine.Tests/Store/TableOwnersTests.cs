using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Dapper;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Every table's SQL writes live in the owner docs/ARCHITECTURE.md names for it, and every table has one.</summary>
    public class TableOwnersTests
    {
        private static string Engine => Path.Combine(TestPaths.RepoRoot, "src", "MadfLog.Engine");

        /// <summary>The rows between the table-owners markers: table → the files that may write it.</summary>
        private static Dictionary<string, SortedSet<string>> Documented()
        {
            var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "ARCHITECTURE.md"));
            var map = Regex.Match(doc, "<!-- table-owners: begin.*?-->(.*?)<!-- table-owners: end -->", RegexOptions.Singleline).Groups[1].Value;
            var result = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (Match row in Regex.Matches(map, @"^\|(?<tables>[^|]*`[^|]*)\|(?<owners>.*)\|\s*$", RegexOptions.Multiline))
            {
                var owners = new SortedSet<string>(Regex.Matches(row.Groups["owners"].Value, @"`(\w+/\w+\.cs)`").Select(m => m.Groups[1].Value), StringComparer.Ordinal);
                foreach (Match t in Regex.Matches(row.Groups["tables"].Value, @"`(\w+)`")) result[t.Groups[1].Value] = owners;
            }
            return result;
        }

        /// <summary>The engine files (outside the migrations) whose code writes each of these tables: INSERT, UPDATE, DELETE or REPLACE on it.</summary>
        private static Dictionary<string, SortedSet<string>> Writers(IEnumerable<string> tables)
        {
            var files = Directory.EnumerateFiles(Engine, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .Select(f => (path: Path.GetRelativePath(Engine, f).Replace(Path.DirectorySeparatorChar, '/'), code: File.ReadAllText(f)))
                .Where(f => f.path != "Store/Schema.cs")
                .ToList();
            return tables.ToDictionary(t => t, t => new SortedSet<string>(files
                .Where(f => Regex.IsMatch(f.code, $@"\b(INSERT(\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(\s+OR\s+\w+)?|DELETE\s+FROM)\s+(main\.|arch\.|\{{schema\}}\.)?{t}\b"))
                .Select(f => f.path), StringComparer.Ordinal));
        }

        private static List<string> SchemaTables()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            return c.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").ToList();
        }

        [Fact]
        public void EachTableIsWrittenOnlyByItsDocumentedOwner()
        {
            var documented = Documented();
            var tables = SchemaTables();
            var writers = Writers(tables);
            // Tables no code writes (filled by their migration only) need no owner.
            var owned = tables.Where(t => writers[t].Count > 0).ToList();
            Assert.True(owned.Count > 20, "the check found too few written tables: " + string.Join(", ", owned));
            var missing = owned.Where(t => !documented.ContainsKey(t)).ToList();
            Assert.True(missing.Count == 0, "docs/ARCHITECTURE.md names no owner for: " + string.Join(", ", missing));
            var wrong = owned.Where(t => !writers[t].IsSubsetOf(documented[t]))
                .Select(t => $"{t}: written by [{string.Join(", ", writers[t])}], owned by [{string.Join(", ", documented[t])}]").ToList();
            Assert.True(wrong.Count == 0, "tables written outside their owner:\n" + string.Join("\n", wrong));
            var stale = documented.Keys.Where(t => !tables.Contains(t)).ToList();
            Assert.True(stale.Count == 0, "docs/ARCHITECTURE.md names owners of tables the schema does not have: " + string.Join(", ", stale));
        }
    }
}
