/**
 * Small deterministic problems for the tfjs tests: every family on awkward lengths with every
 * option and input layout, and a simple error bound against the reference.
 */
import { reference, referenceStep } from '../../../reference/index.ts';
import type { AnyProblem, FamilyName, OutputsOf, Problem } from '../../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import { dimensionsOf } from '../../../spec/shapes.ts';
import type { OutputTensor } from '../../../spec/tensor.ts';
import { tensorSource } from './tensor-source.ts';

/** The lengths every family is checked on: empty, tiny, around powers of two, odd. */
export const AWKWARD_LENGTHS = [0, 1, 2, 3, 7, 8, 9, 33, 257] as const;

const BATCH = 2;
const DIM = 4;
const STATE = 3;
const GROUPS = 2;

export { tensorSource } from './tensor-source.ts';

/** One named problem. */
export interface NamedProblem {
  readonly label: string;
  readonly problem: AnyProblem;
}

/** Lengths from which problemsAtLength thins the costlier cases (tfjs's cpu backend takes ~0.1–0.5 s per case there). */
const LONG = 64;

/**
 * Every family × option × layout combination the tests run, at one length; from L = 64 on, every
 * prefix-sum case but only every other case of the other families (still each option both ways).
 */
export function problemsAtLength(length: number): NamedProblem[] {
  const all = everyProblemAtLength(length);
  if (length < LONG) return all;
  return all.filter(({ problem }, i) => problem.family === 'prefix-sum' || i % 2 === 0);
}

function everyProblemAtLength(length: number): NamedProblem[] {
  const t = tensorSource(`tfjs-${length}`);
  const L = length;
  const problems: NamedProblem[] = [];
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) {
      problems.push({
        label: `prefix-sum exclusive=${exclusive} reverse=${reverse} L=${L}`,
        problem: { family: 'prefix-sum', inputs: { x: t([BATCH, DIM, L]) }, options: { exclusive, reverse } },
      });
    }
  }
  // In this order every other case still has reverse and h0 both ways.
  for (const [reverse, withH0] of [[false, false], [false, true], [true, true], [true, false]] as const) {
    {
      problems.push({
        label: `linear-recurrence reverse=${reverse} h0=${withH0} L=${L}`,
        problem: {
          family: 'linear-recurrence',
          inputs: { a: t([BATCH, DIM, L], -1, 1), b: t([BATCH, DIM, L]), ...(withH0 ? { h0: t([BATCH, DIM]) } : {}) },
          options: { reverse },
        },
      });
    }
  }
  const layouts: Record<string, readonly number[]> = {
    'time-invariant': [DIM, STATE],
    'time-varying': [BATCH, STATE, L],
    grouped: [BATCH, GROUPS, STATE, L],
  };
  // Each layout as B and as C, each optional input present and absent, softplus on and off.
  const pairs = [
    ['time-invariant', 'time-invariant', true],
    ['time-varying', 'grouped', false],
    ['grouped', 'time-varying', true],
    ['time-varying', 'time-invariant', false],
    ['grouped', 'grouped', false],
  ] as const;
  for (const [bLayout, cLayout, full] of pairs) {
    problems.push({
      label: `selective-scan B=${bLayout} C=${cLayout} optional=${full} L=${L}`,
      problem: {
        family: 'selective-scan',
        inputs: {
          u: t([BATCH, DIM, L]),
          delta: t([BATCH, DIM, L], full ? -3 : 0, full ? 3 : 1),
          A: t([DIM, STATE], -2, -0.05),
          B: t(layouts[bLayout]),
          C: t(layouts[cLayout]),
          ...(full ? { D: t([DIM]), z: t([BATCH, DIM, L], -6, 6), deltaBias: t([DIM], -1, 1), h0: t([BATCH, DIM, STATE]) } : {}),
        },
        options: { deltaSoftplus: full },
      },
    });
  }
  problems.push({
    label: `selective-scan softplus threshold (delta + bias around 20) L=${L}`,
    problem: {
      family: 'selective-scan',
      inputs: {
        u: t([BATCH, DIM, L]),
        delta: t([BATCH, DIM, L], 18, 22),
        A: t([DIM, STATE], -0.01, -0.001),
        B: t([DIM, STATE]),
        C: t([DIM, STATE]),
        deltaBias: t([DIM], -0.5, 0.5),
      },
      options: { deltaSoftplus: true },
    },
  });
  for (const withD of [false, true]) {
    problems.push({
      label: `lti-ssm D=${withD} L=${L}`,
      problem: {
        family: 'lti-ssm',
        inputs: {
          Abar: t([DIM, STATE], -0.95, 0.99),
          Bbar: t([DIM, STATE]),
          C: t([DIM, STATE]),
          ...(withD ? { D: t([DIM]) } : {}),
          u: t([BATCH, DIM, L]),
        },
        options: {},
      },
    });
  }
  return problems;
}

const U = 2 ** -24;

/**
 * The worst error of an answer in units of a simple bound. Componentwise, the tree-order bound of
 * /work/shared/tolerance-notes.md with a factor 4 of room, u·(4·(2⌈log2(L+1)⌉ + 1)·S + 2·W), plus
 * `transcendentalUlps`·u·W for the exp of the discretization (S, W: the reference's condition and
 * depth scales). Normwise (FFT), the suite's u·(6·log2 M + N + 8)·(‖K‖₁·‖u‖₂ + |D|·max|u|) per channel.
 * Above 1 is a failure.
 */
