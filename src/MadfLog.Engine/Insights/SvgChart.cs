using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;

namespace MadfLog.Engine.Insights
{
    /// <summary>A named series of values for a chart.</summary>
    public sealed class ChartSeries
    {
        public ChartSeries(string name, IReadOnlyList<double?> values) { Name = name; Values = values; }
        public string Name { get; }
        public IReadOnlyList<double?> Values { get; }
    }

    /// <summary>
    /// Inline SVG charts with titles, axes and units. Colours come from CSS classes (.madf-s0…) and currentColor,
    /// so the page's light and dark styles apply; no scripts, fonts or external files.
    /// </summary>
    public static class SvgChart
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>
        /// A line chart. The y axis starts at 0 unless every value is above half the largest: then it starts at a round
        /// value below the smallest, so differences between close values are visible (the axis labels say where it starts).
        /// </summary>
        public static string Line(string title, IReadOnlyList<string> xLabels, IReadOnlyList<ChartSeries> series, string yUnit, string xTitle, int width = 1040, int height = 280)
        {
            const int left = 56, right = 16, top = 34, bottom = 48;
            var plotW = width - left - right;
            var plotH = height - top - bottom;
            var all = series.SelectMany(s => s.Values).Where(v => v.HasValue).Select(v => v!.Value).ToList();
            var (min, max) = Range(all);
            var sb = Open(title, width, height);
            Axes(sb, left, top, plotW, plotH, min, max, yUnit, xTitle);
            var n = Math.Max(1, xLabels.Count);
            double X(int i) => left + (n == 1 ? plotW / 2.0 : plotW * i / (double)(n - 1));
            double Y(double v) => top + plotH - plotH * (v - min) / (max - min);
            var step = Math.Max(1, (int)Math.Ceiling(n / 10.0));
            for (var i = 0; i < xLabels.Count; i += step)
                sb.Append($"<text class=\"madf-tick\" x=\"{F(X(i))}\" y=\"{F(top + plotH + 16)}\" text-anchor=\"middle\">{E(xLabels[i])}</text>");
            for (var s = 0; s < series.Count; s++)
            {
                var points = series[s].Values.Select((v, i) => v.HasValue ? $"{F(X(i))},{F(Y(v.Value))}" : null).Where(p => p != null).ToList();
                if (points.Count > 1) sb.Append($"<polyline class=\"madf-s{s % 6}\" fill=\"none\" stroke-width=\"2\" points=\"{string.Join(" ", points)}\"/>");
                foreach (var (v, i) in series[s].Values.Select((v, i) => (v, i)).Where(p => p.v.HasValue))
                    sb.Append($"<circle class=\"madf-s{s % 6} madf-dot\" cx=\"{F(X(i))}\" cy=\"{F(Y(v!.Value))}\" r=\"3\"><title>{E(series[s].Name)} {E(xLabels.ElementAtOrDefault(i) ?? "")}: {F(v.Value)} {E(yUnit)}</title></circle>");
            }
            Legend(sb, series.Select(s => s.Name).ToList(), left, top - 12);
            return sb.Append("</svg>").ToString();
        }

        /// <summary>Horizontal bars, largest first as given.</summary>
        public static string Bars(string title, IReadOnlyList<(string Label, double Value)> bars, string unit, int width = 1040)
        {
            const int labelW = 220, top = 34, row = 22, right = 70;
            var height = top + Math.Max(1, bars.Count) * row + 30;
            var plotW = width - labelW - right;
            var max = NiceMax(bars.Count == 0 ? 1 : Math.Max(bars.Max(b => b.Value), 0));
            var sb = Open(title, width, height);
            for (var i = 0; i < bars.Count; i++)
            {
                var y = top + i * row;
                var w = plotW * bars[i].Value / max;
                sb.Append($"<text class=\"madf-tick\" x=\"{labelW - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{E(Shorten(bars[i].Label, 34))}<title>{E(bars[i].Label)}</title></text>");
                sb.Append($"<rect class=\"madf-s{i % 6}\" x=\"{labelW}\" y=\"{y + 4}\" width=\"{F(Math.Max(1, w))}\" height=\"{row - 8}\" rx=\"2\"/>");
                sb.Append($"<text class=\"madf-tick\" x=\"{F(labelW + w + 6)}\" y=\"{y + 15}\">{F(bars[i].Value)} {E(unit)}</text>");
            }
            sb.Append($"<line class=\"madf-axis\" x1=\"{labelW}\" y1=\"{top}\" x2=\"{labelW}\" y2=\"{top + bars.Count * row}\"/>");
            sb.Append($"<text class=\"madf-tick\" x=\"{labelW + plotW}\" y=\"{height - 8}\" text-anchor=\"end\">{E(unit)} (scale 0 to {F(max)})</text>");
            return sb.Append("</svg>").ToString();
        }

