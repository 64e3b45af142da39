/**
 * The family reductions, proved on the reference:
 *  - prefix-sum is the linear recurrence with a ≡ 1 (every option; exclusive outputs are the state
 *    one step earlier in processing order);
 *  - lti-ssm is one linear recurrence per state element n, contracted with C, plus D·u;
 *  - selective-scan with constant Δ and time-invariant B, C is lti-ssm with Abar = exp(Δ·A),
 *    Bbar = Δ·B;
 *  - the three B/C layouts of selective-scan agree when they hold the same values;
 *  - ssd without dtLimit is selective-scan with dim = H·P channels (d = h·P + p), the
 *    sequence tensors transposed to time last, Δ of a channel the dt of its head, A_h repeated over
 *    N, B and C grouped, D per head repeated, initialStates as h0, seqIdx as it is.
 * Where both sides evaluate the same float64 factors the agreement is bitwise; where lti-ssm's
 * float32 inputs must hold a rounded Abar = fl32(exp(Δ·A)) and Bbar = fl32(Δ·B), the bound is the
 * first-order effect of those roundings: 2^-24·(W + S) of the selective scan (each relative error
 * δ in Ā_j moves y_t by ≤ δ·W_t, in Bbar by ≤ δ·S_t).
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import type { SelectiveScanInputs, SsdInputs } from '../../spec/families.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { add, distance, fromNumber, mul, ulp } from './dyadic.ts';
import { filled, float32, seeded } from './random-inputs.ts';

const [batch, dim, L] = [2, 3, 37];

/** The (batch, dim, L) index. */
const at = (b: number, d: number, t: number): number => (b * dim + d) * L + t;

describe('prefix-sum = linear-recurrence with a ≡ 1', () => {
  const random = seeded('prefix-sum reduction');
  const x = filled([batch, dim, L], () => float32(random, 1e-3, 1e3));
  const ones = filled([batch, dim, L], () => 1);

  for (const reverse of [false, true]) {
    for (const exclusive of [false, true]) {
      it(`exclusive = ${exclusive}, reverse = ${reverse}: y, S and W bitwise`, () => {
        const sum = reference({ family: 'prefix-sum', inputs: { x }, options: { exclusive, reverse } });
        const rec = reference({ family: 'linear-recurrence', inputs: { a: ones, b: x }, options: { reverse } });
        for (let b = 0; b < batch; b++) {
          for (let d = 0; d < dim; d++) {
            for (let t = 0; t < L; t++) {
              // Exclusive: the recurrence's state one step earlier in processing order (0 before the first).
              const source = exclusive ? (reverse ? t + 1 : t - 1) : t;
              const inRange = source >= 0 && source < L;
              const pick = (values: Float64Array): number => (inRange ? values[at(b, d, source)] : 0);
              expect(sum.outputs.y.data[at(b, d, t)]).toBe(pick(rec.outputs.h.data));
              expect(sum.conditionScales.y.data[at(b, d, t)]).toBe(pick(rec.conditionScales.h.data));
              expect(sum.depthScales.y.data[at(b, d, t)]).toBe(pick(rec.depthScales.h.data));
            }
          }
        }
      });
    }
  }
});

