using System.Diagnostics;
using System.Threading;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>StepClock.CurrentThreadCpuSeconds (the bench's floor of the writing thread) counts the calling thread's CPU,
    /// not the wall: it grows while the thread computes and stays put while it sleeps; null where it cannot be read.</summary>
    public class StepClockTests
    {
        [Fact]
        public void CountsTheThreadsCpuNotTheWall()
        {
            var start = StepClock.CurrentThreadCpuSeconds();
            if (!StepClock.ThreadCpu)
            {
                Assert.Null(start);
                return;
            }
            Assert.NotNull(start);
            // Compute until the clock shows 30 ms of this thread's CPU (a busy machine only makes the wall longer).
            var wall = Stopwatch.StartNew();
            double spent = 0;
            var sink = 0L;
            while (spent < 0.03 && wall.Elapsed.TotalSeconds < 20)
            {
                for (var i = 0; i < 100_000; i++) sink += i ^ sink;
                spent = StepClock.CurrentThreadCpuSeconds()!.Value - start!.Value;
            }
            Assert.True(spent >= 0.03, $"the thread computed for {wall.Elapsed.TotalSeconds:F1} s of wall, the clock showed {spent:F3} s ({sink})");

            var beforeSleep = StepClock.CurrentThreadCpuSeconds()!.Value;
            Thread.Sleep(300);
            Assert.True(StepClock.CurrentThreadCpuSeconds()!.Value - beforeSleep < 0.1, "300 ms asleep counted as CPU");
        }
    }
}
