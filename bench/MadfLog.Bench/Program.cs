using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace MadfLog.Bench
{
    /// <summary>One benchmark: a name users type and a run that prints its figures.</summary>
    public interface IBench
    {
        string Name { get; }
        string Description { get; }
        /// <summary>Runs with the remaining command-line arguments; returns a process exit code.</summary>
        int Run(string[] args);
    }

    public static class Program
    {
        public static int Main(string[] args)
        {
            // Every IBench in this assembly is a command: adding a benchmark is adding a file.
            var benches = typeof(Program).Assembly.GetTypes()
                .Where(t => typeof(IBench).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
                .Select(t => (IBench)Activator.CreateInstance(t)!)
                .OrderBy(b => b.Name, StringComparer.Ordinal)
                .ToList();
            if (args.Length == 0 || args[0] == "list" || args[0] == "--help")
            {
                Console.WriteLine("usage: dotnet run -c Release --project bench/MadfLog.Bench -- <name> [args] | all");
                foreach (var b in benches) Console.WriteLine($"  {b.Name,-18} {b.Description}");
                return 0;
            }
            if (args[0] == "all")
            {
                var code = 0;
                foreach (var b in benches) { Console.WriteLine($"== {b.Name} =="); code |= b.Run(Array.Empty<string>()); }
                return code;
            }
            var bench = benches.FirstOrDefault(b => string.Equals(b.Name, args[0], StringComparison.OrdinalIgnoreCase));
            if (bench == null) { Console.Error.WriteLine($"unknown benchmark '{args[0]}'; try 'list'"); return 64; }
            return bench.Run(args.Skip(1).ToArray());
        }
    }
}