describe('lti-ssm = one linear recurrence per state element, contracted with C, plus D·u', () => {
  const random = seeded('lti reduction');
  const N = 3;
  const u = filled([batch, dim, L], () => float32(random, 0.01, 10));
  const Abar = filled([dim, N], () => float32(random, 0.5, 1));
  // Bbar a power of two, so that the recurrence input Bbar·u is itself a float32.
  const Bbar = filled([dim, N], () => (random() < 0.5 ? -1 : 1) * 2 ** Math.floor(random() * 6 - 3));
  const C = filled([dim, N], () => float32(random, 0.1, 2));
  const D = filled([dim], () => float32(random, 0.1, 2));

  /** The linear recurrence of state element n: a = Abar_{d,n} for every t, b = Bbar_{d,n}·u_t. */
  const stateRecurrence = (n: number) =>
    reference({
      family: 'linear-recurrence',
      inputs: {
        a: filled([batch, dim, L], (i) => Abar.data[Math.floor(i / L) % dim * N + n]),
        b: filled([batch, dim, L], (i) => Bbar.data[Math.floor(i / L) % dim * N + n] * u.data[i]),
      },
      options: { reverse: false },
    });

  it('N = 1, C = 1, no D: y is the recurrence h, bitwise (and its S; W up to the read-out\'s upward nudge)', () => {
    const one = (t: Tensor, n: number): Tensor => filled([dim, 1], (d) => t.data[d * N + n]);
    const lti = reference({ family: 'lti-ssm', inputs: { Abar: one(Abar, 0), Bbar: one(Bbar, 0), C: filled([dim, 1], () => 1), u }, options: {} });
    const rec = stateRecurrence(0);
    expect(lti.outputs.y.data).toEqual(rec.outputs.h.data);
    expect(lti.conditionScales.y.data).toEqual(rec.conditionScales.h.data);
    // W: the read-out nudges its float64 sum upward twice more (by 2^-50 each: ≥, and within 1e-14 relative).
    lti.depthScales.y.data.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(rec.depthScales.h.data[i]);
      expect(w).toBeLessThanOrEqual(rec.depthScales.h.data[i] * (1 + 1e-14));
    });
  });

  it('N = 3 with D: y = Σ_n C_n·h_n + D·u within ½ ulp(y) + Σ_n |C_n|·½ ulp(h_n) + 2^-104·(W + 5S)', () => {
    const lti = reference({ family: 'lti-ssm', inputs: { Abar, Bbar, C, D, u }, options: {} });
    const states = [0, 1, 2].map(stateRecurrence);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        for (let t = 0; t < L; t++) {
          const i = at(b, d, t);
          // The contraction of the (rounded) states, evaluated exactly.
          let exact = mul(fromNumber(D.data[d]), fromNumber(u.data[i]));
          let slack = 0.5 * ulp(lti.outputs.y.data[i]) + 2 ** -104 * (lti.depthScales.y.data[i] + 5 * lti.conditionScales.y.data[i]);
          for (let n = 0; n < N; n++) {
            const h = states[n].outputs.h.data[i];
            exact = add(exact, mul(fromNumber(C.data[d * N + n]), fromNumber(h)));
            slack += Math.abs(C.data[d * N + n]) * 0.5 * ulp(h);
          }
          expect(distance(lti.outputs.y.data[i], exact)).toBeLessThanOrEqual(slack * (1 + 2 ** -40));
        }
      }
    }
  });
});

describe('selective-scan with constant Δ and time-invariant B, C = lti-ssm with Abar = exp(Δ·A), Bbar = Δ·B', () => {
  const N = 4;

  /** The lti-ssm problem a constant-Δ selective scan reduces to, with Abar and Bbar rounded to float32. */
  function asLti(inputs: SelectiveScanInputs, effectiveDelta: number) {
    return reference({
      family: 'lti-ssm',
      inputs: {
        Abar: filled([dim, N], (i) => Math.exp(effectiveDelta * inputs.A.data[i])),
        Bbar: filled([dim, N], (i) => effectiveDelta * inputs.B.data[i]),
        C: inputs.C,
        ...(inputs.D === undefined ? {} : { D: inputs.D }),
        u: inputs.u,
      },
      options: {},
    });
  }

  it('bitwise where Abar and Bbar are exact in float32 (Ā ∈ {0, 1}; Δ\' = softplus(16 + 8) = 24 on the threshold branch)', () => {
    const random = seeded('exact selective');
    const inputs: SelectiveScanInputs = {
      u: filled([batch, dim, L], () => float32(random, 0.01, 10)),
      delta: filled([batch, dim, L], () => 16),
      deltaBias: filled([dim], () => 8),
      // exp(24·0) = 1 and exp(24·(−100)) = 0, both exact.
      A: filled([dim, N], () => (random() < 0.7 ? 0 : -100)),
      // Small dyadics: 24·B is exact in float32.
      B: filled([dim, N], () => Math.floor(random() * 64 - 32) / 8),
      C: filled([dim, N], () => float32(random, 0.1, 2)),
      D: filled([dim], () => float32(random, 0.1, 2)),
    };
    const selective = reference({ family: 'selective-scan', inputs, options: { deltaSoftplus: true } });
    const lti = asLti(inputs, 24);
    expect(selective.outputs.y.data).toEqual(lti.outputs.y.data);
    expect(selective.conditionScales.y.data).toEqual(lti.conditionScales.y.data);
    expect(selective.depthScales.y.data).toEqual(lti.depthScales.y.data);
  });

  for (const deltaSoftplus of [false, true]) {
    it(`within 2^-24·(W + S) where the float32 rounding of Abar and Bbar enters (deltaSoftplus = ${deltaSoftplus})`, () => {
      const random = seeded(`general selective ${deltaSoftplus}`);
      const delta = Math.fround(0.05);
      const inputs: SelectiveScanInputs = {
        u: filled([batch, dim, L], () => float32(random, 0.01, 10)),
        delta: filled([batch, dim, L], () => delta),
        A: filled([dim, N], () => -float32(random, 0.1, 4, true)),
        B: filled([dim, N], () => float32(random, 0.1, 2)),
        C: filled([dim, N], () => float32(random, 0.1, 2)),
        D: filled([dim], () => float32(random, 0.1, 2)),
      };
      const selective = reference({ family: 'selective-scan', inputs, options: { deltaSoftplus } });
      const lti = asLti(inputs, deltaSoftplus ? Math.log1p(Math.exp(delta)) : delta);
      let worst = 0;
      selective.outputs.y.data.forEach((y, i) => {
        const bound = 2 ** -24 * (selective.depthScales.y.data[i] + selective.conditionScales.y.data[i]);
        const gap = Math.abs(y - lti.outputs.y.data[i]);
        expect(gap).toBeLessThanOrEqual(bound * 1.001 + 2 ** -50 * selective.conditionScales.y.data[i]);
        worst = Math.max(worst, gap / bound);
      });
      // The roundings do enter (the comparison is not vacuous), yet stay well inside the bound.
      expect(worst).toBeGreaterThan(0);
    });
  }
});

