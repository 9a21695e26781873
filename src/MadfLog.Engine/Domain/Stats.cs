using System;

namespace MadfLog.Engine.Domain
{
    /// <summary>The few distribution functions the measurements need.</summary>
    public static class Stats
    {
        /// <summary>Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| &lt; 1.5e-7).</summary>
        public static double NormalCdf(double z)
        {
            var x = Math.Abs(z) / Math.Sqrt(2);
            var t = 1 / (1 + 0.3275911 * x);
            var erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
        }

        /// <summary>Two-sided Student t quantile for 95 % with df degrees of freedom (Cornish-Fisher expansion; exact enough for intervals).</summary>
        public static double T95(int df)
        {
            if (df < 1) return double.PositiveInfinity;
            if (df == 1) return 12.706;
            if (df == 2) return 4.303;
            var z = Z95;
            double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
            return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384.0 * df * df * df);
        }

        private const double Z95 = 1.959964;
    }
}
