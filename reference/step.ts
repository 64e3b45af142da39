/**
 * The reference one-token step (decoding): each family's forward recurrence advanced by one token
 * from a given state, with the same per-token code as the scans (recurrence-state.ts `advance`,
 * and the selective-scan / lti-ssm token functions), so the recurrence is written once.
 *
 *     prefix-sum:         state ← state + x;                 y = state
 *     linear-recurrence:  state ← a·state + b;               y = state
 *     selective-scan:     state_n ← Ā_n·state_n + Δ'·B_n·u;  y = (Σ_n C_n·state_n + D·u)·silu(z)
 *     lti-ssm:            state_n ← Abar_n·state_n + Bbar_n·u; y = Σ_n C_n·state_n + D·u
 *     ssd:                state_n ← exp(Δ·A_h)·state_n + Δ·B_n·x; y = (Σ_n C_n·state_n + D·x)·silu(z), per (b, h, p)
 *     mamba3-siso:        angle, SSM, key and value states advanced by one token (reference/mamba3-siso.ts)
 *
 * Options reverse and exclusive do not apply to a step; selective-scan's deltaSoftplus does.
 * The incoming state has no history, so its condition scale is |state| and the step's scales are
 * those of one recurrence step from there.
 */
import type { FamilyName, OptionsOf, StepInputsOf } from '../spec/families.ts';
import type { LtiSsmStepInputs, SelectiveScanOptions, SelectiveScanStepInputs, SsdOptions, SsdStepInputs } from '../spec/families.ts';
import { ssdStepSizes } from '../spec/families/ssd/dimensions.ts';
import { stepDimensionsOf, stepOutputShapes } from '../spec/shapes.ts';
import { validateStepInputs } from '../spec/validate.ts';
import { DiagonalChannel } from './diagonal-channel.ts';
import { ltiSsmToken } from './lti-ssm.ts';
import { advance, RecurrenceState } from './recurrence-state.ts';
import type { ReferenceStepResult } from './result.ts';
import { allocateScaled, type ScaledTensor, writeScaled } from './scaled-outputs.ts';
import { selectiveScanToken, selectiveScanTokens } from './selective-scan.ts';
import { ssdDelta, ssdToken, ssdTokens } from './ssd.ts';
import { mamba3SisoStep } from './mamba3-siso.ts';

/** The reference one-token step of `family`: validates, then returns y (batch, dim) and the new state with their condition scales. */
export function referenceStep<F extends FamilyName>(family: F, inputs: StepInputsOf<F>, options: OptionsOf<F>): ReferenceStepResult {
  const checked = validateStepInputs(family, inputs, options);
  const call = { family, inputs: checked, options } as AnyStepCall;
  switch (call.family) {
    case 'prefix-sum':
      return scalarStep(call.inputs.x.shape, call.inputs.state.data, 'prefix-sum', (state, i) => advance(state, 1, call.inputs.x.data[i]));
    case 'linear-recurrence': {
      const { a, b } = call.inputs;
      return scalarStep(a.shape, call.inputs.state.data, 'linear-recurrence', (state, i) => advance(state, a.data[i], b.data[i]));
    }
    case 'selective-scan':
      return selectiveScanStep(call.inputs, call.options);
    case 'lti-ssm':
      return ltiSsmStep(call.inputs);
    case 'ssd':
      return ssdStep(call.inputs, call.options);
    case 'mamba3-siso':
      return mamba3SisoStep(call.inputs);
  }
}

type AnyStepCall = {
  [F in FamilyName]: { readonly family: F; readonly inputs: StepInputsOf<F>; readonly options: OptionsOf<F> };
}[FamilyName];

