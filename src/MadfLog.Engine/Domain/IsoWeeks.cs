using System;

namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// ISO-8601 weeks (Monday to Sunday; week 1 holds the year's first Thursday), as the summaries, the trend, archive
    /// names and revisions count them.
    /// </summary>
    public static class IsoWeeks
    {
        public const long DayMs = 86_400_000;

        public const long HourMs = 3_600_000;

        /// <summary>A timestamp's UTC day, in days since 1970-01-01 (the day summaries' key; floored, so before 1970 too).</summary>
        public static long DayOf(long timestampMs) => Floor(timestampMs, DayMs);

        /// <summary><see cref="DayOf"/> in SQL, over a column or expression of Unix milliseconds.</summary>
        public static string DaySql(string timestampMs) => FloorSql(timestampMs, DayMs);

        /// <summary>A timestamp's UTC hour, in hours since 1970-01-01 (the hour summaries' key; floored like <see cref="DayOf"/>).</summary>
        public static long HourOf(long timestampMs) => Floor(timestampMs, HourMs);

        /// <summary><see cref="HourOf"/> in SQL, over a column or expression of Unix milliseconds.</summary>
        public static string HourSql(string timestampMs) => FloorSql(timestampMs, HourMs);

        /// <summary>The day (<see cref="DayOf"/>) an hour (<see cref="HourOf"/>) lies in.</summary>
        public static long DayOfHour(long hour) => Floor(hour, 24);

        /// <summary><see cref="DayOfHour"/> in SQL.</summary>
        public static string DayOfHourSql(string hour) => FloorSql(hour, 24);

        // Division rounded down (SQLite's and C#'s integer division round toward zero), so times before 1970 fall in their
        // own day or hour, not the next one.
        private static long Floor(long x, long unit) => x >= 0 ? x / unit : (x - unit + 1) / unit;

        private static string FloorSql(string x, long unit) => $"(CASE WHEN {x} >= 0 THEN {x} / {unit} ELSE ({x} - {unit} + 1) / {unit} END)";

        /// <summary>The Monday of a date's week (the date part only).</summary>
        public static DateTime Monday(DateTime date) => date.Date.AddDays(-(((int)date.DayOfWeek + 6) % 7));

        /// <summary>The Monday of a timestamp's week, in days since 1970-01-01 (a Thursday): the summaries' week key.</summary>
        public static long MondayDay(long timestampMs) => MondayOfDay(DayOf(timestampMs));

        /// <summary>The Monday of a day's week, both in days since 1970-01-01.</summary>
        public static long MondayOfDay(long day) => day - ((day + 3) % 7 + 7) % 7;

        /// <summary>The week's name, e.g. 2026-W47: the year is the year of the week's Thursday.</summary>
        public static string Name(DateTime date)
        {
            var thursday = Monday(date).AddDays(3);
            return $"{thursday.Year}-W{(thursday.DayOfYear - 1) / 7 + 1:00}";
        }

        /// <summary>
        /// The name of the week holding most of a window: its middle's. A revision of Monday to Monday, or one run on
        /// Monday morning over the seven days before, is named for the week it revised, not the one its end falls in.
        /// </summary>
        public static string NameOfWindow(DateTime start, DateTime end) => Name(start.AddTicks((end - start).Ticks / 2));

        /// <summary>The week's name of a Unix-milliseconds timestamp (UTC).</summary>
        public static string Name(long timestampMs) => Name(DateTimeOffset.FromUnixTimeMilliseconds(timestampMs).UtcDateTime);
    }
}
