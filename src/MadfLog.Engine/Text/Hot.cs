using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// For the per-event loops of an import and the per-row loops of questions. A 1M-event import lasts seconds, and with tiered compilation (and dynamic
    /// PGO, on by default in PowerShell 7) those methods would spend much of it in unoptimized or instrumented code and
    /// be compiled twice: measured, the import needed a third more CPU. AggressiveOptimization compiles them once,
    /// optimized. (The enum member is missing from netstandard2.0; the value is the runtime's, and .NET Framework ignores it.)
    /// </summary>
    internal static class Hot
    {
        public const MethodImplOptions Path = (MethodImplOptions)512;

        /// <summary>
        /// For small methods called once per value inside such loops (reading a row's column): inlined where the JIT can,
        /// else compiled optimized at once. Questions run mostly in a process's first calls, where tiered compilation
        /// would run them unoptimized (sessions over a 10M store: 101 ms warm before, 54-74 after).
        /// </summary>
        public const MethodImplOptions Small = MethodImplOptions.AggressiveInlining | Path;
    }
}
