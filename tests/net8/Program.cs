using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using MadfLog.Engine.Briefing;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;

namespace MadfLog.Net8Check
{
    /// <summary>
    /// Imports the example logs into a new store and prints what a user would see first (events, the top error
    /// patterns, a brief), then the runtime and how many methods it compiled: the same answers are expected from the
    /// IL and from the ReadyToRun copies, whichever .NET runs this.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            // The engine and its packages sit beside this app but are not in its deps.json: load them from here.
            AssemblyLoadContext.Default.Resolving += (context, name) =>
            {
                var file = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
                return File.Exists(file) ? context.LoadFromAssemblyPath(file) : null;
            };
            return Run(args[0]);
        }

        // Not inlined: the engine's types are resolved when this is compiled, after the handler above is in place.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Run(string logFolder)
        {
            var db = Path.Combine(Path.GetTempPath(), $"madflog-net8check-{Guid.NewGuid():N}.db");
            try
            {
                var imported = new LogImporter(new ImportOptions { DatabasePath = db }).Import(Directory.GetFiles(logFolder, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal));
                Console.WriteLine($"imported {imported.Imported} events, {imported.Quarantined} quarantined");
                using (var c = MadfDatabase.Open(db, forWrite: false))
                {
                    var items = Analysis.ErrorSummary(c, new QueryFilter(), top: 5);
                    foreach (var i in items) Console.WriteLine($"pattern {i.Count} {i.ErrorClass} {i.Template}");
                    var brief = Briefs.ErrorSummary(items, items.Sum(i => i.Count), imported.Imported, new QueryFilter());
                    Console.WriteLine($"brief {TokenCounter.Count(brief)} tokens: {brief.Split('\n')[0]}");
                }
                Console.Error.WriteLine($"{RuntimeInformation.FrameworkDescription}; engine {typeof(LogImporter).Assembly.Location}; methods compiled {System.Runtime.JitInfo.GetCompiledMethodCount()}");
                return 0;
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(db) + "*")) File.Delete(f);
            }
        }
    }
}
