/**
 * Sequential backward kernels (VJP) of every family, float64 or float32 (Math.fround after every
 * operation), for issue 17: each family recomputes its forward factors in the order of its forward
 * kernel (kernels.ts: δ ← ↓(δ + bias), softplus ↓log1p(↓exp), Ā ← ↓exp(↓(Δ·A)), δu ← ↓(Δ·u),
 * x ← ↓(B·δu), the gate ↓(z / ↓(1 + ↓exp(−z)))), runs the channel adjoint of vjp-channel.ts, and
 * takes the chain rule back to its inputs the way autograd through that forward would:
 *
 *     δu-bar = Σ_n ↓(x̄·B);   B̄ += ↓(x̄·δu);   Δ̄ += ↓(δu-bar·u);   ū = ↓(δu-bar·Δ) (+ ↓(s̄·D))
 *     ē = ↓(ā·Ā);   Δ̄ += ↓(ē·A);   Ā-param += ↓(ē·Δ)
 *     delta-bar = ↓(Δ̄·σ(δ)) with σ = ↓(e/↓(e + 1)), e = ↓exp(δ) (1 above the threshold 20, PyTorch's softplus_backward)
 *     z̄ = ↓(ḡ·silu'(z)),  silu'(z) = ↓(σ·↓(1 + ↓(z·↓(1 − σ)))),  σ = ↓(1/↓(1 + ↓exp(−z)))  (PyTorch's silu_backward)
 *
 * Shared parameters are accumulated in loop order (batch, channel, time descending). Not on
 * ScanImplementation yet (issue 17 adds `vjp` there); exported for the gradient tolerance tests.
 * Float32 kernels read float64 cotangents rounded to float32, as a float32 autograd would hold them.
 */
import type { AnyProblem, FamilyName, LinearRecurrenceInputs, LinearRecurrenceOptions, LtiSsmInputs, Problem, PrefixSumInputs, PrefixSumOptions, SelectiveScanInputs, SelectiveScanOptions, SsdInputs, SsdOptions } from '../../spec/families.ts';
import { groupOfHead, ssdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits } from '../../spec/families/ssd/discretization.ts';
import { dimensionsOf, projectionIndex, projectionLayout } from '../../spec/shapes.ts';
import { DIFFERENTIABLE_INPUTS, type Cotangents, type DifferentiableInput } from '../../spec/gradients.ts';
import { prefixSumRows, type Round } from './kernels.ts';
import type { SequentialPrecision } from './sequential.ts';
import { channelArrays, channelBackward, channelWorkspace } from './vjp-channel.ts';
import { mamba3SisoVjp } from './vjp-mamba3-siso.ts';
import type { BackwardScans, BackwardWindow } from './vjp-scans.ts';

/** The gradient of every differentiable input present, shaped like it, in the kernel's precision. */
export type SequentialGradients<F extends FamilyName> = { [K in DifferentiableInput<F>]?: { data: Float32Array | Float64Array; shape: number[] } };

type Data = Float32Array | Float64Array;
type Values = Readonly<Record<string, Data>>;

/** Softplus of a shifted step in the forward kernels' order (PyTorch's threshold 20). */
function softplusRounded(round: Round, x: number): number {
  return x <= 20 ? round(Math.log1p(round(Math.exp(x)))) : x;
}

/** softplus'(x) as PyTorch's softplus_backward computes it: e/(e + 1), e = exp(x); 1 above the threshold. */
function softplusGrad(round: Round, x: number): number {
  if (x > 20) return 1;
  const e = round(Math.exp(x));
  return round(e / round(e + 1));
}

/** silu(z) in the forward kernels' order. */
function siluRounded(round: Round, z: number): number {
  return round(z / round(1 + round(Math.exp(-z))));
}

/** silu'(z) as PyTorch's silu_backward computes it: σ·(1 + z·(1 − σ)). */
function siluGrad(round: Round, z: number): number {
  const s = round(1 / round(1 + round(Math.exp(-z))));
  return round(s * round(1 + round(z * round(1 - s))));
}