describe('selective-scan B/C layouts agree when they hold the same values', () => {
  const random = seeded('layouts');
  const [N, dimG] = [2, 4];
  const u = filled([batch, dimG, L], () => float32(random, 0.01, 10));
  const delta = filled([batch, dimG, L], () => float32(random, 0.01, 0.5));
  const A = filled([dimG, N], () => -float32(random, 0.1, 2, true));
  const row = [float32(random, 0.1, 2), float32(random, 0.1, 2)];
  const crow = [float32(random, 0.1, 2), float32(random, 0.1, 2)];
  const invariant = (values: number[]): Tensor => filled([dimG, N], (i) => values[i % N]);
  const varying = (values: number[]): Tensor => filled([batch, N, L], (i) => values[Math.floor(i / L) % N]);
  const grouped = (values: number[], G: number): Tensor => filled([batch, G, N, L], (i) => values[Math.floor(i / L) % N]);
  const run = (B: Tensor, C: Tensor) =>
    reference({ family: 'selective-scan', inputs: { u, delta, A, B, C, z: u }, options: { deltaSoftplus: true } });

  it('(dim, N), (batch, N, L), (batch, 1, N, L) and (batch, dim, N, L) give bitwise equal y and lastState', () => {
    const expected = run(invariant(row), invariant(crow));
    for (const [B, C] of [
      [varying(row), varying(crow)],
      [grouped(row, 1), grouped(crow, 1)],
      [grouped(row, dimG), grouped(crow, dimG)],
      [invariant(row), grouped(crow, 2)],
    ]) {
      const result = run(B, C);
      expect(result.outputs.y.data).toEqual(expected.outputs.y.data);
      expect(result.outputs.lastState.data).toEqual(expected.outputs.lastState.data);
      expect(result.conditionScales.y.data).toEqual(expected.conditionScales.y.data);
    }
  });

  it('grouped with G = 2: channels 0, 1 read group 0 and channels 2, 3 group 1', () => {
    const other = [float32(random, 0.1, 2), float32(random, 0.1, 2)];
    const B = filled([batch, 2, N, L], (i) => (Math.floor(i / (N * L)) % 2 === 0 ? row : other)[Math.floor(i / L) % N]);
    const result = run(B, invariant(crow));
    const first = run(invariant(row), invariant(crow));
    const second = run(invariant(other), invariant(crow));
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dimG; d++) {
        const source = d < 2 ? first : second;
        for (let t = 0; t < L; t++) {
          const i = (b * dimG + d) * L + t;
          expect(result.outputs.y.data[i]).toBe(source.outputs.y.data[i]);
        }
      }
    }
  });
});


