// Turns run.sh's results.tsv into the markdown report: load table, streaming table, memory, and the issue's
// targets checked against the full-pipeline scenario. Ratios compare rows of the same run only.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((line) => line.split('\t'));
const machine = rows.filter((r) => r[0] === 'machine');
const scenarios = new Map(rows.filter((r) => r[0] === 'scenario').map((r) => [r[1], r[2]]));
// Each target ran in several interleaved rounds: the report shows the median of each figure over the rounds.
const median = (values) => {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const groupBy = (items, key) => {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return [...groups.values()];
};
const loadRounds = rows.filter((r) => r[0] === 'load').map(([, target, conns, rps, p50, p99, non2xx, socketErrors, cpu]) =>
  ({ target, conns: +conns, rps: +rps, p50: +p50, p99: +p99, errors: +non2xx + +socketErrors, cpu: cpu ? +cpu : null }));
const load = groupBy(loadRounds, (r) => `${r.target}@${r.conns}`).map((g) => ({
  target: g[0].target, conns: g[0].conns, rounds: g.length,
  rps: Math.round(median(g.map((r) => r.rps))), p50: median(g.map((r) => r.p50)), p99: median(g.map((r) => r.p99)),
  cpu: median(g.map((r) => r.cpu)), errors: g.reduce((sum, r) => sum + r.errors, 0),
}));
const ttfbRounds = rows.filter((r) => r[0] === 'ttfb').map(([, target, count, p50, p99, total, events]) =>
  ({ target, count: +count, p50: +p50, p99: +p99, total: +total, events: +events }));
const ttfb = groupBy(ttfbRounds, (r) => r.target).map((g) => ({
  target: g[0].target, count: g.reduce((sum, r) => sum + r.count, 0), p50: median(g.map((r) => r.p50)),
  p99: median(g.map((r) => r.p99)), total: median(g.map((r) => r.total)), events: Math.min(...g.map((r) => r.events)),
}));
const ttfbFailed = rows.filter((r) => r[0] === 'ttfb-failed').map(([, target, reason]) => ({ target, reason }));
const latency = rows.filter((r) => r[0] === 'latency').map(([, target, count, p50, p99, max, bad]) =>
  ({ target, count: +count, p50: +p50, p99: +p99, max: +max, bad: +bad }));
const restRss = new Map(rows.filter((r) => r[0] === 'rss-rest').map((r) => [r[1], +r[2]]));
const rss = rows.filter((r) => r[0] === 'rss-peak').map(([, target, peak]) => ({ target, rest: restRss.get(target) ?? 0, peak: +peak }));

const levels = [...new Set(load.map((r) => r.conns))].sort((a, b) => a - b);
const find = (target, conns) => load.find((r) => r.target === target && r.conns === conns);
const us = (value) => `${Math.round(value)} µs`;
const ms = (value) => `${(value / 1000).toFixed(2)} ms`;
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
const describe = (target) => (scenarios.has(target) ? `${target} (${scenarios.get(target)})` : target);

const out = [];
out.push('## Machine', '');
for (const [, key, value] of machine) out.push(`- ${key}: ${value}`);

for (const conns of levels) {
  const direct = find('direct', conns);
  const nginx = find('nginx', conns);
  const portkey = find('portkey', conns);
  const nginxAdded = nginx.p50 - direct.p50;
  out.push('', `## ${conns === 1 ? 'One connection' : `Saturation (${conns} connections)`} (median of ${load[0].rounds} rounds)`, '');
  out.push('| target | req/s | p50 | p99 | p50 added vs direct | added vs nginx\'s | req/s vs nginx | req/s vs Portkey | proxy CPU per request | errors |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of load.filter((r) => r.conns === conns)) {
    const added = row.p50 - direct.p50;
    const isBaseline = row.target === 'direct' || row.target === 'direct-mock';
    out.push(`| ${describe(row.target)} | ${row.rps} | ${us(row.p50)} | ${us(row.p99)} | ${isBaseline ? '' : us(added)} | ` +
      `${isBaseline || row.target === 'nginx' ? '' : `${(added / Math.max(nginxAdded, 1)).toFixed(1)}×`} | ` +
      `${(100 * row.rps / nginx.rps).toFixed(0)}% | ${(row.rps / portkey.rps).toFixed(1)}× | ${row.cpu === null ? '' : us(row.cpu)} | ${row.errors} |`);
  }
}

if (ttfb.length > 0) {
  const direct = ttfb.find((r) => r.target === 'direct-mock');
  out.push('', '## Streaming: time to first byte (100 tokens, 1 ms configured delay, one connection; median of the rounds\' percentiles)', '');
  out.push('| target | requests | TTFB p50 | TTFB p99 | TTFB p50 added vs direct | whole stream p50 | events (min) |');
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of ttfb) {
    out.push(`| ${describe(row.target)} | ${row.count} | ${us(row.p50)} | ${us(row.p99)} | ${row === direct ? '' : us(row.p50 - direct.p50)} | ${ms(row.total)} | ${row.events} |`);
  }
  for (const row of ttfbFailed) out.push(`| ${describe(row.target)} | failed: ${row.reason} | | | | | |`);
}

