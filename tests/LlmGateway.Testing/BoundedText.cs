using System.Text;

namespace LlmGateway.Testing;

/// <summary>Keeps the most recent lines of a process's output, up to a fixed number of characters.</summary>
internal sealed class BoundedText(int capacity)
{
    private readonly Lock _lock = new();
    private readonly StringBuilder _text = new();
    private bool _truncated;

    public void AppendLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _text.Append(line).Append('\n');
            if (_text.Length > capacity)
            {
                _text.Remove(0, _text.Length - capacity);
                _truncated = true;
            }
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _truncated ? "[earlier output dropped]\n" + _text : _text.ToString();
        }
    }
}
