/**
 * How fast one core runs float32 linear recurrences h = fround(fround(a·h) + b) when 1, 2, 4 or 8
 * independent chains are interleaved in one loop (L = 2^20 elements in all, split evenly): one
 * chain is bound by the latency of its dependent operations, several by the core's throughput.
 * The numbers behind "two chains, not more" in implementations/parallel-scan/README.md.
 * Usage: npx tsx bench/chain-interleaving-cost.ts
 */
const L = 2 ** 20;
const A = Float32Array.from({ length: L }, (_, i) => 0.9 + 0.1 * ((i * 7919) % 1000) / 1000);
const B = Float32Array.from({ length: L }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
const out = new Float32Array(L);
const round = Math.fround;

/** Each loop is written out by hand: a loop over an array of chain states would keep them in memory, not registers. */
const loops: Record<string, () => void> = {
  '1 chain': () => {
    let c = 0;
    for (let i = 0; i < L; i++) out[i] = c = round(round(A[i] * c) + B[i]);
  },
  '2 chains': () => {
    const n = L / 2;
    let c0 = 0, c1 = 0;
    for (let i = 0; i < n; i++) {
      const j = n + i;
      out[i] = c0 = round(round(A[i] * c0) + B[i]);
      out[j] = c1 = round(round(A[j] * c1) + B[j]);
    }
  },
  '4 chains': () => {
    const n = L / 4;
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (let i = 0; i < n; i++) {
      const j1 = n + i, j2 = 2 * n + i, j3 = 3 * n + i;
      out[i] = c0 = round(round(A[i] * c0) + B[i]);
      out[j1] = c1 = round(round(A[j1] * c1) + B[j1]);
      out[j2] = c2 = round(round(A[j2] * c2) + B[j2]);
      out[j3] = c3 = round(round(A[j3] * c3) + B[j3]);
    }
  },
  '8 chains': () => {
    const n = L / 8;
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    for (let i = 0; i < n; i++) {
      const j1 = n + i, j2 = 2 * n + i, j3 = 3 * n + i, j4 = 4 * n + i, j5 = 5 * n + i, j6 = 6 * n + i, j7 = 7 * n + i;
      out[i] = c0 = round(round(A[i] * c0) + B[i]);
      out[j1] = c1 = round(round(A[j1] * c1) + B[j1]);
      out[j2] = c2 = round(round(A[j2] * c2) + B[j2]);
      out[j3] = c3 = round(round(A[j3] * c3) + B[j3]);
      out[j4] = c4 = round(round(A[j4] * c4) + B[j4]);
      out[j5] = c5 = round(round(A[j5] * c5) + B[j5]);
      out[j6] = c6 = round(round(A[j6] * c6) + B[j6]);
      out[j7] = c7 = round(round(A[j7] * c7) + B[j7]);
    }
  },
};

/** Median of the last 40 of 80 calls: the first ones run in V8's slower tiers. */
function medianMs(loop: () => void): number {
  const times: number[] = [];
  for (let call = 0; call < 80; call++) {
    const start = performance.now();
    loop();
    times.push(performance.now() - start);
  }
  return times.slice(40).sort((x, y) => x - y)[20];
}

console.log(`float32 recurrences, ${L} elements in all, one core:`);
for (const [name, loop] of Object.entries(loops)) {
  const ms = medianMs(loop);
  console.log(`  ${name.padEnd(9)} ${ms.toFixed(2).padStart(6)} ms  ${((ms * 1e6) / L).toFixed(2)} ns per element`);
}
