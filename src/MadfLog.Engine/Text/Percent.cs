using System.Globalization;

namespace MadfLog.Engine.Text
{
    /// <summary>A share as briefs and reports write it: "78.1%", "5%".</summary>
    public static class Percent
    {
        /// <summary>
        /// Rounded as the table views' P1 rounds it, from the exact value: a custom format such as "0.#%" or
        /// (share * 100).ToString("0.#") rounds a 15-digit form first, so 0.7815 became 78.2 where the tables say 78.1.
        /// </summary>
        public static string Brief(double share) =>
            share.ToString("P1", CultureInfo.InvariantCulture).Replace(" ", "").Replace(".0%", "%");
    }
}