export function errorInBounds<F extends FamilyName>(
  problem: Problem<F>,
  outputs: OutputsOf<F>,
  errorModel: 'componentwise' | 'normwise',
  transcendentalUlps = 4,
): number {
  const expected = reference(problem);
  const { length } = dimensionsOf(problem as AnyProblem);
  const normwise = errorModel === 'normwise' ? normwiseScales(problem as Problem<'lti-ssm'>) : undefined;
  const treeFactor = 4 * (2 * Math.ceil(Math.log2(length + 1)) + 1);
  let worst = 0;
  for (const name of Object.keys(expected.outputs) as (keyof OutputsOf<F> & string)[]) {
    const exact = (expected.outputs[name] as { data: Float64Array }).data;
    const got = (outputs[name] as OutputTensor).data;
    if (got.length !== exact.length) throw new Error(`${name}: ${got.length} values, expected ${exact.length}`);
    const S = (expected.conditionScales[name] as { data: Float64Array }).data;
    const W = (expected.depthScales[name] as { data: Float64Array }).data;
    for (let i = 0; i < exact.length; i++) {
      const error = Math.abs(got[i] - exact[i]);
      const bound =
        normwise !== undefined ? normwise[Math.floor(i / length)] : U * (treeFactor * S[i] + (2 + transcendentalUlps) * W[i]);
      const ratio = error === 0 ? 0 : error / bound;
      if (!(ratio <= worst)) worst = ratio; // NaN propagates as a failure
    }
  }
  return worst;
}

/** Per channel (b, d), the normwise FFT bound of the suite's tolerance model (suite/tolerance.ts). */
function normwiseScales(problem: Problem<'lti-ssm'>): Float64Array {
  const { Abar, Bbar, C, D, u } = problem.inputs;
  const [batch, dim, length] = u.shape;
  const N = Abar.shape[1];
  let size = 1;
  while (size < 2 * length) size *= 2;
  const factor = U * (6 * Math.log2(Math.max(size, 2)) + N + 8);
  const scales = new Float64Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      let kernelNorm = 0;
      for (let t = 0; t < length; t++) {
        let k = 0;
        for (let n = 0; n < N; n++) k += C.data[d * N + n] * Bbar.data[d * N + n] * Abar.data[d * N + n] ** t;
        kernelNorm += Math.abs(k);
      }
      let l2 = 0;
      let maxAbs = 0;
      for (let t = 0; t < length; t++) {
        const v = u.data[(b * dim + d) * length + t];
        l2 += v * v;
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
      scales[b * dim + d] = factor * (kernelNorm * Math.sqrt(l2) + Math.abs(D?.data[d] ?? 0) * maxAbs);
    }
  }
  return scales;
}

/**
 * Runs a one-token step of every family (selective-scan with grouped B, time-varying C and every
 * optional input) and returns each output's error in units of 64·u·S against the reference step.
 */
export async function stepErrors(implementation: ScanImplementation): Promise<{ label: string; error: number }[]> {
  const t = tensorSource('step');
  const cases = [
    ['prefix-sum', { x: t([2, 3]), state: t([2, 3]) }, { exclusive: false, reverse: false }],
    ['linear-recurrence', { a: t([2, 3]), b: t([2, 3]), state: t([2, 3]) }, { reverse: false }],
    [
      'selective-scan',
      { u: t([2, 4]), delta: t([2, 4]), A: t([4, 3], -2, -0.1), B: t([2, 2, 3, 1]), C: t([2, 3, 1]), D: t([4]), z: t([2, 4]), deltaBias: t([4]), state: t([2, 4, 3]) },
      { deltaSoftplus: true },
    ],
    ['lti-ssm', { Abar: t([4, 3]), Bbar: t([4, 3]), C: t([4, 3]), D: t([4]), u: t([2, 4]), state: t([2, 4, 3]) }, {}],
  ] as const;
  const errors: { label: string; error: number }[] = [];
  for (const [family, inputs, options] of cases) {
    const step = (implementation.families[family] as FamilyImplementation<typeof family> | undefined)?.step;
    if (step === undefined) throw new Error(`${implementation.name} has no ${family} step`);
    const got = await step(inputs as never, options as never);
    const expected = referenceStep(family, inputs as never, options as never);
    for (const name of ['y', 'state'] as const) {
      const label = `${implementation.name} ${family} step ${name}`;
      const exact = expected.outputs[name].data;
      const scale = expected.conditionScales[name].data;
      if (got[name].shape.join() !== expected.outputs[name].shape.join()) {
        errors.push({ label: `${label}: shape [${got[name].shape}] instead of [${expected.outputs[name].shape}]`, error: Number.POSITIVE_INFINITY });
        continue;
      }
      let worst = 0;
      exact.forEach((value, i) => {
        const ratio = Math.abs(got[name].data[i] - value) / (64 * U * scale[i]);
        if (!(ratio <= worst)) worst = ratio;
      });
      errors.push({ label, error: worst });
    }
  }
  return errors;
}
