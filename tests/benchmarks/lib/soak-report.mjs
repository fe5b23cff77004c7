// Summarises a soak's RSS samples: after the first two minutes (warm-up) memory should stay flat.
import { readFileSync } from 'node:fs';

const samples = readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1)
  .map((line) => line.split('\t').map(Number)).map(([seconds, kib]) => ({ seconds, kib }));
const warm = samples.filter((s) => s.seconds >= 120);
const mib = (kib) => (kib / 1024).toFixed(1);
if (warm.length < 2) {
  console.log(`RSS samples: ${samples.map((s) => mib(s.kib)).join(', ')} MiB (too short to judge growth after warm-up)`);
} else {
  const first = warm[0].kib, last = warm[warm.length - 1].kib, peak = Math.max(...warm.map((s) => s.kib));
  console.log(`RSS after warm-up: ${mib(first)} MiB at ${warm[0].seconds} s, ${mib(last)} MiB at ${warm[warm.length - 1].seconds} s, ` +
    `peak ${mib(peak)} MiB; growth ${(100 * (last - first) / first).toFixed(1)}%`);
}
