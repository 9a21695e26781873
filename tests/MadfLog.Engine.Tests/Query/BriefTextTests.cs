using System.Collections.Generic;
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
        public void TheErrorPatternsBriefNamesOnlyStoriesThatHaveAName()
        {
            var brief = MoreBriefs.ErrorPatterns(new[]
            {
                new ErrorPattern { PatternId = 4, Template = "Bash mix test tests failed", ErrorClass = "TestFailure", Count = 4, Share = 0.5,
                    ByStory = new Dictionary<string, long> { [""] = 4 }, ByAgent = new Dictionary<string, long> { ["main"] = 4 } },
                new ErrorPattern { PatternId = 5, Template = "File does not exist: <*>", ErrorClass = "FileNotFound", Count = 4, Share = 0.5,
                    ByStory = new Dictionary<string, long> { ["1.1"] = 3, [""] = 1 }, ByAgent = new Dictionary<string, long> { ["dev"] = 4 } },
            }, 8);
            Assert.Contains("Bash mix test tests failed | main:4", brief);
            Assert.Contains("File does not exist: <*> | stories 1.1:3 | dev:4", brief);
            Assert.DoesNotContain("stories :", brief);
        }

        [Fact]
        public void TheRuleEffectivenessBriefSaysSoWhenNoRuleIsActive()
        {
            var brief = MoreBriefs.RuleEffectiveness(new List<MadfLog.Engine.Rules.RuleEffect>());
            Assert.StartsWith("No active rules to measure", brief);
            Assert.DoesNotContain("Per rule", brief);
        }

        [Theory]
        [InlineData(1, "agents", "…and 1 more agent")]
        [InlineData(1, "earlier stories", "…and 1 more earlier story")]
        [InlineData(2, "earlier stories", "…and 2 more earlier stories")]
        [InlineData(1, "tool/agent pairs", "…and 1 more tool/agent pair")]
        public void TheMoreLineCountsItsNoun(int n, string noun, string expected) =>
            Assert.Equal(expected, BriefBuilder.More(n, noun));

        [Fact]
        public void TheErrorSequencesBriefSaysSessionsInWords()
        {
            // "27s" read as 27 seconds.
            var brief = MoreBriefs.ErrorSequences(new[]
            {
                new ErrorSequence { Kind = "RetryLoop", Occurrences = 39, Sessions = 27, LongestRun = 10, Sequence = "File does not exist: <*> repeated" },
                new ErrorSequence { Kind = "LeadsToError", Occurrences = 2, Sessions = 1, Sequence = "Read → Edit → error" },
            });
            Assert.Contains("retry 39x in 27 sessions, max 10 in a row: File does not exist", brief);
            Assert.Contains("leads 2x in 1 session: Read", brief);
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
