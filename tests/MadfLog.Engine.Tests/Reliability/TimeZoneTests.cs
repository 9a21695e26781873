using System;
using System.IO;
using MadfLog.Engine.Tests.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    [CollectionDefinition("Machine time zone", DisableParallelization = true)]
    public sealed class MachineTimeZoneCollection { }

    /// <summary>Issue #14: a timestamp without an offset means UTC, whatever the machine's time zone.</summary>
    [Collection("Machine time zone")]
    public class TimeZoneTests
    {
        [Theory]
        [InlineData("2026-11-20T10:00:00", 0)]
        [InlineData("2026-11-20T10:00:00.250", 250)]
        [InlineData("2026-11-20 10:00:00", 0)]
        [InlineData("2026-11-20", -36_000_000)]
        public void ATimestampWithoutAnOffsetIsReadAsUtcInAnyTimeZone(string timestamp, long offsetFromTenUtc)
        {
            var expected = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + offsetFromTenUtc;
            foreach (var zone in new[] { "Asia/Kolkata", "America/Los_Angeles" })
            {
                var before = Environment.GetEnvironmentVariable("TZ");
                try
                {
                    Environment.SetEnvironmentVariable("TZ", zone);
                    TimeZoneInfo.ClearCachedData();
                    Assert.NotEqual(TimeSpan.Zero, TimeZoneInfo.Local.GetUtcOffset(DateTime.UtcNow)); // the machine is really elsewhere
                    using var t = TestPaths.NewTemp();
                    File.WriteAllText(t.File("a.jsonl"), "{\"timestamp\":\"" + timestamp + "\",\"event_type\":\"x\",\"category\":\"y\"}\n");
                    Assert.Equal(1, ImportTests.Import(t.Db, t.File("a.jsonl")).Imported);
                    Assert.Equal(expected, ImportTests.Count(t.Db, "SELECT timestamp FROM events"));
                }
                finally
                {
                    Environment.SetEnvironmentVariable("TZ", before);
                    TimeZoneInfo.ClearCachedData();
                }
            }
        }
    }
}
