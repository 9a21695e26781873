using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import.ClaudeCode
{
    /// <summary>
    /// The few fields of one event's details (at most about eight), in the order they were first set, as a transcript
    /// event builds them before they are written as JSON. The parser clears and fills one instance per event (a
    /// dictionary per event, its arrays and entries, was a tenth of what an import allocated), and copies it only for an
    /// event held back until a time is known for it.
    /// </summary>
    internal sealed class DetailsFields
    {
        private string[] _names = new string[8];
        private object?[] _values = new object?[8];

        public int Count { [MethodImpl(Hot.Small)] get; private set; }

        public string NameAt(int i) => _names[i];

        public object? ValueAt(int i) => _values[i];

        /// <summary>A field's value (null when it is not set); setting one already set replaces it where it is.</summary>
        public object? this[string name]
        {
            [MethodImpl(Hot.Path)]
            get
            {
                var i = IndexOf(name);
                return i >= 0 ? _values[i] : null;
            }
            [MethodImpl(Hot.Path)]
            set
            {
                var i = IndexOf(name);
                if (i >= 0) { _values[i] = value; return; }
                if (Count == _names.Length)
                {
                    Array.Resize(ref _names, Count * 2);
                    Array.Resize(ref _values, Count * 2);
                }
                _names[Count] = name;
                _values[Count++] = value;
            }
        }

        /// <summary>Empties it for the next event.</summary>
        public DetailsFields Clear()
        {
            Array.Clear(_values, 0, Count);
            Count = 0;
            return this;
        }

        /// <summary>A copy to keep (the parser's own instance is filled again for the next event).</summary>
        public DetailsFields Copy()
        {
            var copy = new DetailsFields();
            for (var i = 0; i < Count; i++) copy[_names[i]] = _values[i];
            return copy;
        }

        [MethodImpl(Hot.Path)]
        private int IndexOf(string name)
        {
            for (var i = 0; i < Count; i++) if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
            return -1;
        }
    }
}