/** Float64 copies of a cotangent, rounded to the kernel's precision. */
function cotangentValues(round: Round, cotangents: Readonly<Record<string, { readonly data: Data }>>): Values {
  return Object.fromEntries(Object.entries(cotangents).map(([name, t]) => [name, Float64Array.from(t.data, (v) => round(v))]));
}

/** Accumulators (float64 holding values of the kernel's precision) for every input present. */
function accumulators(inputs: object, names: readonly string[]): Record<string, Float64Array> {
  const present = inputs as Record<string, { data: ArrayLike<number> } | undefined>;
  return Object.fromEntries(names.flatMap((name) => (present[name] === undefined ? [] : [[name, new Float64Array(present[name].data.length)]])));
}

/** Adds v to element i of a gradient accumulator, rounded in the kernel's arithmetic (sums over shared axes). */
function adder(acc: Record<string, Float64Array>, round: Round): (name: string, i: number, v: number) => void {
  return (name, i, v) => {
    acc[name][i] = round(acc[name][i] + v);
  };
}

/** The accumulators as tensors of the inputs' shapes, in the kernel's storage. */
function asGradients(inputs: object, acc: Record<string, Float64Array>, precision: SequentialPrecision): Record<string, { data: Data; shape: number[] }> {
  const present = inputs as Record<string, { shape: readonly number[] }>;
  return Object.fromEntries(
    Object.entries(acc).map(([name, data]) => [name, { data: precision === 'float32' ? Float32Array.from(data) : data, shape: [...present[name].shape] }]),
  );
}

/** prefix-sum: x̄ is the prefix sum of ȳ in the other direction with the same exclusivity. */
function prefixSumVjp(scans: BackwardScans, round: Round, inputs: PrefixSumInputs, options: PrefixSumOptions, cot: Values, window: BackwardWindow | undefined): Record<string, Float64Array> {
  const [batch, dim, L] = inputs.x.shape;
  const x = new Float64Array(batch * dim * L);
  if (window === undefined) {
    scans.prefixSumRows(round, cot.y, x, batch * dim, L, options.exclusive, !options.reverse);
    return { x };
  }
  // A window's rows are summed backward from its last position, the sum of ȳ after it entering as one more first element.
  const [c0, c1] = window.channels;
  const [p0, p1] = window.positions;
  const n = p1 - p0;
  const row = new Float64Array(n + 1);
  const sums = new Float64Array(n + 1);
  const timeOf = (j: number): number => (options.reverse ? L - p1 + j : p1 - 1 - j);
  for (let c = c0; c < c1; c++) {
    row[0] = window.finalBar?.(c, 0) ?? 0;
    for (let j = 0; j < n; j++) row[j + 1] = cot.y[c * L + timeOf(j)];
    if (window.reduce !== undefined) {
      window.reduce.prefixSum(c, row.subarray(1), n);
      continue;
    }
    scans.prefixSumRows(round, row, sums, 1, n + 1, false, false);
    for (let j = 0; j < n; j++) x[c * L + timeOf(j)] = options.exclusive ? sums[j] : sums[j + 1];
  }
  return { x };
}

/** linear-recurrence: one channel per row, N = 1, in processing order (time reversed with `reverse`). */
function linearRecurrenceVjp(scans: BackwardScans, round: Round, inputs: LinearRecurrenceInputs, options: LinearRecurrenceOptions, cot: Values, window: BackwardWindow | undefined): Record<string, Float64Array> {
  const [batch, dim, length] = inputs.a.shape;
  const [c0, c1] = window?.channels ?? [0, batch * dim];
  const [p0, p1] = window?.positions ?? [0, length];
  const L = p1 - p0;
  const acc = accumulators(inputs, DIFFERENTIABLE_INPUTS['linear-recurrence']);
  const f = channelArrays(L, 1);
  const bar = channelArrays(L, 1);
  const states = new Float64Array(L + 1);
  const inner = new Float64Array(L);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(1);
  f.readout.fill(1);
  f.gate.fill(1);
  for (let row = c0; row < c1; row++) {
    const at = (k: number): number => row * length + (options.reverse ? length - 1 - (p0 + k) : p0 + k);
    for (let k = 0; k < L; k++) {
      f.decay[k] = inputs.a.data[at(k)];
      f.input[k] = inputs.b.data[at(k)];
      yBar[k] = cot.h[at(k)];
    }
    f.initial[0] = window?.initial?.(row, 0) ?? inputs.h0?.data[row] ?? 0;
    finalBar[0] = window?.finalBar?.(row, 0) ?? cot.lastState[row];
    if (window?.reduce !== undefined) {
      window.reduce.channel(row, L, 1, f, yBar, finalBar);
      continue;
    }
    scans.channel(round, L, 1, f, yBar, finalBar, states, inner, bar);
    for (let k = 0; k < L; k++) {
      acc.a[at(k)] = bar.decay[k];
      acc.b[at(k)] = bar.input[k];
    }
    // A later window's h̄-entering is the adjoint carried to the window before it, not h0's gradient.
    if (acc.h0 !== undefined && p0 === 0) acc.h0[row] = bar.initial[0];
  }
  return acc;
}

