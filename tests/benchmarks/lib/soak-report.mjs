// Summarises a soak's samples (run.sh --soak): after the first two minutes (warm-up) memory should stay flat. Besides
// RSS it reports where a change happened: anonymous memory, the GC's committed memory, and the JIT's compilations.
import { readFileSync } from 'node:fs';

const samples = readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1)
  .map((line) => line.split('\t').map(Number))
  .map(([seconds, kib, anon, , , gc, jit]) => ({ seconds, kib, anon, gc, jit })); // file-backed and shared pages: read by eye
const warm = samples.filter((s) => s.seconds >= 120);
const mib = (kib) => (kib / 1024).toFixed(1);
if (warm.length < 2) {
  console.log(`RSS samples: ${samples.map((s) => mib(s.kib)).join(', ')} MiB (too short to judge growth after warm-up)`);
} else {
  const first = warm[0], last = warm[warm.length - 1], peak = Math.max(...warm.map((s) => s.kib));
  console.log(`RSS after warm-up: ${mib(first.kib)} MiB at ${first.seconds} s, ${mib(last.kib)} MiB at ${last.seconds} s, ` +
    `peak ${mib(peak)} MiB; growth ${(100 * (last.kib - first.kib) / first.kib).toFixed(1)}%`);
  const change = (name, value, show) => (Number.isFinite(value(first)) && Number.isFinite(value(last))
    ? `${name} ${show(value(first))} → ${show(value(last))}` : `${name} not read`);
  console.log(`Between the same samples: ${change('anonymous memory (MiB)', (s) => s.anon, mib)}, ` +
    `${change('GC committed (MiB)', (s) => s.gc, mib)}, ${change('methods compiled', (s) => s.jit, String)}`);
}
