/**
 * packed-sequences: a batch row packing several sequences (segment ids that change between them)
 * equals each sequence run alone, the first from the row's initial state, the others from zero.
 */
import type { AnyProblem, FamilyName, Problem } from '../../spec/families.ts';
import { inputNamesWithRole, stateInputNames, stateOutputName } from '../../spec/families/index.ts';
import { sliceAxis } from '../../spec/tensor-axis.ts';
import { unravelIndex, type OutputTensor, type Tensor } from '../../spec/tensor.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { batchTensorNames, inputsOf, outputTimeAxis, sliceTime, withInputs } from '../transforms.ts';
import { judged, noParameters, pairAllowance, pairViolated, type PropertyDefinition } from './harness.ts';

/** The segments [start, end) of one row of segment ids. */
function segmentsOf(ids: Float32Array, b: number, L: number): [number, number][] {
  const segments: [number, number][] = [];
  let start = 0;
  for (let t = 1; t <= L; t++) {
    if (t === L || ids[b * L + t] !== ids[b * L + t - 1]) {
      segments.push([start, t]);
      start = t;
    }
  }
  return L === 0 ? [] : segments;
}

/** Batch row b of a problem, steps [start, end), without segment ids; the initial state kept only for the row's first sequence. */
function sequenceAlone<F extends FamilyName>(problem: Problem<F>, segmentsName: string, b: number, start: number, end: number): Problem<F> {
  const inputs = inputsOf(problem);
  const replaced: Record<string, Tensor | undefined> = { [segmentsName]: undefined };
  for (const name of batchTensorNames(problem as AnyProblem)) if (name !== segmentsName) replaced[name] = sliceAxis(inputs[name]!, 0, b, b + 1);
  if (start > 0) for (const name of stateInputNames(problem.family)) replaced[name] = undefined;
  return sliceTime(withInputs(problem, replaced), start, end);
}

/** The flat index, in the packed run's output, of element i of a sequence's own output. */
function packedIndex(family: FamilyName, name: string, own: readonly number[], packed: readonly number[], i: number, b: number, start: number): number {
  const coordinates = unravelIndex(i, own);
  coordinates[0] = b;
  const axis = outputTimeAxis(family, name, own);
  if (axis >= 0) coordinates[axis] += start;
  return coordinates.reduce((index, c, k) => index * packed[k] + c, 0);
}

/** The packed-sequences property. */
export const packedSequences: PropertyDefinition<'packed-sequences'> = {
  name: 'packed-sequences',
  description: 'A row packing several sequences (segment ids) equals each sequence run alone: the first from the initial state, the others from zero.',
  notApplicable: (family) => (inputNamesWithRole(family, 'segments').length === 0 ? `${family} has no segment ids` : undefined),
  arbitrary: (family, constraints) =>
    noParameters(family, { ...constraints, optionalInputs: { ...constraints.optionalInputs, ...Object.fromEntries(inputNamesWithRole(family, 'segments').map((name) => [name, true])) } }),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const family: FamilyName = problem.family;
      const [segmentsName] = inputNamesWithRole(family, 'segments');
      const ids = inputsOf(problem)[segmentsName];
      // The arbitrary switches the segment ids on: a case without them checks nothing, so it is no pass.
      if (ids === undefined) return { kind: 'fail', message: `the case has no ${segmentsName}: packed-sequences checked nothing (a suite bug: its arbitrary switches ${segmentsName} on)` };
      const [batch, L] = ids.shape;
      const packed = await runChecked(context, problem);
      const packedJudged = judged(problem as AnyProblem, context.declaration);
      const stateName = stateOutputName(family);
      for (let b = 0; b < batch; b++) {
        const segments = segmentsOf(ids.data, b, L);
        for (const [k, [start, end]] of segments.entries()) {
          const alone = sequenceAlone(problem, segmentsName, b, start, end);
          const own = await runChecked(context, alone);
          const ownJudged = judged(alone as AnyProblem, context.declaration);
          for (const name of Object.keys(own)) {
            // Only the row's last sequence ends in the packed run's final state.
            if (name === stateName && k !== segments.length - 1) continue;
            const mine: OutputTensor = own[name];
            for (let i = 0; i < mine.data.length; i++) {
              const j = packedIndex(family, name, mine.shape, packed[name].shape, i, b, start);
              if (pairViolated(ownJudged, i, mine.data[i], packedJudged, j, packed[name].data[j], name, context.declaration.precision)) {
                const at = unravelIndex(j, packed[name].shape);
                const allowance = pairAllowance(ownJudged, i, packedJudged, j, name);
                return {
                  kind: 'fail',
                  message: `sequence ${k + 1} of row ${b} (steps ${start}…${end - 1}) run alone gives ${name} ${mine.data[i]}, the packed row ${name}[${at.join(', ')}] = ${packed[name].data[j]} (allowance of both runs ${allowance.toExponential(3)})`,
                };
              }
            }
          }
        }
      }
      return { kind: 'pass' };
    }),
};