describe('ssd = selective-scan with dim = H·P, per-head Δ and A, grouped B and C', () => {
  /** The selective-scan problem an ssd problem (no dtLimit) is. */
  function asSelectiveScan(inputs: SsdInputs): SelectiveScanInputs {
    const [nBatch, length, H, P] = inputs.x.shape;
    const [, , G, N] = inputs.B.shape;
    const channels = H * P;
    // (batch, dim, L) element (b, d, t) from a (batch, L, H·P…) tensor with `per` values per head (P, or 1 for dt).
    const timeLast = (t: Tensor, per: number): Tensor =>
      filled([nBatch, channels, length], (i) => {
        const [b, d, step] = [Math.floor(i / (channels * length)), Math.floor(i / length) % channels, i % length];
        const h = Math.floor(d / P);
        return t.data[((b * length + step) * H + h) * per + (per === 1 ? 0 : d % P)];
      });
    const grouped = (t: Tensor): Tensor =>
      filled([nBatch, G, N, length], (i) => {
        const [bg, n, step] = [Math.floor(i / (N * length)), Math.floor(i / length) % N, i % length];
        const [b, g] = [Math.floor(bg / G), bg % G];
        return t.data[((b * length + step) * G + g) * N + n];
      });
    const perChannel = (t: Tensor): Tensor => filled([channels], (d) => t.data[t.shape.length === 2 ? d : Math.floor(d / P)]);
    return {
      u: timeLast(inputs.x, P),
      delta: timeLast(inputs.dt, 1),
      A: filled([channels, N], (i) => inputs.A.data[Math.floor(i / N / P)]),
      B: grouped(inputs.B),
      C: grouped(inputs.C),
      ...(inputs.D === undefined ? {} : { D: perChannel(inputs.D) }),
      ...(inputs.z === undefined ? {} : { z: timeLast(inputs.z, P) }),
      ...(inputs.dtBias === undefined ? {} : { deltaBias: perChannel(inputs.dtBias) }),
      // (batch, H, P, N) and (batch, dim, N) with d = h·P + p are the same flat layout.
      ...(inputs.initialStates === undefined ? {} : { h0: tensor(inputs.initialStates.data, [nBatch, channels, N]) }),
      // (batch, L) in both families, with the same meaning.
      ...(inputs.seqIdx === undefined ? {} : { seqIdx: inputs.seqIdx }),
    };
  }

  const problems: [string, number, number, number, number, boolean][] = [
    // name, H, P, G, N, dtSoftplus
    ['H = 4, P = 3, G = 2, N = 5, softplus', 4, 3, 2, 5, true],
    ['H = 3, P = 2, G = 1, N = 4, no softplus', 3, 2, 1, 4, false],
    ['H = 4, P = 1, G = H, N = 1, softplus', 4, 1, 4, 1, true],
    ['H = 1, P = 5, G = 1, N = 3, no softplus', 1, 5, 1, 3, false],
  ];
  for (const [name, H, P, G, N, dtSoftplus] of problems) {
    it(`${name}: y, finalStates and their S and W bitwise, with and without the optional inputs, packed rows too`, () => {
      const random = seeded(`ssd reduction ${name}`);
      const length = 21;
      const full: SsdInputs = {
        x: filled([batch, length, H, P], () => float32(random, 0.01, 10)),
        dt: filled([batch, length, H], () => float32(random, 0.01, 1) * (dtSoftplus ? 4 : 1)),
        A: filled([H], () => -float32(random, 0.1, 4, true)),
        B: filled([batch, length, G, N], () => float32(random, 0.1, 2)),
        C: filled([batch, length, G, N], () => float32(random, 0.1, 2)),
        // D per head where G = 1, per channel (H, P) otherwise: both shapes are reduced.
        D: G === 1 ? filled([H], () => float32(random, 0.1, 2)) : filled([H, P], () => float32(random, 0.1, 2)),
        z: filled([batch, length, H, P], () => float32(random, 0.1, 4)),
        dtBias: filled([H], () => float32(random, 0.01, 1)),
        initialStates: filled([batch, H, P, N], () => float32(random, 0.1, 3)),
      };
      const { D: _d, z: _z, dtBias: _b, initialStates: _h, ...bare } = full;
      // Each row packs sequences of differing lengths, one of them a single token, each start a reset.
      const starts = [
        [1, 2, 9, 20],
        [5, 6, 15],
      ];
      const seqIdx = filled([batch, length], (i) => starts[Math.floor(i / length) % starts.length].filter((s) => s <= i % length).length);
      expect(new Set(seqIdx.data).size).toBeGreaterThan(3);
      for (const inputs of [full, bare, { ...full, seqIdx }, { ...bare, seqIdx }]) {
        const ssd = reference({ family: 'ssd', inputs, options: { dtSoftplus } });
        const selective = reference({ family: 'selective-scan', inputs: asSelectiveScan(inputs), options: { deltaSoftplus: dtSoftplus } });
        const channels = H * P;
        for (const [mine, other] of [
          [ssd.outputs, selective.outputs],
          [ssd.conditionScales, selective.conditionScales],
          [ssd.depthScales, selective.depthScales],
        ] as const) {
          // y (batch, L, H, P) against (batch, dim, L).
          const y = Float64Array.from({ length: batch * channels * length }, (_, i) => {
            const [b, d, t] = [Math.floor(i / (channels * length)), Math.floor(i / length) % channels, i % length];
            return mine.y.data[(b * length + t) * channels + d];
          });
          expect(y).toEqual(other.y.data);
          expect(mine.finalStates.data).toEqual(other.lastState.data);
        }
      }
    });
  }
});
