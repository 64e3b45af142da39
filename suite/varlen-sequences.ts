/**
 * How an answer to ssd's variable-length form is judged against an expected answer: sequence by
 * sequence, each as the answer to the ssd problem it means (spec/families/ssd/varlen.ts
 * #sequenceProblem) under that problem's own tolerance bounds. Shared by the varlen property's
 * check (a) (expected: the reference of each sequence) and fixture replay (expected: the packed
 * reference answer a varlen fixture stores), so both hold runVarlen to the same rule.
 */
import type { AnyProblem } from '../spec/families.ts';
import { sequenceCount, sequenceProblem, type SsdVarlenOutputs, type SsdVarlenProblem } from '../spec/families/ssd/varlen.ts';
import type { Float64Tensor, OutputTensor } from '../spec/tensor.ts';
import { compareWithReference, exactRegime, type Comparison, type ExpectedOutputs } from './compare.ts';
import { comparisonFailure, disallowedNonFinite, type CheckResult } from './pipeline.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';

/** Flat [from, to) ranges of sequence s in the packed y and in finalStates. */
function sequenceRanges(problem: SsdVarlenProblem, s: number): { y: [number, number, number[]]; finalStates: [number, number, number[]] } {
  const { x, B, cuSeqlens } = problem.inputs;
  const [, , H, P] = x.shape;
  const N = B.shape[3];
  const [start, end] = [cuSeqlens.data[s], cuSeqlens.data[s + 1]];
  return {
    y: [start * H * P, end * H * P, [1, end - start, H, P]],
    finalStates: [s * H * P * N, (s + 1) * H * P * N, [1, H, P, N]],
  };
}

/** Sequence s's part of a varlen answer, shaped as the answer to its own ssd problem: y (1, len, H, P), finalStates (1, H, P, N). */
export function sequenceOutputs(problem: SsdVarlenProblem, outputs: SsdVarlenOutputs, s: number): Readonly<Record<string, OutputTensor>> {
  const ranges = sequenceRanges(problem, s);
  const part = (t: OutputTensor, [from, to, shape]: [number, number, number[]]): OutputTensor => ({ data: t.data.subarray(from, to), shape });
  return { y: part(outputs.y, ranges.y), finalStates: part(outputs.finalStates, ranges.finalStates) };
}

/** Sequence s's part of an expected varlen answer (values, condition and depth scales), shaped as sequenceOutputs. */
export function sequenceExpected(problem: SsdVarlenProblem, expected: ExpectedOutputs, s: number): ExpectedOutputs {
  const ranges = sequenceRanges(problem, s);
  const part = (group: Readonly<Record<string, Float64Tensor>>): Record<string, Float64Tensor> => ({
    y: { data: group.y.data.subarray(ranges.y[0], ranges.y[1]), shape: ranges.y[2] },
    finalStates: { data: group.finalStates.data.subarray(ranges.finalStates[0], ranges.finalStates[1]), shape: ranges.finalStates[2] },
  });
  return { outputs: part(expected.outputs), conditionScales: part(expected.conditionScales), depthScales: part(expected.depthScales) };
}

/** What judging a varlen answer's sequences found: the first failure (if any) and every comparison made. */
export interface SequencesJudgement {
  readonly failure?: CheckResult;
  readonly comparisons: readonly Comparison[];
}

/**
 * Judges a validated varlen answer sequence by sequence: disallowed non-finite values, then the
 * comparison with `expectedOf(own, s)` (the expected answer of sequence s's own ssd problem) under
 * that problem's tolerance, bit for bit on dyadic-exact regimes. Stops at the first failing
 * sequence; `what` prefixes its message.
 */
export function judgeVarlenSequences(
  problem: SsdVarlenProblem,
  outputs: SsdVarlenOutputs,
  declaration: ArithmeticDeclaration,
  regime: string,
  expectedOf: (own: AnyProblem, s: number) => ExpectedOutputs,
  what: string,
): SequencesJudgement {
  const bounds = problem.inputs.cuSeqlens.data;
  const comparisons: Comparison[] = [];
  for (let s = 0; s < sequenceCount(problem.inputs); s++) {
    const own = sequenceProblem(problem, s) as AnyProblem;
    const expected = expectedOf(own, s);
    const mine = sequenceOutputs(problem, outputs, s);
    const where = `${what}: sequence ${s} (tokens [${bounds[s]}, ${bounds[s + 1]}); coordinates below are the sequence's own)`;
    const nonFinite = disallowedNonFinite(own, mine, declaration, expected);
    if (nonFinite !== undefined) return { failure: { ...nonFinite, message: `${where}: ${nonFinite.message}` }, comparisons };
    const comparison = compareWithReference(own, mine, expected, declaration, { exact: exactRegime(regime, declaration, own, expected) });
    comparisons.push(comparison);
    if (!comparison.passed) return { failure: comparisonFailure(`${where}: runVarlen differs from the reference`, comparison), comparisons };
  }
  return { comparisons };
}
