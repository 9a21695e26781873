using MadfLog.Engine.Events;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>The optional values are held as a value and a bit each: every one reads back as set, null and 0 apart.</summary>
    public class EventRowTests
    {
        [Fact]
        public void OptionalValuesReadBackAsSetAndClearedIndependently()
        {
            var e = new EventRow();
            Assert.Null(e.DurationMs); Assert.Null(e.TokensUsed); Assert.Null(e.ContextPercent); Assert.Null(e.Success);
            Assert.Null(e.TimeSavedOrWastedMs); Assert.Null(e.PatternId);

            e.DurationMs = 0; e.TokensUsed = -5; e.ContextPercent = 0.0; e.Success = false; e.TimeSavedOrWastedMs = long.MinValue; e.PatternId = long.MaxValue;
            Assert.Equal(0L, e.DurationMs); Assert.Equal(-5L, e.TokensUsed); Assert.Equal(0.0, e.ContextPercent); Assert.False(e.Success);
            Assert.Equal(long.MinValue, e.TimeSavedOrWastedMs); Assert.Equal(long.MaxValue, e.PatternId);

            e.Success = true;
            Assert.True(e.Success);
            e.TokensUsed = null;
            Assert.Null(e.TokensUsed);
            Assert.Equal(0L, e.DurationMs); Assert.Equal(0.0, e.ContextPercent); Assert.True(e.Success); Assert.Equal(long.MaxValue, e.PatternId);
            e.Success = null; e.ContextPercent = null; e.DurationMs = null;
            Assert.Null(e.Success); Assert.Null(e.ContextPercent); Assert.Null(e.DurationMs);
            Assert.Equal(long.MinValue, e.TimeSavedOrWastedMs); Assert.Equal(long.MaxValue, e.PatternId);
            e.ContextPercent = 91.2; e.Success = false;
            Assert.Equal(91.2, e.ContextPercent); Assert.False(e.Success);
        }
    }
}
