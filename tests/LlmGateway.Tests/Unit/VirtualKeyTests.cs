using System.Net;
using System.Security.Cryptography;
using System.Text;
using LlmGateway.Authentication;
using Microsoft.AspNetCore.Http;

namespace LlmGateway.Tests.Unit;

public sealed class VirtualKeyTests
{
    [Fact]
    public void HashIsSha256OfTheKey_InTheConfigurationFormat()
    {
        const string Key = "sk-gw-example";
        var expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));

        VirtualKeyHash.Compute(Key).ToString().ShouldBe(expected);
        VirtualKeyHash.TryParse(expected, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(VirtualKeyHash.Compute(Key));
        parsed.FixedTimeEquals(VirtualKeyHash.Compute(Key)).ShouldBeTrue();
        parsed.FixedTimeEquals(VirtualKeyHash.Compute(Key + "x")).ShouldBeFalse();
    }

    [Fact]
    public void HashesLongKeysToo()
    {
        var key = new string('k', 2000);
        VirtualKeyHash.Compute(key).ToString().ShouldBe("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
    }

    [Theory]
    [InlineData("sk-plaintext")]
    [InlineData("sha256:abc")]
    [InlineData("sha256:zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData(null)]
    public void RejectsAnythingButAHash(string? text) => VirtualKeyHash.TryParse(text, out _).ShouldBeFalse();

    [Theory]
    [InlineData("Authorization", "Bearer sk-1", "sk-1")]
    [InlineData("Authorization", "bearer  sk-1 ", "sk-1")]
    [InlineData("Authorization", "Basic abc", "")]
    [InlineData("api-key", "sk-2", "sk-2")]
    [InlineData("x-api-key", "sk-3", "sk-3")]
    public void ReadsTheKeyFromEachSupportedHeader(string header, string value, string expected)
    {
        var headers = new HeaderDictionary { [header] = value };
        VirtualKeyAuthenticationMiddleware.ReadPresentedKey(headers).ToString().ShouldBe(expected);
    }

    [Theory]
    [InlineData("10.1.2.3", StatusCodes.Status401Unauthorized)]
    [InlineData("127.0.0.1", StatusCodes.Status200OK)]
    [InlineData("::1", StatusCodes.Status200OK)]
    [InlineData("::ffff:127.0.0.1", StatusCodes.Status200OK)]
    public async Task WithoutConfiguredKeys_ServesLoopbackClientsOnly(string remoteAddress, int expectedStatus)
    {
        var reachedNext = false;
        var middleware = new VirtualKeyAuthenticationMiddleware(
            _ => { reachedNext = true; return Task.CompletedTask; },
            new EmptyStore(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<VirtualKeyAuthenticationMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remoteAddress);
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(RequireVirtualKeyMetadata.Instance), "test"));

        await middleware.InvokeAsync(context);

        context.Response.StatusCode.ShouldBe(expectedStatus);
        reachedNext.ShouldBe(expectedStatus == StatusCodes.Status200OK);
    }

    private sealed class EmptyStore : IVirtualKeyStore
    {
        public bool HasKeys => false;

        public ValueTask<VirtualKey?> FindAsync(VirtualKeyHash hash, CancellationToken cancellationToken) => ValueTask.FromResult<VirtualKey?>(null);
    }
}