/** selective-scan: one channel per (b, d), the chain rule through Δ, exp, δu, the gate; a seqIdx reset's decay is 0. */
function selectiveScanVjp(scans: BackwardScans, round: Round, inputs: SelectiveScanInputs, options: SelectiveScanOptions, cot: Values, window: BackwardWindow | undefined): Record<string, Float64Array> {
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { batch, dim, length, stateSize: N } = dims;
  const [c0, c1] = window?.channels ?? [0, batch * dim];
  const [p0, p1] = window?.positions ?? [0, length];
  const L = p1 - p0;
  const layoutB = projectionLayout(inputs.B.shape);
  const layoutC = projectionLayout(inputs.C.shape);
  const acc = accumulators(inputs, DIFFERENTIABLE_INPUTS['selective-scan']);
  const { f, bar, states, inner, yBar, finalBar } = channelWorkspace(L, N);
  const shifted = new Float64Array(L);
  const delta = new Float64Array(L);
  const du = new Float64Array(L);
  const reset = new Uint8Array(L);
  const add = adder(acc, round);
  const ids = inputs.seqIdx?.data;
  for (let c = c0; c < c1; c++) {
    const b = Math.floor(c / dim);
    const d = c - b * dim;
    // Indices below are local to the window (t from 0 at p0); tensors are indexed at time p0 + t.
    if (c === c0 || d === 0) for (let t = 0; t < L; t++) reset[t] = ids !== undefined && p0 + t > 0 && ids[b * length + p0 + t] !== ids[b * length + p0 + t - 1] ? 1 : 0;
    {
      const bias = inputs.deltaBias?.data[d];
      for (let t = 0; t < L; t++) {
        const i = c * length + p0 + t;
        shifted[t] = bias === undefined ? inputs.delta.data[i] : round(inputs.delta.data[i] + bias);
        delta[t] = options.deltaSoftplus ? softplusRounded(round, shifted[t]) : shifted[t];
        du[t] = round(delta[t] * inputs.u.data[i]);
        for (let n = 0; n < N; n++) {
          // A reset's decay is 0 (the forward kernel's state zeroed), never exp(…)·0.
          f.decay[t * N + n] = reset[t] === 1 ? 0 : round(Math.exp(round(delta[t] * inputs.A.data[d * N + n])));
          f.input[t * N + n] = round(inputs.B.data[projectionIndex(layoutB, dims, b, d, n, p0 + t)] * du[t]);
          f.readout[t * N + n] = inputs.C.data[projectionIndex(layoutC, dims, b, d, n, p0 + t)];
        }
        f.skip[t] = inputs.D === undefined ? 0 : round(inputs.D.data[d] * inputs.u.data[i]);
        f.gate[t] = inputs.z === undefined ? 1 : siluRounded(round, inputs.z.data[i]);
        yBar[t] = cot.y[i];
      }
      for (let n = 0; n < N; n++) {
        f.initial[n] = window?.initial?.(c, n) ?? inputs.h0?.data[c * N + n] ?? 0;
        finalBar[n] = window?.finalBar?.(c, n) ?? cot.lastState[c * N + n];
      }
      if (window?.reduce !== undefined) {
        window.reduce.channel(c, L, N, f, yBar, finalBar);
        continue;
      }
      scans.channel(round, L, N, f, yBar, finalBar, states, inner, bar);
      for (let t = L - 1; t >= 0; t--) {
        const i = c * length + p0 + t;
        const u = inputs.u.data[i];
        let deltaBar = 0;
        let duBar = 0;
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          const bIndex = projectionIndex(layoutB, dims, b, d, n, p0 + t);
          duBar = round(duBar + round(bar.input[k] * inputs.B.data[bIndex]));
          add('B', bIndex, round(bar.input[k] * du[t]));
          // A reset's decay is the constant 0: nothing flows to Δ or A through it.
          if (reset[t] === 0) {
            const exponentBar = round(bar.decay[k] * f.decay[k]);
            deltaBar = round(deltaBar + round(exponentBar * inputs.A.data[d * N + n]));
            add('A', d * N + n, round(exponentBar * delta[t]));
          }
          add('C', projectionIndex(layoutC, dims, b, d, n, p0 + t), bar.readout[k]);
        }
        deltaBar = round(deltaBar + round(duBar * u));
        let uBar = round(duBar * delta[t]);
        if (inputs.D !== undefined) {
          uBar = round(uBar + round(bar.skip[t] * inputs.D.data[d]));
          add('D', d, round(bar.skip[t] * u));
        }
        acc.u[i] = uBar;
        if (inputs.z !== undefined) acc.z[i] = round(bar.gate[t] * siluGrad(round, inputs.z.data[i]));
        const shiftedBar = options.deltaSoftplus ? round(deltaBar * softplusGrad(round, shifted[t])) : deltaBar;
        acc.delta[i] = shiftedBar;
        if (inputs.deltaBias !== undefined) add('deltaBias', d, shiftedBar);
      }
      if (acc.h0 !== undefined && p0 === 0) for (let n = 0; n < N; n++) acc.h0[c * N + n] = bar.initial[n];
    }
  }
  return acc;
}

