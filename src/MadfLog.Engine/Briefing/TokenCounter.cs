using System;
using Microsoft.ML.Tokenizers;

namespace MadfLog.Engine.Briefing
{
    /// <summary>Counts tokens with the o200k_base BPE (the encoding of current GPT-4o-class models; a close proxy for Claude's).</summary>
    public static class TokenCounter
    {
        private static readonly Lazy<Tokenizer> Tokenizer = new Lazy<Tokenizer>(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

        public static int Count(string text) => string.IsNullOrEmpty(text) ? 0 : Tokenizer.Value.CountTokens(text);
    }
}
