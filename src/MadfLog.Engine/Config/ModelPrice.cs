namespace MadfLog.Engine.Config
{
    /// <summary>List prices of one model family in US dollars per million tokens; input, output, cache writes and cache reads priced apart.</summary>
    public sealed class ModelPrice
    {
        /// <summary>The model id or the start of it ("claude-sonnet-4" prices "claude-sonnet-4-5-20250929"); the longest match wins.</summary>
        public string Model { get; set; } = "";
        public double Input { get; set; }
        public double Output { get; set; }
        public double CacheWrite { get; set; }
        public double CacheRead { get; set; }
        /// <summary>When these prices were read (yyyy-MM-dd).</summary>
        public string AsOf { get; set; } = "";
    }
}