/** A step of a scalar-state family: each of the batch·dim states advanced by `update`. */
function scalarStep(
  shape: readonly number[],
  stateIn: Float32Array,
  family: 'prefix-sum' | 'linear-recurrence',
  update: (state: RecurrenceState, index: number) => void,
): ReferenceStepResult {
  const [batch, dim] = shape;
  const shapes = stepOutputShapes(family, { batch, dim, length: 1, stateSize: 1 });
  const y = allocateScaled(shapes.y);
  const stateOut = allocateScaled(shapes.state);
  const state = new RecurrenceState();
  for (let i = 0; i < batch * dim; i++) {
    state.start(stateIn[i]);
    update(state, i);
    writeScaled(y, i, state.value, state.conditionScale, state.depthScale);
    writeScaled(stateOut, i, state.value, state.conditionScale, state.depthScale);
  }
  return stepResult(y, stateOut);
}

/** selective-scan step: one selectiveScanToken per channel, with the step's B, C read as L = 1 layouts. */
function selectiveScanStep(inputs: SelectiveScanStepInputs, options: SelectiveScanOptions): ReferenceStepResult {
  const dims = stepDimensionsOf('selective-scan', inputs);
  const shapes = stepOutputShapes('selective-scan', dims);
  const tokens = selectiveScanTokens(inputs, dims, options);
  return diagonalStep(dims.batch, dims.dim, dims.stateSize, inputs.state.data, shapes, (channel, b, d) =>
    selectiveScanToken(channel, tokens, b, d, 0),
  );
}

/** lti-ssm step: one ltiSsmToken per channel. */
function ltiSsmStep(inputs: LtiSsmStepInputs): ReferenceStepResult {
  const dims = stepDimensionsOf('lti-ssm', inputs);
  const shapes = stepOutputShapes('lti-ssm', dims);
  return diagonalStep(dims.batch, dims.dim, dims.stateSize, inputs.state.data, shapes, (channel, b, d) =>
    ltiSsmToken(channel, inputs, 1, b, d, 0),
  );
}

/**
 * ssd step: channel d = h·P + p of row b is one ssdToken (t = 0 of an L = 1 problem), so the
 * channels of a (batch, H, P) y and a (batch, H, P, N) state sit where diagonalStep writes them.
 */
function ssdStep(inputs: SsdStepInputs, options: SsdOptions): ReferenceStepResult {
  const sizes = ssdStepSizes(inputs.x, inputs.B);
  const { batch, heads: H, headdim: P, stateSize: N } = sizes;
  const tokens = ssdTokens(inputs, sizes, options);
  const shapes = { y: [batch, H, P], state: [batch, H, P, N] };
  return diagonalStep(batch, H * P, N, inputs.state.data, shapes, (channel, b, d) => {
    const h = Math.floor(d / P);
    const delta = ssdDelta(tokens, b, 0, h);
    ssdToken(channel, tokens, b, 0, h, d - h * P, delta, Math.exp(delta * inputs.A.data[h]));
  });
}

/** A step of a diagonal SSM family: each channel started from its N states and advanced by `token`. */
function diagonalStep(
  batch: number,
  dim: number,
  N: number,
  stateIn: Float32Array,
  shapes: { readonly y: readonly number[]; readonly state: readonly number[] },
  token: (channel: DiagonalChannel, b: number, d: number) => void,
): ReferenceStepResult {
  const y = allocateScaled(shapes.y);
  const stateOut = allocateScaled(shapes.state);
  const channel = new DiagonalChannel(N);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const c = b * dim + d;
      channel.start(stateIn, c * N);
      token(channel, b, d);
      writeScaled(y, c, channel.output, channel.outputConditionScale, channel.outputDepthScale);
      channel.states.forEach((state, n) => writeScaled(stateOut, c * N + n, state.value, state.conditionScale, state.depthScale));
    }
  }
  return stepResult(y, stateOut);
}

function stepResult(y: ScaledTensor, state: ScaledTensor): ReferenceStepResult {
  return {
    outputs: { y: y.value, state: state.value },
    conditionScales: { y: y.conditionScale, state: state.conditionScale },
  };
}
