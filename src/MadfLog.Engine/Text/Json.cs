using System.Text.Encodings.Web;
using System.Text.Json;

namespace MadfLog.Engine.Text
{
    /// <summary>JSON writer settings shared by everything MadfLog writes.</summary>
    public static class Json
    {
        /// <summary>
        /// Log lines and stored details keep characters like &lt; &gt; &amp; ' as they are (readable in the file and the
        /// database); the default encoder's HTML escaping protects nothing here, and reports escape on output.
        /// </summary>
        public static readonly JsonWriterOptions Readable = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    }
}
