/**
 * Bit-identity and speed of the reference VJP against another copy of it (a checkout of an older
 * commit): deep-mode problems of every gradient family drawn by the suite's own case arbitrary,
 * cotangents as the vjp properties draw them, and every gradient, condition scale and depth scale
 * compared byte for byte (and referenceJvp's tangents alike, untimed). Each problem runs both copies, alternating which goes first, so that the
 * time ratio old/new per family is measured in one process under the same load.
 *
 *     npx tsx bench/reference-vjp-identity.ts --baseline /path/to/old/reference/vjp/index.ts [--per-family 60] [--seed 1] [--max-length 4096]
 *
 * Exits 1 on any mismatch (a differing byte, or one copy throwing where the other does not).
 */
import fc from 'fast-check';
import { referenceJvp, referenceVjp } from '../reference/vjp/index.ts';
import type { FamilyName, Problem } from '../spec/families.ts';
import { GRADIENT_FAMILIES } from '../spec/gradients.ts';
import { caseArbitrary } from '../suite/arbitraries.ts';
import { MODES } from '../suite/settings.ts';
import { cotangentsOf, tangentsOf } from '../suite/vjp-check.ts';

type Vjp = typeof referenceVjp;

const args = process.argv.slice(2);
const option = (name: string, fallback: string | undefined): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
/** A non-negative integer option, or a clear error naming it. */
const integerOption = (name: string, fallback: number): number => {
  const text = option(name, String(fallback)) as string;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`--${name}: expected a non-negative integer, got '${text}'`);
  return value;
};
const baselinePath = option('baseline', undefined);
if (baselinePath === undefined) throw new RangeError('--baseline: expected the path of the other copy of reference/vjp/index.ts, got nothing');
const perFamily = integerOption('per-family', 60);
const seed = integerOption('seed', 1);
const maxLength = integerOption('max-length', MODES.deep.maxLength);
const familyFilter = option('family', undefined);
const baselineModule = (await import(baselinePath)) as { referenceVjp: Vjp; referenceJvp: typeof referenceJvp };
const baseline = baselineModule.referenceVjp;

/** The bytes of every tensor of a VJP result, by "part.input", or the error it threw. */
function bytesOf(vjp: Vjp, problem: Problem, cotangents: never): { bytes: Map<string, Uint8Array> } | { error: string } {
  try {
    const result = vjp(problem, cotangents) as unknown as Record<string, Record<string, { data: Float64Array } | undefined>>;
    const bytes = new Map<string, Uint8Array>();
    for (const part of ['gradients', 'conditionScales', 'depthScales']) {
      for (const [name, tensor] of Object.entries(result[part])) {
        if (tensor !== undefined) bytes.set(`${part}.${name}`, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
      }
    }
    return { bytes };
  } catch (error) {
    return { error: String(error) };
  }
}

/** Where two results differ (undefined when they are byte for byte the same). */
function difference(a: ReturnType<typeof bytesOf>, b: ReturnType<typeof bytesOf>): string | undefined {
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && a.error === b.error ? undefined : `threw: ${'error' in a ? a.error : '-'} vs ${'error' in b ? b.error : '-'}`;
  const names = new Set([...a.bytes.keys(), ...b.bytes.keys()]);
  for (const name of names) {
    const x = a.bytes.get(name);
    const y = b.bytes.get(name);
    if (x === undefined || y === undefined) return `${name} present in one only`;
    if (x.length !== y.length) return `${name}: ${x.length} vs ${y.length} bytes`;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${name}: first differing byte ${i} (element ${Math.floor(i / 8)})`;
  }
  return undefined;
}

let compared = 0;
let mismatches = 0;
let threw = 0;
const rows: string[] = [];
const started = Date.now();
for (const family of GRADIENT_FAMILIES as readonly FamilyName[]) {
  if (familyFilter !== undefined && family !== familyFilter) continue;
  const cases = fc.sample(caseArbitrary(family, { maxLength }), { seed: seed + GRADIENT_FAMILIES.indexOf(family), numRuns: perFamily });
  let oldMs = 0;
  let newMs = 0;
  let elements = 0;
  for (const [index, generated] of cases.entries()) {
    const problem = generated.problem as Problem;
    const cotangents = cotangentsOf(problem, generated.valueSeed) as never;
    const timed = (vjp: Vjp): [ReturnType<typeof bytesOf>, number] => {
      const t0 = performance.now();
      const result = bytesOf(vjp, problem, cotangents);
      return [result, performance.now() - t0];
    };
    // Alternate which copy runs first, so neither always gets the other's warm caches.
    const [[before, oldTime], [after, newTime]] = index % 2 === 0 ? [timed(baseline), timed(referenceVjp)] : ((r) => [r[1], r[0]])([timed(referenceVjp), timed(baseline)]);
    oldMs += oldTime;
    newMs += newTime;
    compared++;
    if ('error' in before) threw++;
    else for (const bytes of before.bytes.values()) elements += bytes.length / 8;
    const diff = difference(before, after);
    // The JVP shares the channel code: its tangents must not move either.
    const tangents = tangentsOf(problem, generated.valueSeed + 1) as never;
    const jvpBytes = (jvp: typeof referenceJvp): ReturnType<typeof bytesOf> =>
      bytesOf(((p: Problem, t: never) => ({ gradients: jvp(p, t), conditionScales: {}, depthScales: {} })) as unknown as Vjp, problem, tangents);
    const jvpDiff = difference(jvpBytes(baselineModule.referenceJvp), jvpBytes(referenceJvp));
    if (jvpDiff !== undefined) {
      mismatches++;
      console.error(`MISMATCH (JVP) ${family} case ${index} (seed ${seed}, valueSeed ${generated.valueSeed}): ${jvpDiff}`);
    }
    if (diff !== undefined) {
      mismatches++;
      console.error(`MISMATCH ${family} case ${index} (seed ${seed}, valueSeed ${generated.valueSeed}, dims ${JSON.stringify(generated.request.dims)}): ${diff}`);
    }
  }
  rows.push(`| ${family} | ${cases.length} | ${elements} | ${(oldMs / 1000).toFixed(2)} | ${(newMs / 1000).toFixed(2)} | ${(oldMs / newMs).toFixed(2)} |`);
}
console.log(`${compared} problems compared, VJP and JVP (${threw} threw in both alike), ${mismatches} mismatches, ${((Date.now() - started) / 1000).toFixed(1)} s, max L ${maxLength}, seed ${seed}`);
console.log('| family | problems | output elements compared | old s | new s | old/new |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
if (mismatches > 0) process.exit(1);
