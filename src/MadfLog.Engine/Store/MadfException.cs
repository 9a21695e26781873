using System;

namespace MadfLog.Engine.Store
{
    /// <summary>What went wrong, in terms a cmdlet can map to an ErrorCategory.</summary>
    public enum MadfErrorKind
    {
        InvalidArgument,
        NotFound,
        InvalidData,
        ReadOnly,
        VersionMismatch,
        Io,
    }

    /// <summary>An engine failure with a stable error id (e.g. "DatabaseNotMadfLog") for scripts to match on.</summary>
    public sealed class MadfException : Exception
    {
        public MadfException(string errorId, MadfErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
        }

        public string ErrorId { get; }
        public MadfErrorKind Kind { get; }
        public object? Target { get; }
    }
}
