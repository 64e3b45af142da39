/**
 * The sequential implementations: every family, option, layout and the one-token step, computed
 * by the loops of kernels.ts in float64 (no compensation) or float32 (rounded after every
 * operation). A step is the run's loop over one token with the step state as initial state.
 */
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import type {
  FamilyName,
  Problem,
  LinearRecurrenceOptions,
  LinearRecurrenceOutputs,
  LinearRecurrenceStepInputs,
  LtiSsmOutputs,
  LtiSsmStepInputs,
  PrefixSumOptions,
  PrefixSumOutputs,
  PrefixSumStepInputs,
  SelectiveScanInputs,
  SelectiveScanOptions,
  SelectiveScanOutputs,
  SelectiveScanStepInputs,
  SsdInputs,
  SsdOptions,
  SsdOutputs,
  SsdStepInputs,
  StepOutputs,
  Mamba3SisoInputs,
  Mamba3SisoOutputs,
  Mamba3SisoStepInputs,
} from '../../spec/families.ts';
import { mamba3SisoSizes, mamba3SisoStepSizes, type Mamba3SisoSizes } from '../../spec/families/mamba3-siso/dimensions.ts';
import { mamba3SisoRunOutputs, mamba3SisoStepOutputs } from '../../spec/families/mamba3-siso/outputs.ts';
import { ssdSizes, ssdStepSizes, type SsdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits } from '../../spec/families/ssd/discretization.ts';
import { sequenceBounds, type SsdVarlenOutputs } from '../../spec/families/ssd/varlen.ts';
import {
  dimensionsOf,
  outputShapes,
  projectionIndex,
  projectionLayout,
  stepDimensionsOf,
  stepOutputShapes,
  type Dimensions,
} from '../../spec/shapes.ts';
import type { Tensor } from '../../spec/tensor.ts';
import {
  linearRecurrenceRows,
  ltiSsmChannel,
  prefixSumRows,
  selectiveScanChannel,
  ssdDeltas,
  ssdHead,
  type ProjectionWalk,
  type Round,
  type Storage,
} from './kernels.ts';
import { mamba3SisoHead, type Mamba3HeadInputs } from './mamba3-siso.ts';
import { specialise } from './specialise.ts';
import { ssdHeadWalk, ssdSequenceWalk } from './ssd-walk.ts';
import { sequentialVjp } from './vjp.ts';

/** The two arithmetics of the sequential loop. */
export type SequentialPrecision = 'float64' | 'float32';