/** lti-ssm: one channel per (b, d) with time-invariant factors summed over batch and time; no state output. */
function ltiSsmVjp(scans: BackwardScans, round: Round, inputs: LtiSsmInputs, cot: Values, window: BackwardWindow | undefined): Record<string, Float64Array> {
  const [batch, dim, length] = inputs.u.shape;
  const [c0, c1] = window?.channels ?? [0, batch * dim];
  const [p0, p1] = window?.positions ?? [0, length];
  const L = p1 - p0;
  const N = inputs.Abar.shape[1];
  const acc = accumulators(inputs, DIFFERENTIABLE_INPUTS['lti-ssm']);
  const { f, bar, states, inner, yBar, finalBar } = channelWorkspace(L, N);
  f.gate.fill(1);
  const add = adder(acc, round);
  for (let c = c0; c < c1; c++) {
    const d = c % dim;
    {
      for (let t = 0; t < L; t++) {
        const u = inputs.u.data[c * length + p0 + t];
        for (let n = 0; n < N; n++) {
          f.decay[t * N + n] = inputs.Abar.data[d * N + n];
          f.input[t * N + n] = round(inputs.Bbar.data[d * N + n] * u);
          f.readout[t * N + n] = inputs.C.data[d * N + n];
        }
        f.skip[t] = inputs.D === undefined ? 0 : round(inputs.D.data[d] * u);
        yBar[t] = cot.y[c * length + p0 + t];
      }
      // No state input or output: a window's carries only (zero otherwise).
      for (let n = 0; n < N; n++) {
        f.initial[n] = window?.initial?.(c, n) ?? 0;
        finalBar[n] = window?.finalBar?.(c, n) ?? 0;
      }
      if (window?.reduce !== undefined) {
        window.reduce.channel(c, L, N, f, yBar, finalBar);
        continue;
      }
      scans.channel(round, L, N, f, yBar, finalBar, states, inner, bar);
      for (let t = L - 1; t >= 0; t--) {
        const i = c * length + p0 + t;
        const u = inputs.u.data[i];
        let uBar = 0;
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          add('Abar', d * N + n, bar.decay[k]);
          add('Bbar', d * N + n, round(bar.input[k] * u));
          uBar = round(uBar + round(bar.input[k] * inputs.Bbar.data[d * N + n]));
          add('C', d * N + n, bar.readout[k]);
        }
        if (inputs.D !== undefined) {
          uBar = round(uBar + round(bar.skip[t] * inputs.D.data[d]));
          add('D', d, round(bar.skip[t] * u));
        }
        acc.u[i] = uBar;
      }
    }
  }
  return acc;
}

