using LlmGateway.Responses;

namespace LlmGateway.Tests.Unit;

public sealed class HeldResponseBodyTests
{
    [Fact]
    public async Task WritesOfEveryKind_AreHeldInOrder_PastSeveralGrowths()
    {
        var expected = new byte[70_000];
        new Random(7).NextBytes(expected);
        using var body = new HeldResponseBody();

        // Uneven pieces through each write method, so that copies straddle the buffer's growth.
        var written = 0;
        var piece = 0;
        while (written < expected.Length)
        {
            var length = Math.Min(1 + (piece * 997 % 5000), expected.Length - written);
            switch (piece++ % 3)
            {
                case 0:
                    body.Write(expected, written, length);
                    break;
                case 1:
                    await body.WriteAsync(expected.AsMemory(written, length), TestContext.Current.CancellationToken);
                    break;
                default:
                    body.Write(expected.AsSpan(written, length));
                    break;
            }

            written += length;
            body.Length.ShouldBe(written);
        }

        body.Written.ToArray().ShouldBe(expected);
        body.Position.ShouldBe(expected.Length);
    }

    [Fact]
    public void ClearingTheResponse_DiscardsWhatWasHeld()
    {
        using var body = new HeldResponseBody();
        body.Write("{\"error\":"u8);

        body.CanSeek.ShouldBeTrue("HttpResponse.Clear() discards a body only through a seekable stream");
        body.SetLength(0);
        body.Write("{}"u8);

        body.Written.ToArray().ShouldBe("{}"u8.ToArray());
    }

    [Fact]
    public void OnlyDiscardingAsAWhole_IsSupported()
    {
        using var body = new HeldResponseBody();
        body.Write("abc"u8);

        Should.Throw<NotSupportedException>(() => body.SetLength(1));
        Should.Throw<NotSupportedException>(() => body.Seek(0, SeekOrigin.Begin));
        Should.Throw<NotSupportedException>(() => body.Read(new byte[3], 0, 3));
        body.CanRead.ShouldBeFalse();
    }

    [Fact]
    public void AfterDisposal_NothingIsHeld()
    {
        var body = new HeldResponseBody();
        body.Write(new byte[10_000]);

        body.Dispose();

        body.Length.ShouldBe(0);
        body.Written.Length.ShouldBe(0);
    }
}
