using System.Text;
using BenchmarkDotNet.Attributes;
using LlmGateway.Metering;

namespace LlmGateway.Benchmarks;

/// <summary>
/// What metering adds per answer to put <c>gen_ai.response.id</c> and <c>gen_ai.response.finish_reasons</c> on the
/// trace: one pass over a chat completion's JSON body, or the checks on every event of a 32-chunk stream.
/// </summary>
[MemoryDiagnoser]
public class ResponseMetadataBenchmarks
{
    private readonly byte[] _body = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! The gateway routes, caches, meters and guards every call; this answer is about as long as a short reply usually is.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}""");

    private readonly byte[][] _stream = BuildStream();

    [Benchmark]
    public int JsonBody()
    {
        var metadata = new ResponseMetadata();
        metadata.ReadBody(_body);
        return metadata.FinishReasonCount;
    }

    [Benchmark]
    public int StreamOf32Chunks()
    {
        var metadata = new ResponseMetadata();
        foreach (var chunk in _stream)
        {
            metadata.ReadEvent(chunk);
        }

        return metadata.FinishReasonCount;
    }

    private static byte[][] BuildStream()
    {
        const string Prefix = """{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_fc9f1d7035","choices":[{"index":0,"delta":""";
        var chunks = new List<byte[]> { Encoding.UTF8.GetBytes(Prefix + """{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""") };
        for (var i = 0; i < 30; i++)
        {
            chunks.Add(Encoding.UTF8.GetBytes(Prefix + """{"content":" token"},"logprobs":null,"finish_reason":null}],"usage":null}"""));
        }

        chunks.Add(Encoding.UTF8.GetBytes(Prefix + """{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"""));
        return [.. chunks];
    }
}
