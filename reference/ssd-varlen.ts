/**
 * ssd's variable-length form, the reference: each sequence s of the packed row is the ssd problem
 * it means (spec/families/ssd/varlen.ts#sequenceProblem, tokens [c_s, c_{s+1}) from
 * initialStates[s] or zero), evaluated by the ssd reference; its y, S and W go to tokens
 * c_s … c_{s+1} − 1 of the packed y, its final state to finalStates[s]. No arithmetic of its own,
 * so the varlen form means exactly what the ssd reference computes per sequence; an empty
 * sequence's final state is its initial state (ssd's L = 0).
 */
import { sequenceCount, sequenceProblem, type SsdVarlenProblem } from '../spec/families/ssd/varlen.ts';
import { validateVarlenProblem } from '../spec/families/ssd/varlen-validate.ts';
import type { Float64Tensor } from '../spec/tensor.ts';
import type { ReferenceResult, ReferenceTensors } from './result.ts';
import { allocateScaled, type ScaledTensor } from './scaled-outputs.ts';
import { ssd } from './ssd.ts';

/** The reference of a varlen problem (validated first): y (1, T, H, P) and finalStates (nseq, H, P, N), with their scales S and W. */
export function ssdVarlen(problem: SsdVarlenProblem): ReferenceResult<'ssd'> {
  const checked = validateVarlenProblem(problem);
  const { x, B } = checked.inputs;
  const [, , H, P] = x.shape;
  const nseq = sequenceCount(checked.inputs);
  const y = allocateScaled(x.shape);
  const finalStates = allocateScaled([nseq, H, P, B.shape[3]]);
  for (let s = 0; s < nseq; s++) {
    const own = ssd(sequenceProblem(checked, s).inputs, checked.options);
    // x is (1, T, H, P): a sequence's tokens are one contiguous run of the packed y.
    scatter(y, own, 'y', checked.inputs.cuSeqlens.data[s] * H * P);
    scatter(finalStates, own, 'finalStates', own.outputs.finalStates.data.length * s);
  }
  return {
    outputs: { y: y.value, finalStates: finalStates.value },
    conditionScales: { y: y.conditionScale, finalStates: finalStates.conditionScale },
    depthScales: { y: y.depthScale, finalStates: finalStates.depthScale },
  };
}

/** Copies one sequence's output `name` (value, S, W) into the packed tensors from flat index `offset`. */
function scatter(target: ScaledTensor, own: ReferenceResult<'ssd'>, name: keyof ReferenceTensors<'ssd'>, offset: number): void {
  const put = (into: Float64Tensor, from: Float64Tensor): void => into.data.set(from.data, offset);
  put(target.value, own.outputs[name]);
  put(target.conditionScale, own.conditionScales[name]);
  put(target.depthScale, own.depthScales[name]);
}