/** The sequential implementation in one precision: plain float64 loops, or float32 rounded after every operation. */
export function createSequential(precision: SequentialPrecision): ScanImplementation {
  const round: Round = precision === 'float32' ? Math.fround : (x) => x;
  const alloc = (length: number): Storage => (precision === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const kernels = {
    prefixSum: specialise(prefixSumRows, round),
    linearRecurrence: specialise(linearRecurrenceRows, round),
    selectiveScan: specialise(selectiveScanChannel, round),
    ltiSsm: specialise(ltiSsmChannel, round),
    ssdDeltas: specialise(ssdDeltas, round),
    ssdHead: specialise(ssdHead, round),
    mamba3SisoHead: specialise(mamba3SisoHead, round),
  };

  const prefixSum: FamilyImplementation<'prefix-sum'> = {
    async run(problem): Promise<PrefixSumOutputs> {
      const dims = dimensionsOf(problem);
      const rows = dims.batch * dims.dim;
      const y = alloc(rows * dims.length);
      const { exclusive, reverse } = problem.options;
      kernels.prefixSum(problem.inputs.x.data, y, rows, dims.length, null, null, exclusive, reverse);
      return { y: { data: y, shape: outputShapes('prefix-sum', dims).y } };
    },
    async step(inputs: PrefixSumStepInputs, options: PrefixSumOptions): Promise<StepOutputs> {
      void options; // exclusive and reverse do not apply to a step (spec/families/prefix-sum/prefix-sum.md#step)
      const dims = stepDimensionsOf('prefix-sum', inputs);
      const shapes = stepOutputShapes('prefix-sum', dims);
      const rows = dims.batch * dims.dim;
      const y = alloc(rows);
      const state = alloc(rows);
      kernels.prefixSum(inputs.x.data, y, rows, 1, inputs.state.data, state, false, false);
      return { y: { data: y, shape: shapes.y }, state: { data: state, shape: shapes.state } };
    },
  };

  const linearRecurrence: FamilyImplementation<'linear-recurrence'> = {
    async run(problem): Promise<LinearRecurrenceOutputs> {
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('linear-recurrence', dims);
      const { a, b, h0 } = problem.inputs;
      const rows = dims.batch * dims.dim;
      const h = alloc(rows * dims.length);
      const last = alloc(rows);
      kernels.linearRecurrence(a.data, b.data, h, rows, dims.length, h0?.data ?? null, last, problem.options.reverse);
      return { h: { data: h, shape: shapes.h }, lastState: { data: last, shape: shapes.lastState } };
    },
    async step(inputs: LinearRecurrenceStepInputs, options: LinearRecurrenceOptions): Promise<StepOutputs> {
      void options; // reverse does not apply to a step (spec/families/linear-recurrence/linear-recurrence.md#step)
      const dims = stepDimensionsOf('linear-recurrence', inputs);
      const shapes = stepOutputShapes('linear-recurrence', dims);
      const rows = dims.batch * dims.dim;
      const y = alloc(rows);
      const state = alloc(rows);
      kernels.linearRecurrence(inputs.a.data, inputs.b.data, y, rows, 1, inputs.state.data, state, false);
      return { y: { data: y, shape: shapes.y }, state: { data: state, shape: shapes.state } };
    },
  };

  /** Runs the selective scan over all channels; a step passes length-1 tensors and its state as h0. */
  const selectiveScanAll = (inputs: SelectiveScanInputs, options: SelectiveScanOptions, dims: Dimensions, y: Storage, last: Storage): void => {
    const { batch, dim, length: L, stateSize: N } = dims;
    const { u, delta, A, B, C, D, z, deltaBias, h0, seqIdx } = inputs;
    const bLayout = projectionLayout(B.shape);
    const cLayout = projectionLayout(C.shape);
    const state = new Float64Array(N);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const channel = b * dim + d;
        if (h0 === undefined) state.fill(0);
        else for (let n = 0; n < N; n++) state[n] = h0.data[channel * N + n];
        kernels.selectiveScan(
          u.data,
          delta.data,
          z?.data ?? null,
          channel * L,
          L,
          A.data,
          d * N,
          N,
          B.data,
          walk(bLayout, dims, b, d),
          C.data,
          walk(cLayout, dims, b, d),
          D !== undefined,
          D?.data[d] ?? 0,
          deltaBias !== undefined,
          deltaBias?.data[d] ?? 0,
          options.deltaSoftplus,
          seqIdx?.data ?? null,
          b * L,
          state,
          y,
          last,
          channel * N,
        );
      }
    }
  };

  const selectiveScan: FamilyImplementation<'selective-scan'> = {
    async run(problem): Promise<SelectiveScanOutputs> {
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('selective-scan', dims);
      const y = alloc(dims.batch * dims.dim * dims.length);
      const last = alloc(dims.batch * dims.dim * dims.stateSize);
      selectiveScanAll(problem.inputs, problem.options, dims, y, last);
      return { y: { data: y, shape: shapes.y }, lastState: { data: last, shape: shapes.lastState } };
    },
    async step(inputs: SelectiveScanStepInputs, options: SelectiveScanOptions): Promise<StepOutputs> {
      const dims = stepDimensionsOf('selective-scan', inputs);
      const shapes = stepOutputShapes('selective-scan', dims);
      const { state, ...rest } = inputs;
      const y = alloc(dims.batch * dims.dim);
      const next = alloc(dims.batch * dims.dim * dims.stateSize);
      selectiveScanAll({ ...rest, h0: state }, options, dims, y, next);
      return { y: { data: y, shape: shapes.y }, state: { data: next, shape: shapes.state } };
    },
  };

  /** Runs the lti-ssm recurrence over all channels from `initial` (the step state) or zeros. */
  const ltiSsmAll = (
    inputs: { readonly Abar: Tensor; readonly Bbar: Tensor; readonly C: Tensor; readonly D?: Tensor; readonly u: Tensor },
    initial: Tensor | undefined,
    dims: Dimensions,
    y: Storage,
    last: Storage | null,
  ): void => {
    const { batch, dim, length: L, stateSize: N } = dims;
    const { Abar, Bbar, C, D, u } = inputs;
    const state = new Float64Array(N);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const channel = b * dim + d;
        if (initial === undefined) state.fill(0);
        else for (let n = 0; n < N; n++) state[n] = initial.data[channel * N + n];
        kernels.ltiSsm(u.data, channel * L, L, Abar.data, Bbar.data, C.data, d * N, N, D !== undefined, D?.data[d] ?? 0, state, y, last, channel * N);
      }
    }
  };

  const ltiSsm: FamilyImplementation<'lti-ssm'> = {
    async run(problem): Promise<LtiSsmOutputs> {
      const dims = dimensionsOf(problem);
      const y = alloc(dims.batch * dims.dim * dims.length);
      ltiSsmAll(problem.inputs, undefined, dims, y, null);
      return { y: { data: y, shape: outputShapes('lti-ssm', dims).y } };
    },
    async step(inputs: LtiSsmStepInputs): Promise<StepOutputs> {
      const dims = stepDimensionsOf('lti-ssm', inputs);
      const shapes = stepOutputShapes('lti-ssm', dims);
      const y = alloc(dims.batch * dims.dim);
      const next = alloc(dims.batch * dims.dim * dims.stateSize);
      ltiSsmAll(inputs, inputs.state, dims, y, next);
      return { y: { data: y, shape: shapes.y }, state: { data: next, shape: shapes.state } };
    },
  };

  /**
   * Runs ssd head after head; a step passes its one-token tensors (whose layout is that of a run of
   * length 1) with sizes of length 1 and its state as initialStates.
   */
  const ssdAll = (inputs: SsdInputs, options: SsdOptions, sizes: SsdSizes, y: Storage, last: Storage): void => {
    const { batch, length: L, heads: H, headdim: P, stateSize: N } = sizes;
    const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, seqIdx } = inputs;
    const { lo, hi } = dtLimits(dtLimit?.data);
    const delta = alloc(dt.data.length);
    kernels.ssdDeltas(dt.data, H, dtBias?.data ?? null, options.dtSoftplus, lo, hi, delta);
    const decay = new Float64Array(L);
    const state = new Float64Array(4 * N);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        kernels.ssdHead(
          ssdHeadWalk(sizes, D, b, h),
          L,
          P,
          N,
          x.data,
          z?.data ?? null,
          delta,
          A.data[h],
          B.data,
          C.data,
          seqIdx?.data ?? null,
          D?.data ?? null,
          initialStates?.data ?? null,
          decay,
          state,
          y,
          last,
        );
      }
    }
  };

  const ssd: FamilyImplementation<'ssd'> = {
    async run(problem): Promise<SsdOutputs> {
      const { x, B } = problem.inputs;
      const sizes = ssdSizes(x, B);
      const { batch, heads, headdim, stateSize } = sizes;
      const y = alloc(x.data.length);
      const last = alloc(batch * heads * headdim * stateSize);
      ssdAll(problem.inputs, problem.options, sizes, y, last);
      return { y: { data: y, shape: [...x.shape] }, finalStates: { data: last, shape: [batch, heads, headdim, stateSize] } };
    },
    async step(inputs: SsdStepInputs, options: SsdOptions): Promise<StepOutputs> {
      const sizes = ssdStepSizes(inputs.x, inputs.B);
      const { state, ...rest } = inputs;
      const y = alloc(inputs.x.data.length);
      const next = alloc(state.data.length);
      ssdAll({ ...rest, initialStates: state }, options, sizes, y, next);
      return { y: { data: y, shape: [...inputs.x.shape] }, state: { data: next, shape: [...state.shape] } };
    },
    // Each sequence is the head loop over its own tokens from its own state: the loop of a run,
    // moved along the packed row (an empty sequence's loop runs no token and stores its initial state).
    async runVarlen(problem): Promise<SsdVarlenOutputs> {
      const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, cuSeqlens } = problem.inputs;
      const sizes = ssdSizes(x, B);
      const { heads: H, headdim: P, stateSize: N } = sizes;
      const bounds = sequenceBounds(cuSeqlens);
      const nseq = bounds.length - 1;
      const { lo, hi } = dtLimits(dtLimit?.data);
      const delta = alloc(dt.data.length);
      kernels.ssdDeltas(dt.data, H, dtBias?.data ?? null, problem.options.dtSoftplus, lo, hi, delta);
      const y = alloc(x.data.length);
      const last = alloc(nseq * H * P * N);
      const decay = new Float64Array(sizes.length);
      const state = new Float64Array(4 * N);
      for (let s = 0; s < nseq; s++) {
        const [start, end] = [bounds[s], bounds[s + 1]];
        for (let h = 0; h < H; h++) {
          kernels.ssdHead(ssdSequenceWalk(sizes, D, h, start, s), end - start, P, N, x.data, z?.data ?? null, delta, A.data[h], B.data, C.data, null, D?.data ?? null, initialStates?.data ?? null, decay, state, y, last);
        }
      }
      return { y: { data: y, shape: [...x.shape] }, finalStates: { data: last, shape: [nseq, H, P, N] } };
    },
  };

  /** Runs every head of mamba3-siso (a step is a run of one token from the given states) into fresh outputs. */
  const mamba3All = (inputs: Mamba3HeadInputs, sizes: Mamba3SisoSizes) => {
    const { batch, length: L, heads: H, groups: G, headdim: P, stateSize: N, angles: A } = sizes;
    const outputs = { y: alloc(batch * L * H * P), angle: alloc(batch * H * A), ssm: alloc(batch * H * P * N), k: alloc(batch * H * N), v: alloc(batch * H * P) };
    for (let b = 0; b < batch; b++) for (let h = 0; h < H; h++) kernels.mamba3SisoHead(L, H, G, P, N, A, b, h, inputs, outputs);
    return outputs;
  };
  const headInputs = (i: Omit<Mamba3SisoInputs, 'angleState' | 'ssmState' | 'kState' | 'vState'>, states: Pick<Mamba3SisoInputs, 'angleState' | 'ssmState' | 'kState' | 'vState'>): Mamba3HeadInputs => ({
    Q: i.Q.data, K: i.K.data, V: i.V.data, ADT: i.ADT.data, DT: i.DT.data, Trap: i.Trap.data, QBias: i.QBias.data, KBias: i.KBias.data, Angles: i.Angles.data,
    D: i.D?.data ?? null, Z: i.Z?.data ?? null,
    angleState: states.angleState?.data ?? null, ssmState: states.ssmState?.data ?? null, kState: states.kState?.data ?? null, vState: states.vState?.data ?? null,
  });

  const mamba3Siso: FamilyImplementation<'mamba3-siso'> = {
    async run(problem): Promise<Mamba3SisoOutputs> {
      const sizes = mamba3SisoSizes(problem.inputs.V, problem.inputs.Q, problem.inputs.Angles);
      const out = mamba3All(headInputs(problem.inputs, problem.inputs), sizes);
      return mamba3SisoRunOutputs(out, sizes);
    },
    async step(inputs: Mamba3SisoStepInputs): Promise<StepOutputs> {
      const sizes = mamba3SisoStepSizes(inputs.V, inputs.Q, inputs.Angles);
      const out = mamba3All(headInputs(inputs, inputs), sizes);
      return mamba3SisoStepOutputs(out, sizes);
    },
  };

  return {
    name: `sequential-${precision === 'float32' ? 'f32' : 'f64'}`,
    precision,
    description:
      precision === 'float32'
        ? 'Sequential loop in float32, Math.fround after every operation (exp, log1p, silu included): the baseline order.'
        : 'Sequential loop in plain float64, no compensation.',
    families: {
      'prefix-sum': withVjp(precision, prefixSum),
      'linear-recurrence': withVjp(precision, linearRecurrence),
      'selective-scan': withVjp(precision, selectiveScan),
      'lti-ssm': withVjp(precision, ltiSsm),
      ssd: withVjp(precision, ssd),
      'mamba3-siso': withVjp(precision, mamba3Siso),
    },
  };
}

/** A family's entry with the backward pass of vjp.ts in the same precision as its forward loops. */
function withVjp<F extends FamilyName, E extends FamilyImplementation<F>>(precision: SequentialPrecision, entry: E): E {
  return { ...entry, vjp: async (problem: Problem<F>, cotangents: Cotangents<F>): Promise<GradientsOf<F>> => sequentialVjp(precision, problem, cotangents) as GradientsOf<F> };
}

/** Where channel (b, d) finds its B or C values, from the one index function of spec/shapes.ts. */
function walk(layout: ReturnType<typeof projectionLayout>, dims: Dimensions, b: number, d: number): ProjectionWalk {
  const base = projectionIndex(layout, dims, b, d, 0, 0);
  return {
    base,
    strideN: projectionIndex(layout, dims, b, d, 1, 0) - base,
    strideT: projectionIndex(layout, dims, b, d, 0, 1) - base,
  };
}
