using System.Text;

namespace LlmGateway.Benchmarks;

/// <summary>Chat request bodies of the sizes the gateway sees: a short prompt and a long conversation.</summary>
internal static class RequestBodies
{
    public static readonly byte[] Small = Encoding.UTF8.GetBytes(
        """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Summarise the benefits of connection pooling in two sentences."}],"temperature":0.2,"max_tokens":64,"user":"bench-user"}""");

    /// <summary>About 20 KB: 40 turns of a conversation with tools, the shape of an agent's request.</summary>
    public static readonly byte[] Large = BuildLarge();

    public static byte[] Get(string size) => size == "small" ? Small : Large;

    private static byte[] BuildLarge()
    {
        var json = new StringBuilder("""{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":1024,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}],"messages":[""");
        for (var turn = 0; turn < 40; turn++)
        {
            if (turn > 0)
            {
                json.Append(',');
            }

            var role = turn % 2 == 0 ? "user" : "assistant";
            json.Append("{\"role\":\"").Append(role).Append("\",\"content\":\"Turn ").Append(turn).Append(": ")
                .Append(string.Join(' ', Enumerable.Repeat("the gateway forwards every token \u00e9\u4e2d", 12)))
                .Append("\"}");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }
}
