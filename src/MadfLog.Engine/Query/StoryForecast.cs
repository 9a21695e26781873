using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MadfLog.Engine.Domain;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// The next story's error rate. A line through the stories' error rates on the logit scale, each story weighted by
    /// its events (inverse of the binomial variance of its empirical logit, half an error added either side so 0 and
    /// 100 % stay finite), so the forecast and its interval stay within 0-100 %. The 95 % prediction interval adds the
    /// line's uncertainty to a new story's own (a story of average size), both scaled by the residual dispersion when
    /// the stories vary more than binomially, with Student's t for the few stories there are.
    /// The backtest forecasts each past story from the ones before it and reports the mean absolute error beside the
    /// naive forecast's ("same as the last story").
    /// </summary>
    public static class StoryForecast
    {
        /// <summary>Fewer stories than this give no forecast ("not enough stories").</summary>
        public const int MinStories = 3;

        public static string NotEnough(int stories) => string.Format(Messages.Culture, Messages.ForecastNotEnoughStories, stories, MinStories);

        /// <summary>The forecast in one sentence: the rate, its interval and its backtest beside the naive forecast's.</summary>
        public static string Text(TrendPoint? forecast, int stories)
        {
            if (forecast == null) return string.Format(Messages.Culture, Messages.ForecastNone, NotEnough(stories));
            // Small rates keep two significant digits: a forecast of 0.04 % is not "0 %".
            static string R(double v) => (v * 100).ToString(v < 0.01 ? "0.0##" : "0.#", CultureInfo.InvariantCulture) + "%";
            var text = string.Format(Messages.Culture, Messages.ForecastNextStory, R(forecast.ErrorRate), R(forecast.ErrorRateLow ?? 0), R(forecast.ErrorRateHigh ?? 0));
            return text + (forecast.BacktestStories == 0
                ? Messages.ForecastBacktestTooFew
                : string.Format(Messages.Culture, forecast.BacktestStories == 1 ? Messages.ForecastBacktestOneStory : Messages.ForecastBacktest,
                    R(forecast.BacktestError ?? 0), R(forecast.NaiveBacktestError ?? 0), forecast.BacktestStories));
        }

        /// <summary>The forecast for the story after these (events, errors) in order, or null below <see cref="MinStories"/>.</summary>
        public static TrendPoint? Next(IReadOnlyList<(long events, long errors)> stories)
        {
            var f = Fit(stories);
            if (f == null) return null;
            var point = new TrendPoint
            {
                Kind = "Forecast", Period = "next story", ErrorRate = Math.Round(f.Value.rate, 4),
                ErrorRateLow = Math.Round(f.Value.low, 4), ErrorRateHigh = Math.Round(f.Value.high, 4),
            };
            // One-step-ahead over the past: story k forecast from stories 0..k-1.
            var model = new List<double>();
            var naive = new List<double>();
            for (var k = MinStories; k < stories.Count; k++)
            {
                var actual = Rate(stories[k]);
                model.Add(Math.Abs(Fit(stories.Take(k).ToList())!.Value.rate - actual));
                naive.Add(Math.Abs(Rate(stories[k - 1]) - actual));
            }
            point.BacktestStories = model.Count;
            if (model.Count > 0)
            {
                point.BacktestError = Math.Round(model.Average(), 4);
                point.NaiveBacktestError = Math.Round(naive.Average(), 4);
            }
            return point;
        }

        private static double Rate((long events, long errors) s) => s.events > 0 ? (double)s.errors / s.events : 0;

        private static (double rate, double low, double high)? Fit(IReadOnlyList<(long events, long errors)> all)
        {
            var s = all.Where(x => x.events > 0).ToList();
            var k = s.Count;
            if (k < MinStories) return null;
            var y = new double[k];
            var w = new double[k];
            for (var i = 0; i < k; i++)
            {
                double e = s[i].errors + 0.5, ok = s[i].events - s[i].errors + 0.5;
                y[i] = Math.Log(e / ok);
                w[i] = 1 / (1 / e + 1 / ok);
            }
            double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
            for (var i = 0; i < k; i++)
            {
                sw += w[i]; swx += w[i] * i; swy += w[i] * y[i]; swxx += w[i] * i * i; swxy += w[i] * i * y[i];
            }
            var d = sw * swxx - swx * swx;
            var slope = (sw * swxy - swx * swy) / d;
            var intercept = (swy - slope * swx) / sw;
            double x0 = k, fit = intercept + slope * x0;
            var chi = 0.0;
            for (var i = 0; i < k; i++) chi += w[i] * Math.Pow(y[i] - (intercept + slope * i), 2);
            var dispersion = Math.Max(1, chi / (k - 2));
            var lineVar = dispersion * (sw * x0 * x0 - 2 * swx * x0 + swxx) / d;
            // A new story of average size at the forecast rate, on the logit scale.
            var n = s.Average(x => (double)x.events);
            var p = Logistic(fit);
            var ownVar = dispersion * (1 / (n * p + 0.5) + 1 / (n * (1 - p) + 0.5));
            var half = Stats.T95(k - 2) * Math.Sqrt(lineVar + ownVar);
            return (p, Logistic(fit - half), Logistic(fit + half));
        }

        private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
    }
}
