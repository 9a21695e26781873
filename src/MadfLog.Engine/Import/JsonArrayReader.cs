using System;
using System.IO;

namespace MadfLog.Engine.Import
{
    /// <summary>What the import loop reads records from: lines of a JSONL file, or the elements of a JSON array.</summary>
    internal interface IRecordReader
    {
        /// <summary>Offset just past the last record returned.</summary>
        long Position { get; }

        /// <summary>
        /// The next record's bytes and offset. <paramref name="terminated"/> is false for a last record cut short (the
        /// writer may still be writing it); <paramref name="tooLong"/> when the record exceeded the limit (its head is returned).
        /// </summary>
        bool TryReadLine(out ArraySegment<byte> line, out long lineOffset, out bool terminated, out bool tooLong);
    }

    /// <summary>
    /// Reads the elements of a JSON array (pretty-printed or on one line) one at a time, in memory bounded by the largest
    /// element, by tracking brackets and strings rather than parsing: each element is then parsed alone, so one bad element
    /// is quarantined by itself. Text outside the array (or a second array after it) is read too, never dropped.
    /// </summary>
    internal sealed class JsonArrayReader : IRecordReader
    {
        private enum State { Before, Between, Element, After }

        private readonly Stream _stream;
        private readonly int _maxRecordBytes;
        private byte[] _buffer;
        private int _start, _end, _scan;
        private bool _eof;
        private long _bufferOffset;
        private State _state = State.Before;
        private int _depth;
        private bool _inString, _escape, _skipping;
        private long _line = 1;

        public JsonArrayReader(Stream stream, long startOffset, int bufferSize = 1 << 20, int maxRecordBytes = 256 << 20)
        {
            _stream = stream;
            _buffer = new byte[bufferSize];
            _bufferOffset = startOffset;
            _maxRecordBytes = maxRecordBytes;
        }

        public long Position => _bufferOffset + _start;

        /// <summary>The line (1-based) the last record returned starts on: what a quarantined element is reported at.</summary>
        public long RecordLine { get; private set; }

        /// <summary>True once the array's closing bracket was read.</summary>
        public bool Closed => _state == State.After;

        public bool TryReadLine(out ArraySegment<byte> line, out long lineOffset, out bool terminated, out bool tooLong)
        {
            tooLong = false;
            terminated = true;
            while (true)
            {
                while (_scan < _end)
                {
                    var b = _buffer[_scan];
                    if (_state != State.Element)
                    {
                        if (b == (byte)'\n') _line++;
                        var skip = b == (byte)' ' || b == (byte)'\t' || b == (byte)'\r' || b == (byte)'\n'
                                   || b == (byte)',' && _state == State.Between
                                   || _state == State.Before && (b == 0xEF || b == 0xBB || b == 0xBF); // BOM
                        if (!skip && b == (byte)'[' && _state != State.Between) { _state = State.Between; skip = true; }
                        else if (!skip && b == (byte)']' && _state == State.Between) { _state = State.After; skip = true; }
                        if (skip)
                        {
                            _start = ++_scan;
                            continue;
                        }
                        // A record starts here (junk included: its parser says what is wrong with it).
                        _state = State.Element;
                        _depth = 0;
                        _inString = _escape = false;
                        _start = _scan;
                        RecordLine = _line;
                    }
                    if (_inString)
                    {
                        if (_escape) _escape = false;
                        else if (b == (byte)'\\') _escape = true;
                        else if (b == (byte)'"') _inString = false;
                        else if (b == (byte)'\n') _line++;
                        _scan++;
                        continue;
                    }
                    int end = -1; // exclusive end of the record when it ends at this byte
                    switch (b)
                    {
                        case (byte)'"': _inString = true; break;
                        case (byte)'{':
                        case (byte)'[': _depth++; break;
                        case (byte)'}':
                        case (byte)']':
                            if (_depth > 0)
                            {
                                if (--_depth == 0) end = _scan + 1;
                            }
                            else end = _scan == _start ? _scan + 1 : _scan; // a stray bracket, or the array's end after a bare value
                            break;
                        case (byte)',':
                            if (_depth == 0) end = _scan;
                            break;
                        case (byte)'\n':
                            if (_depth == 0) end = _scan; // a bare value or junk ends with its line
                            else _line++;
                            break;
                    }
                    if (end < 0)
                    {
                        _scan++;
                        continue;
                    }
                    _scan = end;
                    _state = State.Between;
                    if (_skipping)
                    {
                        // The rest of a record already reported as too long.
                        _skipping = false;
                        _start = _scan;
                        continue;
                    }
                    lineOffset = _bufferOffset + _start;
                    line = new ArraySegment<byte>(_buffer, _start, end - _start);
                    _start = end;
                    return true;
                }

                if (_eof)
                {
                    if (_state == State.Element && !_skipping && _end > _start)
                    {
                        lineOffset = _bufferOffset + _start;
                        line = new ArraySegment<byte>(_buffer, _start, _end - _start);
                        _start = _scan = _end;
                        _state = State.Between;
                        terminated = false;
                        return true;
                    }
                    line = default;
                    lineOffset = Position;
                    terminated = false;
                    return false;
                }
                if (_skipping) _start = _scan; // drop what was scanned of an oversize record
                else if (_state != State.Element) _start = _scan;
                Fill();
                if (_state == State.Element && !_skipping && _end - _start > _maxRecordBytes)
                {
                    // Keep memory bounded: report the oversize record's head and skip to its end.
                    lineOffset = _bufferOffset + _start;
                    var head = new byte[Math.Min(_end - _start, 4096)];
                    Buffer.BlockCopy(_buffer, _start, head, 0, head.Length);
                    line = new ArraySegment<byte>(head);
                    tooLong = true;
                    _skipping = true;
                    _start = _scan;
                    return true;
                }
            }
        }

        private void Fill()
        {
            if (_start > 0)
            {
                // Slide the unread tail to the front.
                var remaining = _end - _start;
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, remaining);
                _bufferOffset += _start;
                _scan -= _start;
                _end = remaining;
                _start = 0;
            }
            if (_end == _buffer.Length)
                Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, Math.Max(_buffer.Length, _maxRecordBytes + 1)));
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read <= 0) _eof = true; else _end += read;
        }
    }
}
