using System.Linq;
using System.Xml.Linq;
using MadfLog.Engine.Insights;
using Xunit;

namespace MadfLog.Engine.Tests.Insights
{
    public class SvgChartTests
    {
        private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

        [Fact]
        public void ALineChartHasTitleAxesUnitsAndOnePointPerValue()
        {
            var svg = SvgChart.Line("Error rate per story", new[] { "1.1", "1.2", "1.3" },
                new[] { new ChartSeries("error rate", new double?[] { 12.5, 8, null }), new ChartSeries("repeated", new double?[] { 6, 2, 1 }) }, "% of events", "story");
            var doc = XDocument.Parse(svg);
            Assert.Equal("Error rate per story", doc.Root!.Element(Svg + "title")!.Value);
            var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
            Assert.Contains("% of events", texts);
            Assert.Contains("story", texts);
            Assert.Contains("1.2", texts);
            Assert.Contains("15", texts); // nice axis maximum above 12.5
            Assert.Equal(5, doc.Descendants(Svg + "circle").Count()); // the null is skipped
            Assert.Equal(2, doc.Descendants(Svg + "polyline").Count());
        }

        [Fact]
        public void AnAxisOfCloseValuesStartsAboveZeroSoTheDifferencesShow()
        {
            Assert.Equal((0.0, 20.0), SvgChart.Range(new[] { 2.0, 12.5 }));
            var (min, max) = SvgChart.Range(new[] { 91.0, 94.5, 97.0 });
            Assert.True(min > 80 && min <= 91 && max >= 97, $"{min}-{max}");
        }

        [Fact]
        public void TextFromLogsIsEscaped()
        {
            var svg = SvgChart.Bars("Top patterns", new[] { ("<script>alert(1)</script> & 'x'", 3.0) }, "errors");
            Assert.DoesNotContain("<script>", svg);
            XDocument.Parse(svg); // well-formed
            Assert.Contains("&lt;script&gt;", SvgChart.Sparkline(new[] { 1.0, 2, 3 }, "<script>"));
        }

        [Theory]
        [InlineData(0.0, 1.0)]
        [InlineData(7.0, 10.0)]
        [InlineData(12.5, 20.0)]
        [InlineData(230.0, 250.0)]
        [InlineData(1000.0, 1000.0)]
        public void AxisMaximaAreRound(double value, double expected) => Assert.Equal(expected, SvgChart.NiceMax(value), 6);
    }
}
