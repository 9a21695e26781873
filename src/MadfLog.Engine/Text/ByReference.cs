using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace MadfLog.Engine.Text
{
    /// <summary>
    /// Compares strings as objects: for caches keyed by the instances a parser's string caches hand out again and again
    /// (shapes, names), where hashing the text on every lookup would cost more than the answer saves.
    /// </summary>
    internal sealed class ByReference : IEqualityComparer<string>
    {
        public static readonly ByReference Instance = new ByReference();
        public bool Equals(string? x, string? y) => ReferenceEquals(x, y);
        public int GetHashCode(string s) => RuntimeHelpers.GetHashCode(s);
    }
}