/** ssd: one channel per (b, h, p); a head's Δ, A, dt, dtBias shared by its P channels, B and C by a group's heads. */
function ssdVjp(scans: BackwardScans, round: Round, inputs: SsdInputs, options: SsdOptions, cot: Values): Record<string, Float64Array> {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(inputs.x, inputs.B);
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const acc = accumulators(inputs, DIFFERENTIABLE_INPUTS.ssd);
  const dPerChannel = inputs.D?.shape.length === 2;
  const { f, bar, states, inner, yBar, finalBar } = channelWorkspace(L, N);
  const delta = new Float64Array(L);
  const decay = new Float64Array(L);
  const chain = new Float64Array(L);
  const deltaBar = new Float64Array(L);
  const dx = new Float64Array(L);
  const add = adder(acc, round);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const A = inputs.A.data[h];
      const g = groupOfHead(h, H, G);
      for (let t = 0; t < L; t++) {
        const raw = inputs.dt.data[(b * L + t) * H + h];
        const shifted = inputs.dtBias === undefined ? raw : round(raw + inputs.dtBias.data[h]);
        const v = options.dtSoftplus ? softplusRounded(round, shifted) : shifted;
        delta[t] = Math.min(Math.max(v, lo), hi);
        // torch.clamp's backward passes at the bounds; softplus_backward's threshold as the forward's.
        chain[t] = v >= lo && v <= hi ? (options.dtSoftplus ? softplusGrad(round, shifted) : 1) : 0;
        const reset = inputs.seqIdx !== undefined && t > 0 && inputs.seqIdx.data[b * L + t] !== inputs.seqIdx.data[b * L + t - 1];
        decay[t] = reset ? 0 : round(Math.exp(round(delta[t] * A)));
      }
      deltaBar.fill(0);
      for (let p = 0; p < P; p++) {
        const dIndex = dPerChannel ? h * P + p : h;
        for (let t = 0; t < L; t++) {
          const xIndex = ((b * L + t) * H + h) * P + p;
          const x = inputs.x.data[xIndex];
          dx[t] = round(delta[t] * x);
          const bc = ((b * L + t) * G + g) * N;
          for (let n = 0; n < N; n++) {
            f.decay[t * N + n] = decay[t];
            f.input[t * N + n] = round(inputs.B.data[bc + n] * dx[t]);
            f.readout[t * N + n] = inputs.C.data[bc + n];
          }
          f.skip[t] = inputs.D === undefined ? 0 : round(inputs.D.data[dIndex] * x);
          f.gate[t] = inputs.z === undefined ? 1 : siluRounded(round, inputs.z.data[xIndex]);
          yBar[t] = cot.y[xIndex];
        }
        for (let n = 0; n < N; n++) {
          f.initial[n] = inputs.initialStates?.data[((b * H + h) * P + p) * N + n] ?? 0;
          finalBar[n] = cot.finalStates[((b * H + h) * P + p) * N + n];
        }
        scans.channel(round, L, N, f, yBar, finalBar, states, inner, bar);
        for (let t = L - 1; t >= 0; t--) {
          const xIndex = ((b * L + t) * H + h) * P + p;
          const x = inputs.x.data[xIndex];
          const bc = ((b * L + t) * G + g) * N;
          let dxBar = 0;
          let sum = deltaBar[t];
          for (let n = 0; n < N; n++) {
            const k = t * N + n;
            dxBar = round(dxBar + round(bar.input[k] * inputs.B.data[bc + n]));
            add('B', bc + n, round(bar.input[k] * dx[t]));
            add('C', bc + n, bar.readout[k]);
            // A reset's decay is the constant 0: nothing flows to Δ or A through it.
            if (decay[t] !== 0) {
              const exponentBar = round(bar.decay[k] * decay[t]);
              sum = round(sum + round(exponentBar * A));
              add('A', h, round(exponentBar * delta[t]));
            }
          }
          deltaBar[t] = round(sum + round(dxBar * x));
          let xBar = round(dxBar * delta[t]);
          if (inputs.D !== undefined) {
            xBar = round(xBar + round(bar.skip[t] * inputs.D.data[dIndex]));
            add('D', dIndex, round(bar.skip[t] * x));
          }
          acc.x[xIndex] = xBar;
          if (inputs.z !== undefined) acc.z[xIndex] = round(bar.gate[t] * siluGrad(round, inputs.z.data[xIndex]));
        }
        if (acc.initialStates !== undefined) for (let n = 0; n < N; n++) acc.initialStates[((b * H + h) * P + p) * N + n] = bar.initial[n];
      }
      for (let t = L - 1; t >= 0; t--) {
        const dtBar = chain[t] === 1 ? deltaBar[t] : round(deltaBar[t] * chain[t]);
        acc.dt[(b * L + t) * H + h] = dtBar;
        if (inputs.dtBias !== undefined) add('dtBias', h, dtBar);
      }
    }
  }
  return acc;
}

