// An OTLP/HTTP endpoint that accepts every export and keeps nothing, so that a benchmark scenario can pay for
// recording and exporting its traces and metrics without a collector installed. Prints its port once listening,
// and on SIGTERM a summary of what it received (requests and bytes per signal path) to stderr.
import http from 'node:http';

const received = new Map();
const server = http.createServer((request, response) => {
  let bytes = 0;
  request.on('data', (chunk) => { bytes += chunk.length; });
  request.on('end', () => {
    const seen = received.get(request.url) ?? { requests: 0, bytes: 0 };
    received.set(request.url, { requests: seen.requests + 1, bytes: seen.bytes + bytes });
    // An empty ExportTraceServiceResponse (or metrics response) is an empty protobuf message.
    response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    response.end();
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => {
  for (const [path, seen] of received) console.error(`${path}: ${seen.requests} exports, ${seen.bytes} bytes`);
  process.exit(0);
});
