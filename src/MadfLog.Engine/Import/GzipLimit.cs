using System;
using System.IO;
using System.IO.Compression;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Decompresses a .gz with a cap, so a gzip bomb cannot make an import read without end: at most
    /// <see cref="MaxBytes"/> in all, and past <see cref="RatioFloorBytes"/> no more than <see cref="MaxRatio"/> times the
    /// compressed bytes read so far (logs compress about 10x; a bomb 1000x).
    /// </summary>
    internal sealed class GzipLimitStream : Stream
    {
        public const long MaxBytes = 16L << 30;           // 16 GiB uncompressed per file
        public const long RatioFloorBytes = 64L << 20;    // the ratio is checked past 64 MiB
        public const int MaxRatio = 200;

        private readonly Stream _compressed;
        private readonly GZipStream _inner;
        private long _total;

        public GzipLimitStream(Stream compressed)
        {
            _compressed = compressed;
            _inner = new GZipStream(compressed, CompressionMode.Decompress);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = _inner.Read(buffer, offset, count);
            _total += n;
            if (_total > MaxBytes)
                throw new GzipLimitException(string.Format(Messages.Culture, Messages.IssueGzipBeyondSize, MaxBytes >> 30));
            if (_total > RatioFloorBytes && _total > MaxRatio * Math.Max(1, _compressed.Position))
                throw new GzipLimitException(string.Format(Messages.Culture, Messages.IssueGzipBeyondRatio, MaxRatio, _total, _compressed.Position));
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _total; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A .gz that expands beyond the cap: the lines before it are kept, the file is reported (GzipTooLarge).</summary>
    internal sealed class GzipLimitException : IOException
    {
        public GzipLimitException(string message) : base(message) { }
    }
}
