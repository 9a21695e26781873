using MadfLog.Engine.Briefing;
using MadfLog.Engine.Query;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>What a brief line says, read as an agent reads it.</summary>
    public class BriefTextTests
    {
        [Fact]
        public void TheSessionsBriefNamesAStoryOnlyWhenTheSessionHasOne()
        {
            var brief = Briefs.Sessions(new[]
            {
                new SessionSummary { SessionId = "s-untold", Agents = new[] { "main", "compact" }, Events = 4, Errors = 2 },
                new SessionSummary { SessionId = "s-told", Story = "1.2", Agents = new[] { "dev" }, Events = 3, Errors = 1 },
            });
            Assert.Contains("s-untold agents main,compact: 4 ev, 2 err", brief);
            Assert.Contains("s-told story 1.2 agents dev: 3 ev, 1 err", brief);
        }

        [Fact]
        public void TheHumanInteractionsBriefNamesAStoryOnlyWhenThereIsOne()
        {
            var brief = Briefs.HumanInteractions(new[]
            {
                new HumanInteractionSummary { Category = "interruption", Agent = "main", Count = 5, Topics = new[] { "Interrupted Task" } },
                new HumanInteractionSummary { Category = "rejection", Agent = "dev", Story = "1.2", Count = 3, Topics = new[] { "Rejected Bash" } },
            });
            Assert.Contains("interruption 5 main: Interrupted Task", brief);
            Assert.Contains("rejection 3 dev/1.2: Rejected Bash", brief);
        }

        [Fact]
        public void BriefsRoundSharesAsTheTablesDo()
        {
            // The table view formats a share with P1; a brief must show the same figure, not round it twice.
            var share = 0.7815;
            var brief = Briefs.Bottlenecks(new[] { new Bottleneck { Kind = "tool", Name = "Bash", ShareOfTime = share, Count = 1 } });
            Assert.Contains("tool:Bash " + share.ToString("P1", System.Globalization.CultureInfo.InvariantCulture).Replace(" ", "") + ",", brief);
        }

        [Theory]
        [InlineData(0.05, "5%")]
        [InlineData(0.1234, "12.3%")]
        [InlineData(1.0, "100%")]
        public void AShareIsWrittenBriefly(double share, string text) => Assert.Equal(text, Text.Percent.Brief(share));
    }
}
