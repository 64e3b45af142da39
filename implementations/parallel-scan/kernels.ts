/**
 * Every loop that rounds, written once over `round` and compiled once per precision (specialise.ts).
 * V8 keeps type feedback per function literal: one copy called with both Math.fround and the
 * identity sees a polymorphic `round` in its innermost loop and stops inlining it (the sequential
 * implementation measured 4× slower). So this factory is self-contained — it reads nothing but its
 * parameter — and only object-literal methods are used, which survive being re-evaluated from source.
 */
import type { ScanArray } from './scan-array.ts';

/** The hot loops of one precision. */
export function precisionKernels(round: (x: number) => number) {
  return {
    /** The linear-recurrence combine (a₁, b₁) ∘ (a₂, b₂) = (a₁·a₂, a₂·b₁ + b₂) and its serial primitives. */
    affine: {
      combine(
        outA: ScanArray, outB: ScanArray, o: number,
        leftA: ScanArray, leftB: ScanArray, l: number,
        rightA: ScanArray, rightB: ScanArray, r: number,
      ): void {
        const a1 = leftA[l];
        const b1 = leftB[l];
        const a2 = rightA[r];
        const b2 = rightB[r];
        outA[o] = round(a1 * a2);
        outB[o] = round(round(a2 * b1) + b2);
      },
      setIdentity(A: ScanArray, B: ScanArray, i: number): void {
        A[i] = 1;
        B[i] = 0;
      },
      advance(A: ScanArray, B: ScanArray, i: number, state: number): number {
        return round(round(A[i] * state) + B[i]);
      },
      applyAggregate(a: number, b: number, state: number): number {
        return round(round(a * state) + b);
      },
      foldRange(A: ScanArray, B: ScanArray, start: number, end: number): void {
        if (end <= start) return;
        let a = A[start];
        let b = B[start];
        for (let i = start + 1; i < end; i++) {
          const ai = A[i];
          a = round(a * ai);
          b = round(round(ai * b) + B[i]);
          A[i] = a;
          B[i] = b;
        }
      },
      /**
       * Phase 3 of the chunked scan in one call: chunk k ≥ first of `size` in [0, length) takes its
       * states from carries[k], B[i] ← A[i]·carry + B[i] (one loop, not a call per chunk: the calls
       * cost more than the arithmetic at chunk 64).
       */
      applyCarries(A: ScanArray, B: ScanArray, length: number, size: number, carries: Float64Array, first: number): void {
        for (let k = first, s = first * size; s < length; k++, s += size) {
          const state = carries[k];
          const end = Math.min(s + size, length);
          for (let i = s; i < end; i++) B[i] = round(round(A[i] * state) + B[i]);
        }
      },
      /**
       * foldRange on every chunk of `size` in [start, end), four chunks at a time in one loop:
       * their dependency chains are independent, so the CPU overlaps them (a serial recurrence is
       * bound by the latency of one multiply-round-add-round per step, not by throughput).
       */
      foldChunks(A: ScanArray, B: ScanArray, start: number, end: number, size: number): void {
        let s = start;
        for (; s + 4 * size <= end; s += 4 * size) {
          const s1 = s + size;
          const s2 = s1 + size;
          const s3 = s2 + size;
          let a0 = A[s], b0 = B[s], a1 = A[s1], b1 = B[s1], a2 = A[s2], b2 = B[s2], a3 = A[s3], b3 = B[s3];
          for (let i = 1; i < size; i++) {
            const x0 = A[s + i], x1 = A[s1 + i], x2 = A[s2 + i], x3 = A[s3 + i];
            a0 = round(a0 * x0);
            a1 = round(a1 * x1);
            a2 = round(a2 * x2);
            a3 = round(a3 * x3);
            b0 = round(round(x0 * b0) + B[s + i]);
            b1 = round(round(x1 * b1) + B[s1 + i]);
            b2 = round(round(x2 * b2) + B[s2 + i]);
            b3 = round(round(x3 * b3) + B[s3 + i]);
            A[s + i] = a0;
            A[s1 + i] = a1;
            A[s2 + i] = a2;
            A[s3 + i] = a3;
            B[s + i] = b0;
            B[s1 + i] = b1;
            B[s2 + i] = b2;
            B[s3 + i] = b3;
          }
        }
        for (; s < end; s += size) this.foldRange(A, B, s, Math.min(s + size, end));
      },
      /** Aggregates of two ranges, interleaved (the reduce phase of a time slice: no writes). */
      reducePair(A: ScanArray, B: ScanArray, s0: number, n0: number, s1: number, n1: number, out: Float64Array): void {
        let a0 = 1, b0 = 0, a1 = 1, b1 = 0;
        for (let i = 0; i < n1; i++) {
          const x0 = A[s0 + i], x1 = A[s1 + i];
          a0 = round(a0 * x0);
          a1 = round(a1 * x1);
          b0 = round(round(x0 * b0) + B[s0 + i]);
          b1 = round(round(x1 * b1) + B[s1 + i]);
        }
        for (let i = n1; i < n0; i++) {
          const x0 = A[s0 + i];
          a0 = round(a0 * x0);
          b0 = round(round(x0 * b0) + B[s0 + i]);
        }
        out[0] = a0;
        out[1] = b0;
        out[2] = a1;
        out[3] = b1;
      },
      /**
       * Two recurrences from known states, interleaved (the scan phase of a time slice): elements
       * [s, s + n0) from c0 and [s + n0, s + n0 + n1) from c1, their states written to out from o.
       */
      scanPair(A: ScanArray, B: ScanArray, s: number, out: ScanArray, o: number, n0: number, c0: number, n1: number, c1: number): void {
        const s1 = s + n0;
        const o1 = o + n0;
        for (let i = 0; i < n1; i++) {
          c0 = round(round(A[s + i] * c0) + B[s + i]);
          c1 = round(round(A[s1 + i] * c1) + B[s1 + i]);
          out[o + i] = c0;
          out[o1 + i] = c1;
        }
        for (let i = n1; i < n0; i++) {
          c0 = round(round(A[s + i] * c0) + B[s + i]);
          out[o + i] = c0;
        }
      },
    },
    /** Addition (prefix sums) on B; A is never touched. */
    additive: {
      combine(
        _outA: ScanArray, outB: ScanArray, o: number,
        _leftA: ScanArray, leftB: ScanArray, l: number,
        _rightA: ScanArray, rightB: ScanArray, r: number,
      ): void {
        outB[o] = round(leftB[l] + rightB[r]);
      },
      setIdentity(_A: ScanArray, B: ScanArray, i: number): void {
        B[i] = 0;
      },
      advance(_A: ScanArray, B: ScanArray, i: number, state: number): number {
        return round(state + B[i]);
      },
      applyAggregate(_a: number, b: number, state: number): number {
        return round(state + b);
      },
      foldRange(_A: ScanArray, B: ScanArray, start: number, end: number): void {
        if (end <= start) return;
        let b = B[start];
        for (let i = start + 1; i < end; i++) {
          b = round(b + B[i]);
          B[i] = b;
        }
      },
      /** Phase 3 of the chunked scan in one call: B[i] ← carries[k] + B[i] in chunk k ≥ first. */
      applyCarries(_A: ScanArray, B: ScanArray, length: number, size: number, carries: Float64Array, first: number): void {
        for (let k = first, s = first * size; s < length; k++, s += size) {
          const state = carries[k];
          const end = Math.min(s + size, length);
          for (let i = s; i < end; i++) B[i] = round(state + B[i]);
        }
      },
      /** foldRange on every chunk of `size` in [start, end), four independent chains at a time. */
      foldChunks(A: ScanArray, B: ScanArray, start: number, end: number, size: number): void {
        let s = start;
        for (; s + 4 * size <= end; s += 4 * size) {
          const s1 = s + size;
          const s2 = s1 + size;
          const s3 = s2 + size;
          let b0 = B[s], b1 = B[s1], b2 = B[s2], b3 = B[s3];
          for (let i = 1; i < size; i++) {
            b0 = round(b0 + B[s + i]);
            b1 = round(b1 + B[s1 + i]);
            b2 = round(b2 + B[s2 + i]);
            b3 = round(b3 + B[s3 + i]);
            B[s + i] = b0;
            B[s1 + i] = b1;
            B[s2 + i] = b2;
            B[s3 + i] = b3;
          }
        }
        for (; s < end; s += size) this.foldRange(A, B, s, Math.min(s + size, end));
      },
      /** Sums of two ranges, interleaved; a = 1. */
      reducePair(_A: ScanArray, B: ScanArray, s0: number, n0: number, s1: number, n1: number, out: Float64Array): void {
        let b0 = 0, b1 = 0;
        for (let i = 0; i < n1; i++) {
          b0 = round(b0 + B[s0 + i]);
          b1 = round(b1 + B[s1 + i]);
        }
        for (let i = n1; i < n0; i++) b0 = round(b0 + B[s0 + i]);
        out[0] = 1;
        out[1] = b0;
        out[2] = 1;
        out[3] = b1;
      },
      /** Two running sums from known states, interleaved (layout as the affine scanPair). */
      scanPair(_A: ScanArray, B: ScanArray, s: number, out: ScanArray, o: number, n0: number, c0: number, n1: number, c1: number): void {
        const s1 = s + n0;
        const o1 = o + n0;
        for (let i = 0; i < n1; i++) {
          c0 = round(c0 + B[s + i]);
          c1 = round(c1 + B[s1 + i]);
          out[o + i] = c0;
          out[o1 + i] = c1;
        }
        for (let i = n1; i < n0; i++) {
          c0 = round(c0 + B[s + i]);
          out[o + i] = c0;
        }
      },
    },
    /** selective-scan's per-channel loops over times [t0, t1); scratch is indexed t − t0. */
    selective: {
      /** Δ'_t = Δ_t (+ bias), then softplus with PyTorch's threshold 20 when asked. */
      deltaPrime(
        delta: Float32Array, base: number, hasBias: boolean, bias: number, softplus: boolean,
        t0: number, t1: number, out: ScanArray,
      ): void {
        for (let t = t0; t < t1; t++) {
          const raw = hasBias ? round(delta[base + t] + bias) : delta[base + t];
          out[t - t0] = softplus && raw <= 20 ? round(Math.log1p(round(Math.exp(raw)))) : raw;
        }
      },
      /**
       * a_t = exp(Δ'_t·A[d,n]), b_t = Δ'_t·B[n,t]·u_t; a_t = 0 where the row's sequence ids (from
       * idsBase) change at t ≥ 1: a reset is a decay of exactly 0, which every scan composes exactly.
       */
      load(
        deltaPrime: ScanArray, decay: number, projection: Float32Array, pBase: number, pStride: number,
        u: Float32Array, base: number, t0: number, t1: number, a: ScanArray, b: ScanArray,
        ids: Float32Array | undefined, idsBase: number,
      ): void {
        for (let t = t0; t < t1; t++) {
          const dt = deltaPrime[t - t0];
          const reset = ids !== undefined && t > 0 && ids[idsBase + t] !== ids[idsBase + t - 1];
          a[t - t0] = reset ? 0 : round(Math.exp(round(dt * decay)));
          b[t - t0] = round(round(dt * projection[pBase + pStride * t]) * u[base + t]);
        }
      },
      /** y_t += C[n,t]·h_{t,n}. */
      accumulate(
        accumulator: ScanArray, projection: Float32Array, pBase: number, pStride: number,
        states: ScanArray, t0: number, t1: number,
      ): void {
        for (let t = t0; t < t1; t++) {
          accumulator[t - t0] = round(accumulator[t - t0] + round(projection[pBase + pStride * t] * states[t - t0]));
        }
      },
      /** y_t = (Σ + D·u_t)·silu(z_t), silu(z) = z / (1 + exp(−z)). */
      finish(
        accumulator: ScanArray, hasSkip: boolean, skip: number, u: Float32Array, z: Float32Array | undefined,
        base: number, t0: number, t1: number, y: ScanArray,
      ): void {
        for (let t = t0; t < t1; t++) {
          let out = accumulator[t - t0];
          if (hasSkip) out = round(out + round(skip * u[base + t]));
          if (z !== undefined) {
            const zt = z[base + t];
            out = round(out * round(zt / round(1 + round(Math.exp(-zt)))));
          }
          y[base + t] = out;
        }
      },
    },
    /** lti-ssm's per-channel loops over times [t0, t1). */
    lti: {
      /** a_t = Abar[d,n], b_t = Bbar[d,n]·u_t. */
      load(decay: number, input: number, u: Float32Array, base: number, t0: number, t1: number, a: ScanArray, b: ScanArray): void {
        for (let t = t0; t < t1; t++) {
          a[t - t0] = decay;
          b[t - t0] = round(input * u[base + t]);
        }
      },
      /** y_t += C[d,n]·h_{t,n}. */
      accumulate(accumulator: ScanArray, c: number, states: ScanArray, count: number): void {
        for (let i = 0; i < count; i++) accumulator[i] = round(accumulator[i] + round(c * states[i]));
      },
      /** y_t = Σ + D·u_t. */
      finish(accumulator: ScanArray, hasSkip: boolean, skip: number, u: Float32Array, base: number, t0: number, t1: number, y: ScanArray): void {
        for (let t = t0; t < t1; t++) y[base + t] = hasSkip ? round(accumulator[t - t0] + round(skip * u[base + t])) : accumulator[t - t0];
      },
    },
  };
}

/** The hot loops of one precision, as precisionKernels returns them. */
export type PrecisionKernels = ReturnType<typeof precisionKernels>;

let specialisations = 0;

/**
 * precisionKernels compiled afresh for `round` from its source text, so that its feedback (and so
 * its inlined `round`) is its own. Each clone's text is made unique: V8 caches compiled code, and
 * with it feedback, per identical source. `__name` is the helper esbuild (tsx, vitest) inserts to
 * keep function names; the clone gets a no-op one.
 */
export function specialiseKernels(round: (x: number) => number): PrecisionKernels {
  specialisations += 1;
  const build = new Function(
    'round',
    `'use strict'; /* parallel-scan kernels ${specialisations} */ const __name = (f) => f; return (${precisionKernels.toString()})(round);`,
  );
  return build(round) as PrecisionKernels;
}
