using System;
using System.IO;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Reads newline-terminated lines as byte spans with their byte offsets, in constant memory
    /// (the buffer grows only to the longest line). A last line without its newline is reported as
    /// unterminated so the caller can leave it for the next run instead of half-importing it.
    /// </summary>
    internal sealed class LineReader : IRecordReader, IDisposable
    {
        private readonly Stream _stream;
        private readonly int _maxLineBytes;
        private byte[] _buffer;
        private int _start, _end;
        private bool _eof;
        private long _bufferOffset; // stream offset of _buffer[0]

        private const int PooledBytes = 64 << 10;
        private byte[]? _rented;

        /// <summary>Returns the buffer to the pool (the lines returned so far are then no longer valid).</summary>
        public void Dispose()
        {
            if (_rented != null) System.Buffers.ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }

        /// <summary>Lines longer than this are not held: their first bytes and a hash of the whole are reported instead.</summary>
        public const int DefaultMaxLineBytes = 1 << 20;

        public LineReader(Stream stream, long startOffset, int bufferSize = 1 << 20, int maxLineBytes = DefaultMaxLineBytes)
        {
            _stream = stream;
            // The buffer comes from the shared pool and goes back on Dispose: a new megabyte per file went to the large
            // object heap, and an import of a few hundred files paid a full (gen 2) collection for every few of them.
            var size = Math.Min(bufferSize, maxLineBytes + 1);
            _buffer = _rented = size >= PooledBytes ? System.Buffers.ArrayPool<byte>.Shared.Rent(size) : new byte[size];
            _bufferOffset = startOffset;
            _maxLineBytes = maxLineBytes;
        }

        /// <summary>For the last line returned with tooLong: its full length in bytes and the SHA-256 of all of it (hex).</summary>
        public long OversizeLength { get; private set; }
        public string OversizeSha256 { get; private set; } = "";

        /// <summary>Offset just past the last line returned.</summary>
        public long Position => _bufferOffset + _start;

        /// <summary>
        /// Next line without its terminator (\n, and a \r before it). Returns false at end of input.
        /// <paramref name="terminated"/> is false for a trailing line that had no newline.
        /// <paramref name="tooLong"/> is set when a line exceeded the limit; its bytes were skipped up to the next newline.
        /// </summary>
        [MethodImpl(Hot.Path)]
        public bool TryReadLine(out ArraySegment<byte> line, out long lineOffset, out bool terminated, out bool tooLong)
        {
            tooLong = false;
            var scanFrom = _start;
            while (true)
            {
                var nl = _end > scanFrom ? Array.IndexOf(_buffer, (byte)'\n', scanFrom, _end - scanFrom) : -1;
                if (nl >= 0)
                {
                    lineOffset = _bufferOffset + _start;
                    var len = nl - _start;
                    if (len > 0 && _buffer[nl - 1] == (byte)'\r') len--;
                    line = new ArraySegment<byte>(_buffer, _start, len);
                    _start = nl + 1;
                    terminated = true;
                    return true;
                }
                if (_eof)
                {
                    if (_end > _start)
                    {
                        lineOffset = _bufferOffset + _start;
                        var len = _end - _start;
                        if (_buffer[_end - 1] == (byte)'\r') len--;
                        line = new ArraySegment<byte>(_buffer, _start, len);
                        _start = _end;
                        terminated = false;
                        return true;
                    }
                    line = default; lineOffset = Position; terminated = false;
                    return false;
                }
                var scanned = _end - _start;
                Fill();
                scanFrom = _start + scanned;
                if (_end - _start > _maxLineBytes)
                {
                    // Keep memory bounded: report the oversize line's head and skip to its end.
                    lineOffset = _bufferOffset + _start;
                    var head = new byte[Math.Min(_end - _start, 4096)];
                    Buffer.BlockCopy(_buffer, _start, head, 0, head.Length);
                    line = new ArraySegment<byte>(head);
                    tooLong = true;
                    terminated = SkipToNewline();
                    return true;
                }
            }
        }

        [MethodImpl(Hot.Path)]
        private void Fill()
        {
            if (_start > 0 && (_start == _end || _end == _buffer.Length))
            {
                // Slide the unread tail to the front.
                var remaining = _end - _start;
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, remaining);
                _bufferOffset += _start;
                _start = 0;
                _end = remaining;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, Math.Max(_buffer.Length, _maxLineBytes + 1)));
            }
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read <= 0) _eof = true; else _end += read;
        }

        // Skips the oversize line to just past its newline, hashing it on the way; false when the input ended first.
        private bool SkipToNewline()
        {
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var terminated = false;
            long hashed = 0;
            while (true)
            {
                var nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (nl >= 0)
                {
                    var len = nl - _start;
                    if (len > 0 && _buffer[nl - 1] == (byte)'\r') len--;
                    sha.AppendData(_buffer, _start, len);
                    hashed += len;
                    _start = nl + 1;
                    terminated = true;
                    break;
                }
                sha.AppendData(_buffer, _start, _end - _start);
                hashed += _end - _start;
                _bufferOffset += _end;
                _start = _end = 0;
                if (_eof) break;
                var read = _stream.Read(_buffer, 0, _buffer.Length);
                if (read <= 0) { _eof = true; break; }
                _end = read;
            }
            OversizeLength = hashed;
            OversizeSha256 = BitConverter.ToString(sha.GetHashAndReset()).Replace("-", "").ToLowerInvariant();
            return terminated;
        }
    }
}
