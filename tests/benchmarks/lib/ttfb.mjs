// Time to first byte of a streamed response: sends COUNT sequential requests over one keep-alive connection
// and measures, for each, the time from sending the request to the first body byte and to the end of the stream.
// Prints one line: RESULT count=.. ttfb_p50_us=.. ttfb_p99_us=.. total_p50_us=.. events_min=..
// A response that is not a 200 event stream ending in [DONE] fails the run. Each "__UNIQUE__" in the body is
// replaced by a value no other request has (a random run id and a counter), so that every request is a cache miss.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [url, bodyFile, headerList = '', countText = '200', warmupText = '20'] = process.argv.slice(2);
const template = readFileSync(bodyFile, 'utf8');
const run = randomBytes(8).toString('hex');
let sent = 0;
const nextBody = () => Buffer.from(template.replaceAll('__UNIQUE__', `${run}-${++sent}`));
const headers = { 'content-type': 'application/json' };
for (const header of headerList.split('|').filter(Boolean)) {
  const colon = header.indexOf(':');
  headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once() {
  const body = nextBody();
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let firstByte = 0n;
    let text = '';
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': body.length }, agent }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        if (firstByte === 0n) firstByte = process.hrtime.bigint();
        text += chunk;
      });
      response.on('end', () => {
        const ended = process.hrtime.bigint();
        if (response.statusCode !== 200 || !text.includes('[DONE]')) {
          reject(new Error(`status ${response.statusCode}, body starts: ${text.slice(0, 300)}`));
          return;
        }
        const events = text.split('\n\n').filter((event) => event.startsWith('data:')).length;
        resolve({ ttfb: Number(firstByte - started) / 1000, total: Number(ended - started) / 1000, events });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const count = Number(countText);
const warmup = Number(warmupText);
for (let i = 0; i < warmup; i++) await once();
const samples = [];
for (let i = 0; i < count; i++) samples.push(await once());
agent.destroy();

const ttfb = samples.map((s) => s.ttfb).sort((a, b) => a - b);
const total = samples.map((s) => s.total).sort((a, b) => a - b);
const eventsMin = Math.min(...samples.map((s) => s.events));
console.log(`RESULT count=${count} ttfb_p50_us=${Math.round(percentile(ttfb, 50))} ttfb_p99_us=${Math.round(percentile(ttfb, 99))} total_p50_us=${Math.round(percentile(total, 50))} events_min=${eventsMin}`);