        /// <summary>A small trend line for a table cell (no axes; the table says what it is).</summary>
        public static string Sparkline(IReadOnlyList<double> values, string label, int width = 100, int height = 22)
        {
            var max = values.Count == 0 ? 1 : Math.Max(values.Max(), 1e-9);
            var n = Math.Max(1, values.Count - 1);
            var pts = values.Select((v, i) => $"{F(1 + (width - 2) * i / (double)n)},{F(height - 2 - (height - 4) * v / max)}");
            var points = pts.ToList();
            // The last value as a dot, so a single week still shows something.
            var lastDot = values.Count == 0 ? "" : $"<circle class=\"madf-s0\" cx=\"{points[points.Count - 1].Split(',')[0]}\" cy=\"{points[points.Count - 1].Split(',')[1]}\" r=\"2\"/>";
            return $"<svg class=\"madf-spark\" role=\"img\" aria-label=\"{E(label)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{E(label)}</title><polyline class=\"madf-s0\" fill=\"none\" stroke-width=\"1.5\" points=\"{string.Join(" ", points)}\"/>{lastDot}</svg>";
        }

        private static StringBuilder Open(string title, int width, int height) => new StringBuilder()
            .Append($"<svg class=\"madf-chart\" role=\"img\" aria-label=\"{E(title)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">")
            .Append($"<title>{E(title)}</title><text class=\"madf-title\" x=\"8\" y=\"18\">{E(title)}</text>");

        /// <summary>The y range: [0, nice max], or [round value below the minimum, that + nice span] when all values are close.</summary>
        public static (double min, double max) Range(IReadOnlyList<double> values)
        {
            if (values.Count == 0) return (0, 1);
            double lo = values.Min(), hi = Math.Max(values.Max(), 0);
            if (lo <= 0 || lo <= hi / 2) return (0, NiceMax(hi));
            // Four round steps from a multiple of the step below the minimum to at or above the maximum.
            var step = NiceMax((hi - lo) / 4);
            for (var i = 0; i < 8; i++)
            {
                var start = Math.Floor(lo / step) * step;
                if (start + 4 * step >= hi) return (Math.Round(start, 10), Math.Round(start + 4 * step, 10));
                step = NiceMax(step * 1.01);
            }
            return (0, NiceMax(hi));
        }

        private static void Axes(StringBuilder sb, int left, int top, int plotW, int plotH, double min, double max, string yUnit, string xTitle)
        {
            for (var i = 0; i <= 4; i++)
            {
                var v = min + (max - min) * i / 4;
                var y = top + plotH - plotH * i / 4.0;
                sb.Append($"<line class=\"madf-grid\" x1=\"{left}\" y1=\"{F(y)}\" x2=\"{left + plotW}\" y2=\"{F(y)}\"/>");
                sb.Append($"<text class=\"madf-tick\" x=\"{left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{F(v)}</text>");
            }
            sb.Append($"<line class=\"madf-axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + plotH}\"/>");
            sb.Append($"<line class=\"madf-axis\" x1=\"{left}\" y1=\"{top + plotH}\" x2=\"{left + plotW}\" y2=\"{top + plotH}\"/>");
            sb.Append($"<text class=\"madf-unit\" transform=\"translate(14,{F(top + plotH / 2.0)}) rotate(-90)\" text-anchor=\"middle\">{E(yUnit)}</text>");
            sb.Append($"<text class=\"madf-unit\" x=\"{F(left + plotW / 2.0)}\" y=\"{top + plotH + 36}\" text-anchor=\"middle\">{E(xTitle)}</text>");
        }

        private static void Legend(StringBuilder sb, List<string> names, int x, int y)
        {
            if (names.Count < 2) return;
            var offset = 0;
            for (var i = 0; i < names.Count; i++)
            {
                var px = x + 240 + offset;
                sb.Append($"<rect class=\"madf-s{i % 6}\" x=\"{px}\" y=\"{y - 8}\" width=\"10\" height=\"10\"/><text class=\"madf-tick\" x=\"{px + 14}\" y=\"{y + 1}\">{E(names[i])}</text>");
                offset += 24 + names[i].Length * 7;
            }
        }

        /// <summary>1, 2, 2.5, 5 × 10^k at or above the value, so axis ticks are round.</summary>
        public static double NiceMax(double value)
        {
            if (value <= 0) return 1;
            var exp = Math.Pow(10, Math.Floor(Math.Log10(value)));
            foreach (var m in new[] { 1, 2, 2.5, 5, 10 })
                if (m * exp >= value) return m * exp;
            return 10 * exp;
        }

        private static string Shorten(string s, int n) => s.Length <= n ? s : s.Substring(0, n - 1) + "…";
        private static string F(double v) => Math.Round(v, 2).ToString("0.##", Inv);
        private static string E(string s) => SecurityElement.Escape(s) ?? "";
    }
}