/** The sequential scans: the channel adjoint of vjp-channel.ts and the serial prefix sum. */
const SEQUENTIAL_SCANS: BackwardScans = {
  channel: channelBackward,
  prefixSumRows: (round, x, y, rows, L, exclusive, reverse) => prefixSumRows(round, x, y, rows, L, null, null, exclusive, reverse),
};

/**
 * The VJP of a problem in one precision with the given scans (the forward recomputation and the
 * adjoint scan of a channel, and prefix-sum rows): everything around the scans — factors, chain
 * rule, shared parameters summed — is this file's, so backward kernels differing only in how they
 * scan share it. The problem and cotangents are expected valid (reference/vjp validates them).
 */
export function vjpWithScans<F extends FamilyName>(
  precision: SequentialPrecision,
  problem: Problem<F>,
  cotangents: Cotangents<F>,
  scans: BackwardScans,
  window?: BackwardWindow,
): SequentialGradients<F> {
  const round: Round = precision === 'float32' ? Math.fround : (x) => x;
  const cot = cotangentValues(round, cotangents as Readonly<Record<string, { readonly data: Data }>>);
  const p = problem as AnyProblem;
  let acc: Record<string, Float64Array>;
  switch (p.family) {
    case 'prefix-sum':
      acc = prefixSumVjp(scans, round, p.inputs, p.options, cot, window);
      break;
    case 'linear-recurrence':
      acc = linearRecurrenceVjp(scans, round, p.inputs, p.options, cot, window);
      break;
    case 'selective-scan':
      acc = selectiveScanVjp(scans, round, p.inputs, p.options, cot, window);
      break;
    case 'lti-ssm':
      acc = ltiSsmVjp(scans, round, p.inputs, cot, window);
      break;
    case 'ssd':
      if (window !== undefined) throw new Error('vjpWithScans: ssd takes no window (its channels are (batch, head, headdim), not the scanned families\' rows)');
      acc = ssdVjp(scans, round, p.inputs, p.options, cot);
      break;
    case 'mamba3-siso':
      // Its own adjoint (vjp-mamba3-siso.ts): not a channel of vjp-channel.ts, so no scans or window apply.
      if (window !== undefined) throw new Error('vjpWithScans: mamba3-siso takes no window (its adjoint is per head, not the scanned families\' rows)');
      acc = mamba3SisoVjp(round, p.inputs, cot);
      break;
  }
  return asGradients(p.inputs, acc, precision) as SequentialGradients<F>;
}

/**
 * The sequential VJP of a problem in one precision: the gradient of every differentiable input
 * present (spec/gradients.md) from a cotangent for every output. The problem and cotangents are
 * expected valid (reference/vjp validates them; this kernel does not repeat it).
 */
export function sequentialVjp<F extends FamilyName>(precision: SequentialPrecision, problem: Problem<F>, cotangents: Cotangents<F>): SequentialGradients<F> {
  return vjpWithScans(precision, problem, cotangents, SEQUENTIAL_SCANS);
}
