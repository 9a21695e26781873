using System;
using System.Collections.Generic;
using MadfLog.Engine.Text;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Int64Map (the readers' decoded names, field names, the details splitter's per-key tables) answers as a
    /// Dictionary of long keys would: every key, including 0 and negative ones, through growth, replacement and clearing.</summary>
    public class Int64MapTests
    {
        [Fact]
        public void AnswersAsADictionaryDoesForAnyKeys()
        {
            var map = new Int64Map<string>(slots: 4);
            var expected = new Dictionary<long, string>();
            var random = new Random(7);
            // Hashes (any bits), small consecutive ids and keys that differ only in their high bits all land somewhere.
            var keys = new List<long> { 0, -1, long.MinValue, long.MaxValue, 1L << 40, 2L << 40, 3L << 40 };
            for (var i = 0; i < 3000; i++) keys.Add(i % 2 == 0 ? i : ((long)random.Next() << 32) | (uint)random.Next());
            foreach (var key in keys)
            {
                Assert.Equal(!expected.ContainsKey(key), map.TryAdd(key, "first " + key));
                if (!expected.ContainsKey(key)) expected[key] = "first " + key;
            }
            Assert.Equal(expected.Count, map.Count);
            foreach (var pair in expected)
            {
                Assert.True(map.TryGetValue(pair.Key, out var v));
                Assert.Equal(pair.Value, v);
            }
            Assert.False(map.TryGetValue(5, out _)); // odd small numbers were never added
            Assert.False(map.TryAdd(0, "again")); // TryAdd keeps what is held
            Assert.True(map.TryGetValue(0, out var zero));
            Assert.Equal("first 0", zero);
            map.Set(0, "replaced");
            Assert.True(map.TryGetValue(0, out zero));
            Assert.Equal("replaced", zero);
            Assert.Equal(expected.Count, map.Count);
        }

        [Fact]
        public void NothingIsFoundAfterClearAndTheMapFillsAgain()
        {
            var map = new Int64Map<int>();
            for (var i = 0; i < 1000; i++) map.Set(i * 1_000_003L, i);
            map.Clear();
            Assert.Equal(0, map.Count);
            for (var i = 0; i < 1000; i++) Assert.False(map.ContainsKey(i * 1_000_003L));
            map.Set(42, 7);
            Assert.True(map.TryGetValue(42, out var v));
            Assert.Equal(7, v);
            Assert.Equal(1, map.Count);
        }
    }
}
