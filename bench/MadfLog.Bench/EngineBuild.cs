using System.IO;
using System.Reflection.PortableExecutable;

namespace MadfLog.Bench
{
    /// <summary>Which build of the engine this process runs: ReadyToRun (as the module loads it in PowerShell 7) or IL (bench/Directory.Build.targets).</summary>
    internal static class EngineBuild
    {
        public static string Describe()
        {
            var engine = typeof(MadfLog.Engine.Query.Analysis).Assembly.Location;
            using var pe = new PEReader(File.OpenRead(engine));
            // A ReadyToRun image carries its native code in a directory of the CLI header that IL-only assemblies leave empty.
            var precompiled = pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
            return precompiled
                ? "engine ReadyToRun, as PowerShell 7 loads the module"
                : "engine IL (no ReadyToRun copies for this platform, or -p:MadfReadyToRun=false): a process's first calls run it unoptimized";
        }
    }
}