if (latency.length > 0) {
  out.push('', '## Per-request latency at one connection (hey, every request recorded; hey reports times in steps of 100 µs)', '');
  out.push('| target | requests | p50 | p99 | max | non-2xx |', '|---|---:|---:|---:|---:|---:|');
  for (const row of latency) out.push(`| ${describe(row.target)} | ${row.count} | ${us(row.p50)} | ${us(row.p99)} | ${us(row.max)} | ${row.bad} |`);
}

if (rss.length > 0) {
  out.push('', '## Memory (resident set, process and children)', '');
  out.push('| target | at rest (started, before load) | peak (high-water mark) |', '|---|---:|---:|');
  for (const row of rss) out.push(`| ${describe(row.target)} | ${mib(row.rest)} | ${mib(row.peak)} |`);
}

// The issue's targets, for the full pipeline of the stages that exist today.
const full = 'gateway:full-pipeline';
const saturation = levels[levels.length - 1];
const checks = [];
const check = (text, measured, met) => checks.push(`| ${text} | ${measured} | ${met ? 'met' : '**not met**'} |`);
const d1 = find('direct', 1), n1 = find('nginx', 1), f1 = find(full, 1);
if (d1 && n1 && f1) {
  const added = f1.p50 - d1.p50, nginxAdded = n1.p50 - d1.p50;
  check('one connection: adds ≤ 100 µs p50 over direct', us(added), added <= 100);
  check('one connection: ≤ 5× nginx\'s added latency', `${(added / Math.max(nginxAdded, 1)).toFixed(1)}× (nginx adds ${us(nginxAdded)})`, added <= 5 * Math.max(nginxAdded, 1));
}
const ns = find('nginx', saturation), ps = find('portkey', saturation), fs = find(full, saturation);
if (ns && ps && fs) {
  check(`saturation: ≥ 50% of nginx's req/s`, `${(100 * fs.rps / ns.rps).toFixed(0)}% (${fs.rps} vs ${ns.rps})`, fs.rps >= 0.5 * ns.rps);
  check(`saturation: ≥ 15× Portkey's req/s`, `${(fs.rps / ps.rps).toFixed(1)}× (${fs.rps} vs ${ps.rps})`, fs.rps >= 15 * ps.rps);
  check(`saturation: p99 ≤ 2 ms`, ms(fs.p99), fs.p99 <= 2000);
  const floor = find('floor:yarp', saturation);
  if (floor) {
    // Not a target: what YARP's forwarder alone reaches on the same core, the ceiling for anything built on it.
    checks.push(`| for reference: YARP's forwarder with no stage, share of nginx's req/s | ${(100 * floor.rps / ns.rps).toFixed(0)}% (${floor.rps}); the full pipeline reaches ${(100 * fs.rps / floor.rps).toFixed(0)}% of it | |`);
  }
  if (fs.cpu && ns.cpu) {
    // What the throughput ratio would be on dedicated cores: the proxies' CPU cost per request, which other
    // work on the machine disturbs far less than it disturbs req/s.
    check(`cross-check: nginx's CPU per request ÷ the gateway's ≥ 50%`, `${(100 * ns.cpu / fs.cpu).toFixed(0)}% (${us(fs.cpu)} vs ${us(ns.cpu)})`, ns.cpu >= 0.5 * fs.cpu);
  }
}
const ts = ttfb.find((r) => r.target === 'gateway:streaming'), td = ttfb.find((r) => r.target === 'direct-mock');
if (ts && td) {
  check('streaming adds ≤ 1 ms to TTFB (p50)', us(ts.p50 - td.p50), ts.p50 - td.p50 <= 1000);
  const tf = ttfb.find((r) => r.target === 'floor:yarp');
  // Not a target: what YARP's forwarder alone adds to the first byte of the same stream, on the same core.
  if (tf) checks.push(`| for reference: YARP's forwarder with no stage, TTFB p50 added | ${us(tf.p50 - td.p50)}; the gateway's stages add ${us(ts.p50 - tf.p50)} to it | |`);
}
const hit = latency.find((r) => r.target === 'gateway:cache-exact-hit');
if (hit) check('exact-cache hit: p99 ≤ 1 ms (one connection, every request)', us(hit.p99), hit.p99 <= 1000);
const rf = rss.find((r) => r.target === full);
if (rf) check('RSS ≤ 200 MB under load', mib(rf.peak), rf.peak * 1024 <= 200e6);
const failed = load.filter((r) => r.errors > 0);
out.push('', '## Targets (issue 9), full pipeline of the stages that exist', '', '| target | measured | |', '|---|---|---|', ...checks);
if (failed.length > 0) {
  out.push('', `**Invalid rows** (non-2xx answers or socket errors): ${failed.map((r) => `${r.target}@${r.conns}`).join(', ')}`);
}
console.log(out.join('\n'));
process.exitCode = failed.length > 0 ? 1 : 0;
