/**
 * varlen: ssd's variable-length form (runVarlen) against the reference and against the padded
 * batch. From a generated batch (rows of length L) and one length per row drawn as parameters
 * (0, 1, L or any), the rows' prefixes are packed into one row cut by cuSeqlens, each from its
 * row's initial state (spec/families/ssd/varlen.ts#packRows). Then
 *   (a) each sequence of runVarlen's answer is judged against the reference of the ssd problem it
 *       means (sequenceProblem), under that problem's tolerance bounds, and
 *   (b) the implementation's own run() on the batch gives the same y at every position inside a
 *       row's length, and the same final state for rows whose length is L, within both runs' bounds.
 * The lengths and the chunk size are parameters of the case, so fast-check's seed and path replay it.
 */
import fc from 'fast-check';
import type { AnyProblem, Problem } from '../../spec/families.ts';
import { inputNamesWithRole } from '../../spec/families/index.ts';
import { packRows } from '../../spec/families/ssd/varlen.ts';
import { validateVarlenOutputs } from '../../spec/families/ssd/varlen-validate.ts';
import { varlenEntryOf, type EvaluationSettings } from '../../spec/implementation.ts';
import { unravelIndex } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import type { ExpectedOutputs } from '../compare.ts';
import { guarded, runChecked, withTimeout, type CheckResult } from '../pipeline.ts';
import { judgeVarlenSequences } from '../varlen-sequences.ts';
import { judged, pairAllowance, pairViolated, withParameters, type Judged, type PropertyCase, type PropertyContext, type PropertyDefinition } from './harness.ts';

/** The largest batch drawn when the cell does not say: three rows pack up to three sequences. */
const DEFAULT_MAX_BATCH = 3;

/** The parameter of row b's length. */
const lengthKey = (b: number): string => `length${b}`;

/**
 * A row's length from its parameter: −1 the whole row (L), else the value modulo L + 1; drawn as
 * −1, 0 or 1 (empty and one-token sequences), or any.
 */
function rowLength(code: number, L: number): number {
  return code < 0 ? L : code % (L + 1);
}

const lengthCode: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constant(-1), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 1 }), weight: 1 },
  { arbitrary: fc.nat({ max: 1 << 16 }), weight: 2 },
);

/** The varlen property. */
export const varlen: PropertyDefinition<'varlen'> = {
  name: 'varlen',
  description:
    'The variable-length form (runVarlen: rows packed by cuSeqlens, one initial and final state per sequence) gives each sequence its reference within its bounds, and equals run() on the padded batch.',
  notApplicable: (family, entry) => {
    if (varlenEntryOf(family, entry) !== undefined) return undefined;
    return family === 'ssd' ? "the implementation's ssd has no runVarlen" : `${family} has no variable-length form`;
  },
  arbitrary: (family, constraints) => {
    const maxBatch = constraints.maxBatch ?? DEFAULT_MAX_BATCH;
    // The varlen form has no seqIdx: its sequences are the packed rows.
    const noSegments = Object.fromEntries(inputNamesWithRole(family, 'segments').map((name) => [name, false]));
    const cases = caseArbitrary(family, { ...constraints, maxBatch, optionalInputs: { ...constraints.optionalInputs, ...noSegments } });
    const lengths = Object.fromEntries(Array.from({ length: maxBatch }, (_, b) => [lengthKey(b), lengthCode]));
    return withParameters(cases, fc.record({ ...lengths, chunkSizeChoice: fc.nat({ max: 63 }) }));
  },
  check: (context, c) => guarded(() => checkVarlen(context as unknown as PropertyContext<'ssd'>, c as unknown as PropertyCase<'ssd'>)),
};

async function checkVarlen(context: PropertyContext<'ssd'>, c: PropertyCase<'ssd'>): Promise<CheckResult> {
  const entry = context.entry;
  if (entry.runVarlen === undefined) throw new Error("varlen: the implementation's ssd has no runVarlen (notApplicable should have said so)");
  const batchProblem: Problem<'ssd'> = c.problem;
  const [batch, L, H, P] = batchProblem.inputs.x.shape;
  const lengths = Array.from({ length: batch }, (_, b) => rowLength(Number(c.parameters[lengthKey(b)] ?? -1), L));
  const problem = packRows(batchProblem, lengths);
  const sizes = entry.chunkSizes ?? [];
  const settings: EvaluationSettings | undefined = sizes.length === 0 ? undefined : { chunkSize: sizes[Number(c.parameters.chunkSizeChoice ?? 0) % sizes.length] };
  const bounds = problem.inputs.cuSeqlens.data;
  const what = `rows of lengths [${lengths.join(', ')}] packed (cuSeqlens [${Array.from(bounds).join(', ')}])${settings === undefined ? '' : `, chunk size ${settings.chunkSize}`}`;

  const answer = await withTimeout(entry.runVarlen(problem, settings), context.timeoutMs, 'runVarlen');
  const outputs = validateVarlenOutputs(problem, answer);

  // (a) Each sequence against the reference of the ssd problem it means.
  const sequences: Judged[] = [];
  const expectedOf = (own: AnyProblem): ExpectedOutputs => {
    const reference = judged(own, context.declaration);
    sequences.push(reference);
    return reference.expected;
  };
  const judgement = judgeVarlenSequences(problem, outputs, context.declaration, c.request.regime, expectedOf, what);
  if (judgement.failure !== undefined) return judgement.failure;

  // (b) The padded batch through run(): the same y inside each row's length, the same final state for full rows.
  const padded = await runChecked(context, batchProblem);
  const paddedJudged = judged(batchProblem as AnyProblem, context.declaration);
  const precision = context.declaration.precision;
  const stateSize = problem.inputs.B.shape[3];
  for (let b = 0; b < batch; b++) {
    const sequenceY = sequences[b].expected.outputs.y;
    for (let i = 0; i < sequenceY.data.length; i++) {
      const [, t, h, p] = unravelIndex(i, sequenceY.shape);
      const iBatch = ((b * L + t) * H + h) * P + p;
      const iPacked = ((bounds[b] + t) * H + h) * P + p;
      const [a, v] = [padded.y.data[iBatch], outputs.y.data[iPacked]];
      if (pairViolated(paddedJudged, iBatch, a, sequences[b], i, v, 'y', precision)) {
        return pairFailure(`${what}: y[0, ${bounds[b] + t}, ${h}, ${p}] of runVarlen = ${v}, run() on the padded batch gives y[${b}, ${t}, ${h}, ${p}] = ${a}`, paddedJudged, iBatch, sequences[b], i, 'y');
      }
    }
    if (lengths[b] !== L) continue;
    const perRow = H * P * stateSize;
    for (let k = 0; k < perRow; k++) {
      const [a, v] = [padded.finalStates.data[b * perRow + k], outputs.finalStates.data[b * perRow + k]];
      if (pairViolated(paddedJudged, b * perRow + k, a, sequences[b], k, v, 'finalStates', precision)) {
        const at = unravelIndex(b * perRow + k, padded.finalStates.shape).join(', ');
        return pairFailure(`${what}: finalStates[${at}] of runVarlen = ${v}, run() on the padded batch gives ${a} (row ${b} is whole)`, paddedJudged, b * perRow + k, sequences[b], k, 'finalStates');
      }
    }
  }
  return { kind: 'pass' };
}

/** A failure of (b), with the allowance of both runs. */
function pairFailure(message: string, first: Judged, i: number, second: Judged, j: number, name: string): CheckResult {
  return { kind: 'fail', message: `${message} (allowance of both runs ${pairAllowance(first, i, second, j, name).toExponential(3)})` };
}
