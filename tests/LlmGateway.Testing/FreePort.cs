using System.Net;
using System.Net.Sockets;

namespace LlmGateway.Testing;

/// <summary>Finds TCP ports that are free on the loopback interface.</summary>
public static class FreePort
{
    /// <summary>
    /// A port that was free on 127.0.0.1 a moment ago. Another process may take it before the caller binds
    /// it, so servers started on it should retry with a new port when the bind fails.
    /// </summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
