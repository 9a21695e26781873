using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    [CollectionDefinition("Whole heap", DisableParallelization = true)]
    public sealed class WholeHeapCollection { }

    /// <summary>The import's compaction between transactions (HeapCompaction): found on this runtime, and it gives back a
    /// heap's free space where the collector on its own leaves it.</summary>
    [Collection("Whole heap")]
    public class HeapCompactionTests
    {
        [Fact]
        public void TheRuntimeReportsTheHeapsFreeSpace()
        {
            GC.Collect();
            var last = HeapCompaction.LastCollection();
            Assert.NotNull(last); // .NET 10: GC.GetGCMemoryInfo found by reflection, its two properties read
            Assert.InRange(last!.Value.free, 0, last.Value.heap);
            Assert.True(last.Value.heap > 0);
        }

        [Theory]
        [InlineData(63, 100, false)]  // under the minimum: not worth a pause
        [InlineData(64, 100, true)]   // 64 % free
        [InlineData(80, 320, false)]  // exactly a quarter: not more than a quarter
        [InlineData(80, 319, true)]
        [InlineData(200, 1000, false)]
        public void CompactsOnlyPastAQuarterFreeAndTheMinimum(long freeMb, long heapMb, bool worth) =>
            Assert.Equal(worth, HeapCompaction.Worth(freeMb << 20, heapMb << 20));

        [Fact]
        public void AFragmentedLargeObjectHeapIsCompacted()
        {
            // Large arrays (above 85,000 bytes) live in the large object heap, which a collection does not compact unless
            // asked: every other one dropped leaves holes as an import's grown and dropped arrays do.
            var kept = EveryOtherOf(2400);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
            var before = HeapCompaction.LastCollection()!.Value;
            Assert.True(before.free >= 100L << 20, $"the holes: {before.free >> 20} MB free of {before.heap >> 20}");

            Assert.True(HeapCompaction.CompactIfFragmented());

            var after = HeapCompaction.LastCollection()!.Value;
            Assert.True(after.free < before.free / 4, $"{before.free >> 20} MB free before, {after.free >> 20} after");
            Assert.False(HeapCompaction.CompactIfFragmented()); // nothing left worth a pause
            GC.KeepAlive(kept);
        }

        // In a method of its own, so no local of the caller's frame keeps the dropped arrays alive.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static List<byte[]> EveryOtherOf(int count)
        {
            var all = new byte[count][];
            for (var i = 0; i < count; i++) all[i] = new byte[100_000];
            var kept = new List<byte[]>();
            for (var i = 0; i < count; i += 2) kept.Add(all[i]);
            return kept;
        }
    }
}
