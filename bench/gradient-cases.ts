/**
 * Generated gradient cases for the margins of rule V (spec/tolerance.md, "Gradients"): every
 * family × applicable regime × option setting, drawn by spec/regimes.ts's sampleProblem, with
 * random float32 cotangents, and the measurement of a backward kernel against the reference VJP.
 * Shared by test/suite/gradient-tolerance.test.ts (few seeds, short L) and bench/gradient-margins.ts.
 */
import { GRADIENT_FAMILIES } from '../spec/gradients.ts';
import seedrandom from 'seedrandom';
import { referenceVjp } from '../reference/vjp/index.ts';
import { FAMILY_NAMES, type AnyProblem, type FamilyName, type Problem } from '../spec/families.ts';
import type { Precision } from '../spec/precision.ts';
import { OPTIONAL_INPUTS, regimeRestriction, regimesFor, sampleProblem, type RegimeName, type SampleRequest } from '../spec/regimes.ts';
import { dimensionsOf, outputShapes } from '../spec/shapes.ts';
import { gradientBounds, gradientUsage, type GradientUsage } from '../suite/gradient-tolerance.ts';

/** A cotangent for every output. */
export type CotangentTensors = Record<string, { data: Float32Array; shape: number[] }>;

/** One generated case: a problem, its cotangents and a label that reproduces it. */
export interface GradientCase {
  readonly label: string;
  readonly family: FamilyName;
  readonly regime: RegimeName;
  readonly problem: AnyProblem;
  readonly cotangents: CotangentTensors;
}

/** The option settings tried per family: each directional or math-changing option on and off. */
const OPTION_SETTINGS: { readonly [F in FamilyName]: readonly object[] } = {
  'prefix-sum': [
    { exclusive: false, reverse: false },
    { exclusive: true, reverse: true },
  ],
  'linear-recurrence': [{ reverse: false }, { reverse: true }],
  'selective-scan': [{ deltaSoftplus: true }, { deltaSoftplus: false }],
  'lti-ssm': [{}],
  ssd: [{ dtSoftplus: true }, { dtSoftplus: false }],
  'mamba3-siso': [{}],
};

/** selective-scan's B/C layouts, cycled over the seeds. */
const LAYOUTS = [
  { B: 'time-varying', C: 'time-varying' },
  { B: 'time-invariant', C: 'grouped' },
  { B: 'grouped', C: 'time-invariant' },
] as const;

/** Random float32 cotangents in [−2, 2] for every output of a problem. */
export function randomCotangents(problem: AnyProblem, seed: string): CotangentTensors {
  const random = seedrandom(seed);
  const shapes = outputShapes(problem.family, dimensionsOf(problem)) as Record<string, readonly number[]>;
  return Object.fromEntries(
    Object.entries(shapes).map(([name, shape]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      return [name, { data: Float32Array.from({ length: size }, () => Math.fround(4 * random() - 2)), shape: [...shape] }];
    }),
  );
}

/**
 * Every applicable case for the given seeds and lengths: per family, regime, option setting, seed,
 * every optional input on; selective-scan's seqIdx on odd seeds only, so both packed rows and rows
 * without seqIdx are measured (ssd's always on, as before; it is drawn last, so the other inputs are the same either way).
 * `skipped` collects the combinations a regime does not apply to, with the reason.
 */
export function gradientCases(seeds: readonly number[], lengths: readonly number[], skipped: string[] = []): GradientCase[] {
  const cases: GradientCase[] = [];
  for (const family of FAMILY_NAMES) {
    // A family whose gradients the spec does not define yet (no differentiable input) has no case.
    if (!GRADIENT_FAMILIES.includes(family)) continue;
    const allOn = Object.fromEntries(OPTIONAL_INPUTS[family].map((name) => [name, true]));
    for (const regime of regimesFor(family)) {
      for (const options of OPTION_SETTINGS[family]) {
        for (const seed of seeds) {
          for (const length of lengths) {
            const layout = LAYOUTS[seed % LAYOUTS.length];
            const optionalInputs = family === 'selective-scan' && seed % 2 === 0 ? { ...allOn, seqIdx: false } : allOn;
            const request = {
              family,
              regime: regime.name,
              // mamba3-siso rotates pairs of states: N even, two of its N/2 pairs rotated.
              dims: { batch: 2, dim: 4, length, stateSize: family === 'mamba3-siso' ? 4 : 3, groups: 2, heads: 2, angles: 2 },
              options,
              optionalInputs: regime.name === 'dyadic-exact' ? { ...optionalInputs, z: false } : optionalInputs,
              ...(family === 'selective-scan' && { projections: layout }),
            } as unknown as SampleRequest;
            const label = `${family} ${regime.name} ${JSON.stringify(options)} seed=${seed} L=${length}${optionalInputs.seqIdx === true ? ' packed' : ''}`;
            const reason = regimeRestriction(request);
            if (reason !== undefined) {
              skipped.push(`${label}: ${reason}`);
              continue;
            }
            const problem = sampleProblem(request, seedrandom(`gradient-${seed}`)) as AnyProblem;
            cases.push({ label, family, regime: regime.name, problem, cotangents: randomCotangents(problem, `cotangent-${seed}`) });
          }
        }
      }
    }
  }
  return cases;
}

/** Whether a case's seqIdx resets the state somewhere: an id changes after a row's first token. */
export function hasResets(c: GradientCase): boolean {
  const seqIdx = (c.problem.inputs as { seqIdx?: { data: ArrayLike<number>; shape: readonly number[] } }).seqIdx;
  if (seqIdx === undefined) return false;
  const L = seqIdx.shape[1];
  for (let i = 0; i < seqIdx.data.length; i++) if (i % L > 0 && seqIdx.data[i] !== seqIdx.data[i - 1]) return true;
  return false;
}

/** The reference VJP of a case (gradients, condition, depth and floor scales) as plain records. */
export function referenceOf(c: GradientCase): { gradients: Record<string, { data: Float64Array }>; scales: Record<string, { data: Float64Array }>; depths: Record<string, { data: Float64Array }>; floors: Record<string, { data: Float64Array }> } {
  const result = referenceVjp(c.problem as Problem<FamilyName>, c.cotangents as never) as unknown as {
    gradients: Record<string, { data: Float64Array }>;
    conditionScales: Record<string, { data: Float64Array }>;
    depthScales: Record<string, { data: Float64Array }>;
    floorScales: Record<string, { data: Float64Array }>;
  };
  return { gradients: result.gradients, scales: result.conditionScales, depths: result.depthScales, floors: result.floorScales };
}

/** A backward kernel's gradients measured against the reference with rule V's bounds for `precision`. */
export function measure(c: GradientCase, gradients: Readonly<Record<string, { data: ArrayLike<number> } | undefined>>, precision: Precision, reference = referenceOf(c)): GradientUsage {
  const bounds = gradientBounds(c.problem, reference.scales, reference.depths, c.cotangents, { precision }, reference.floors);
  return gradientUsage(reference.gradients, gradients, bounds);
}
