using System;
using System.Collections.Generic;
using System.Linq;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// A session's errors in time order, with what a window that cuts the session needs to count its retry loops and
    /// leads as a scan of its events in the window does (sequence_session_errors): each error's time and step (its name,
    /// numbered in sequence_steps, and its pattern), and its lead (the three steps before it, each a name and a pattern:
    /// -1 for a step that is no error) with the time of the lead's first step; and the times of the session's last three
    /// steps, carried into the next import. Kept for the sessions whose events arrived in time order: the events of such a
    /// session that a window's start or end leaves in are a run of its events in order, so the window keeps exactly the
    /// leads that start and the errors that lie within it, and a question reads a few bytes per error instead of the events.
    /// </summary>
    internal sealed class ErrorTrail
    {
        // An error: varint (time - session's first), varint back (0: no lead; else 1 + time - the lead's first step's time),
        // then its lead's three steps (with a lead) and its own step, each a varint name number and a zigzag varint pattern.
        private readonly long _first;
        private readonly List<byte> _errors;
        private readonly List<(long Ts, long Name, long Pattern)> _last = new List<(long, long, long)>(LeadSteps + 1);

        private const int LeadSteps = SummaryTables.LeadSteps;

        /// <summary>A trail of a session whose first event is at <paramref name="first"/>, carrying on from its stored errors and last steps (oldest first).</summary>
        public ErrorTrail(long first, byte[]? errors = null, IReadOnlyList<(long Ts, long Name, long Pattern)>? last = null)
        {
            _first = first;
            _errors = new List<byte>(errors ?? Array.Empty<byte>());
            if (last != null) _last.AddRange(last);
        }

        /// <summary>The next step of the session in time order (<paramref name="pattern"/>: -1 for a step that is no error, 0 for an error without a pattern).</summary>
        public void Add(long ts, long name, long pattern)
        {
            if (pattern >= 0)
            {
                Put(_errors, ts - _first);
                if (_last.Count >= LeadSteps)
                {
                    Put(_errors, 1 + ts - _last[_last.Count - LeadSteps].Ts);
                    for (var i = _last.Count - LeadSteps; i < _last.Count; i++) { Put(_errors, _last[i].Name); Put(_errors, Zig(_last[i].Pattern)); }
                }
                else Put(_errors, 0);
                Put(_errors, name); Put(_errors, Zig(pattern));
            }
            _last.Add((ts, name, pattern));
            if (_last.Count > LeadSteps) _last.RemoveAt(0);
        }

        public byte[] Errors => _errors.ToArray();

        /// <summary>The times of the last steps (oldest first), as stored.</summary>
        public byte[] Times()
        {
            var bytes = new List<byte>();
            foreach (var s in _last) Put(bytes, s.Ts - _first);
            return bytes.ToArray();
        }

        /// <summary>The stored times of the last steps (oldest first).</summary>
        public static List<long> ReadTimes(long first, byte[] times)
        {
            var at = 0;
            var list = new List<long>();
            while (at < times.Length) list.Add(first + Get(times, ref at));
            return list;
        }

        /// <summary>An error as stored: its time, its lead's first step's time (none without a lead), and its steps (the lead's three and its own, or its own).</summary>
        public readonly struct Error
        {
            public Error(long ts, long? leadFrom, (long Name, long Pattern)[] steps) { Ts = ts; LeadFrom = leadFrom; Steps = steps; }
            public readonly long Ts;
            public readonly long? LeadFrom;
            public readonly (long Name, long Pattern)[] Steps;
            public (long Name, long Pattern) Own => Steps[Steps.Length - 1];
        }

        /// <summary>The errors of a stored trail, in order.</summary>
        public static IEnumerable<Error> Read(long first, byte[] errors)
        {
            var at = 0;
            while (at < errors.Length)
            {
                var ts = first + Get(errors, ref at);
                var back = Get(errors, ref at);
                var steps = new (long, long)[back == 0 ? 1 : LeadSteps + 1];
                for (var i = 0; i < steps.Length; i++) steps[i] = (Get(errors, ref at), Unzig(Get(errors, ref at)));
                yield return new Error(ts, back == 0 ? (long?)null : ts - (back - 1), steps);
            }
        }

        /// <summary>Each error's own pattern id (0: none) of a stored trail, in order: its retry loops.</summary>
        public static IEnumerable<long> Patterns(byte[] errors) => Read(0, errors).Select(e => e.Own.Pattern);

        private static void Put(List<byte> bytes, long v) => Varint.Put(bytes, v);
        private static long Get(byte[] bytes, ref int at) => Varint.Get(bytes, ref at);
        private static long Zig(long v) => Varint.Zig(v);
        private static long Unzig(long v) => Varint.Unzig(v);
    }
}
