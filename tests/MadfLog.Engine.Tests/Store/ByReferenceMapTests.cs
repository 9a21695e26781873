using System;
using System.Collections.Generic;
using MadfLog.Engine.Text;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>ByReferenceMap (the writer's details names, the redaction hints) holds values by the identity of their
    /// keys: the very instance finds its value, an equal text in another instance does not, through growth and clearing.</summary>
    public class ByReferenceMapTests
    {
        [Fact]
        public void TheSameInstanceFindsItsValueAndAnEqualTextElsewhereDoesNot()
        {
            var map = new ByReferenceMap<long>();
            var a = new string('x', 3);
            var b = new string('x', 3); // equal text, another instance
            map.Set(a, 1);
            Assert.True(map.TryGetValue(a, out var v));
            Assert.Equal(1, v);
            Assert.False(map.TryGetValue(b, out _));
            map.Set(b, 2);
            map.Set(a, 3); // replaces
            Assert.Equal(2, map.Count);
            Assert.True(map.TryGetValue(a, out v));
            Assert.Equal(3, v);
            Assert.True(map.TryGetValue(b, out v));
            Assert.Equal(2, v);
            Assert.Throws<ArgumentNullException>(() => map.Set(null!, 0));
            Assert.False(map.TryGetValue(null!, out _)); // an empty slot is not a match for no key
        }

        [Fact]
        public void EveryKeyIsFoundAfterTheTableGrowsAndNoneAfterItIsCleared()
        {
            var map = new ByReferenceMap<int>(slots: 4);
            var keys = new List<string>();
            for (var i = 0; i < 5000; i++)
            {
                var key = "k" + (i % 100); // many equal texts as distinct instances
                keys.Add(key);
                map.Set(key, i);
            }
            Assert.Equal(5000, map.Count);
            for (var i = 0; i < keys.Count; i++)
            {
                Assert.True(map.TryGetValue(keys[i], out var v));
                Assert.Equal(i, v);
            }
            map.Clear();
            Assert.Equal(0, map.Count);
            foreach (var key in keys) Assert.False(map.TryGetValue(key, out _));
            map.Set(keys[7], 70);
            Assert.True(map.TryGetValue(keys[7], out var again));
            Assert.Equal(70, again);
        }
    }
}
