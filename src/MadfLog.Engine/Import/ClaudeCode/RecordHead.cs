using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Import.ClaudeCode
{
    /// <summary>
    /// The top-level field names (and the <c>type</c>/<c>subtype</c> values) of a JSON object whose text may be cut
    /// short, as the first bytes of a file are: enough to tell the shapes apart whatever the whitespace or key order.
    /// </summary>
    internal sealed class RecordHead
    {
        private readonly HashSet<string> _keys = new HashSet<string>(StringComparer.Ordinal);

        public string? Type { get; private set; }
        public string? Subtype { get; private set; }

        public bool Has(string key) => _keys.Contains(key);

        /// <summary>Reads what it can of the object starting at the first non-blank byte; null when that is not an object.</summary>
        [MethodImpl(Hot.Path)]
        public static RecordHead? Read(ReadOnlySpan<byte> bytes)
        {
            var head = new RecordHead();
            var reader = new Utf8JsonReader(bytes, isFinalBlock: false, state: default);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
                string? property = null;
                while (reader.Read())
                {
                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        property = reader.GetString();
                        if (property != null) head._keys.Add(property);
                        continue;
                    }
                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.String)
                    {
                        if (property == "type") head.Type = reader.GetString();
                        else if (property == "subtype") head.Subtype = reader.GetString();
                    }
                    if (reader.CurrentDepth == 0) break; // the object ended
                }
            }
            catch (JsonException) { } // not JSON past this point: keep what was read
            catch (InvalidOperationException) { }
            return head;
        }
    }
}
