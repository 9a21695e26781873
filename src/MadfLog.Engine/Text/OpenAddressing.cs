namespace MadfLog.Engine.Text
{
    /// <summary>What the open-addressing tables of our own (<see cref="Int64Map{TValue}"/>, <see cref="ByReferenceMap{TValue}"/>)
    /// share: a power of two of slots, at least 16.</summary>
    internal static class OpenAddressing
    {
        /// <summary>log2 of the slots a table asked for <paramref name="slots"/> starts with.</summary>
        public static int SlotBits(int slots)
        {
            var bits = 4;
            while ((1 << bits) < slots) bits++;
            return bits;
        }
    }
}
