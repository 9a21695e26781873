using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Details a parser wrote as UTF-8 on the reading thread, kept as those bytes until the preparing thread splits them
    /// (<see cref="SplitAll"/>, before any stage reads them). On transcripts the reading thread is what limits an import
    /// (the writer waited for it there) while the preparing thread has time to spare, and the split was a third of the
    /// transcript parser's own work. The bytes go into chunks shared by many events: one allocation per chunk, not per event.
    /// </summary>
    internal sealed class UnsplitDetails
    {
        // Under the large object heap's threshold (85 KB): a chunk dies young, with the batches that point into it.
        private const int ChunkBytes = 16 * 1024;
        private byte[] _chunk = Array.Empty<byte>();
        private int _used;

        /// <summary>Gives the event the details as a copy of <paramref name="json"/>, to be split later.</summary>
        [MethodImpl(Hot.Path)]
        public void Keep(EventRow row, ReadOnlySpan<byte> json)
        {
            if (_chunk.Length - _used < json.Length)
            {
                _chunk = new byte[Math.Max(ChunkBytes, json.Length)];
                _used = 0;
            }
            json.CopyTo(new Span<byte>(_chunk, _used, json.Length));
            row.UnsplitDetails = new ArraySegment<byte>(_chunk, _used, json.Length);
            _used += json.Length;
        }

        /// <summary>Splits the details the events still hold as bytes, as the parser would have (written by a
        /// <see cref="System.Text.Json.Utf8JsonWriter"/>, so without whitespace between tokens).</summary>
        [MethodImpl(Hot.Path)]
        public static void SplitAll(List<EventRow> batch, DetailsShape.Splitter splitter)
        {
            foreach (var e in batch)
            {
                var bytes = e.UnsplitDetails;
                if (bytes.Array == null) continue;
                e.UnsplitDetails = default;
                splitter.Into(e, bytes, written: true);
            }
        }
    }
}
