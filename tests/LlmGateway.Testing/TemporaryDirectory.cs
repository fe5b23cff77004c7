namespace LlmGateway.Testing;

/// <summary>A uniquely named directory under the system's temp folder, deleted on dispose or at process exit.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    private TemporaryDirectory(string path) => Path = path;

    public string Path { get; }

    public static TemporaryDirectory Create(string prefix)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        var directory = new TemporaryDirectory(path);
        ProcessExitCleanup.Register(directory);
        return directory;
    }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Deletes the directory; a failure leaves it in the temp folder rather than failing a test.</summary>
    public void Delete()
    {
        ProcessExitCleanup.Unregister(this);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose() => Delete();
}
