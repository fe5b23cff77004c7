using LlmGateway.Storage;

namespace LlmGateway.Tests.Unit;

public sealed class RecentIdsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Add_AgreesWithAHashSetAndAQueue_OverManyAddsRepeatsAndEvictions(int capacity)
    {
        // The model: the obvious implementation it replaces. Ids come from a pool a few times the capacity, so that
        // repeats of remembered ids, of forgotten ones and long probe chains (with removals inside them) all occur.
        var model = new HashSet<string>(StringComparer.Ordinal);
        var order = new Queue<string>();
        var recent = new RecentIds(capacity);
        var random = new Random(capacity);
        var pool = Enumerable.Range(0, capacity * 3 + 2)
            .Select(i => i % 2 == 0 ? Guid.CreateVersion7().ToString("N") : $"settle-{i}-{random.Next()}")
            .ToArray();

        for (var step = 0; step < 200_000; step++)
        {
            var id = pool[random.Next(pool.Length)];
            var expected = model.Add(id);
            if (expected)
            {
                order.Enqueue(id);
                if (order.Count > capacity)
                {
                    model.Remove(order.Dequeue());
                }
            }

            recent.Add(id).ShouldBe(expected, $"step {step}, id {id}");
            recent.Count.ShouldBe(order.Count);
        }
    }

    [Fact]
    public void AGuidIsKeptExactly_AndOtherIdsByTheirHash()
    {
        var guid = Guid.NewGuid();

        RecentIds.Fingerprint(guid.ToString("N")).ShouldBe(RecentIds.Fingerprint(guid.ToString("D")));
        RecentIds.Fingerprint("a").ShouldNotBe(RecentIds.Fingerprint("b"));
        RecentIds.Fingerprint("00000000-0000-0000-0100-000000000000").ShouldBe(UInt128.One);

        // The table holds places in the ring, not fingerprints, so no fingerprint stands for "empty": the zero GUID
        // and the GUID whose bits make one are two ids.
        var recent = new RecentIds(4);
        recent.Add(Guid.Empty.ToString("N")).ShouldBeTrue();
        recent.Add("00000000-0000-0000-0100-000000000000").ShouldBeTrue();
        recent.Add(Guid.Empty.ToString("N")).ShouldBeFalse();
        recent.Add("00000000-0000-0000-0100-000000000000").ShouldBeFalse();
        recent.Add(new string('x', 1000)).ShouldBeTrue("a long id is hashed from a buffer of its own");
        recent.Add(new string('x', 1000)).ShouldBeFalse();
    }
}
