/**
 * What flushing the inputs that multiply a state or an output can move a result by (spec/tolerance.md,
 * rule U, narrow storage). A flushing conversion into a narrow storage turns an input under the
 * storage's smallest normal into 0, and a flushing arithmetic may do so with its own subnormal
 * operands and intermediates (FlushThresholds: a decay exp(Δ·A) under 2^-126). An additive input loses itself times a bounded co-factor
 * (FamilyToleranceTerms.flushCofactors); an input that multiplies the state — a decay or what makes
 * it (Δ, dt, A, their biases), C, the gate z, D — loses itself times |h| or |y|, which no constant
 * per input bounds. The envelope runs beside the recurrence on bounds, one channel of N diagonal
 * states at a time, for the run with the flushes (primed) and the run without:
 *
 *     drift_t     = reach_t·drift_{t−1} + decayMove_t·magnitude_{t−1} + driveMove_t
 *     magnitude_t = reach_t·magnitude_{t−1} + |x_t| + driveMove_t
 *
 * with reach_t ≥ |Ā_t| and |Ā'_t|, decayMove_t ≥ |Ā'_t − Ā_t|, driveMove_t ≥ |x'_t − x_t| (in the
 * diagonal families what a flushed Δ does to the drive, whose own factors u, B, x are the
 * co-factors' business; mamba3-siso charges its drive's factors here too). By induction
 * magnitude bounds |h_t| and |h'_t| and drift bounds |h'_t − h_t|, since
 * h'_t − h_t = Ā'_t·(h'_{t−1} − h_{t−1}) + (Ā'_t − Ā_t)·h_{t−1} + (x'_t − x_t). The read-out
 * y = g·(Σ_n C_n·h_n + s) moves by at most
 *
 *     (|g| + gMove)·(Σ_n |C_n|·drift_n + cMove_n·magnitude_n + sMove) + gMove·(Σ_n |C_n|·magnitude_n + |s|)
 *
 * (a flush only shrinks C, so |C_n| bounds C'_n too).
 *
 * Every flushed variant of a factor is enumerated (each input of it flushed or not), so the bound
 * holds whichever of the inputs a kernel flushes. The kernel's own rounding of the flushed run is
 * charged by doubling the move where it is added to a bound (suite/compare.ts): it is a relative
 * u·depth ≪ 1 of the same magnitudes.
 */

/**
 * Below what a value may flush to 0: an input (its conversion into a narrow storage, or a flushing
 * arithmetic's operand), and an intermediate the arithmetic computes (a decay, a step, a gate). 0:
 * nothing flushes.
 */
export interface FlushThresholds {
  readonly inputs: number;
  readonly intermediates: number;
}

/** Whether a conversion that flushes below `below` may turn v into 0: a non-zero v under it. */
export function mayFlush(v: number, below: number): boolean {
  return v !== 0 && Math.abs(v) < below;
}

/** The values v may take: itself, and 0 when it may flush below `below`. */
export function flushVariants(v: number, below: number): readonly number[] {
  return mayFlush(v, below) ? [v, 0] : [v];
}

/** Whether any element of data may flush below `below`. */
export function anyMayFlush(data: ArrayLike<number> | undefined, below: number): boolean {
  if (data === undefined) return false;
  for (let i = 0; i < data.length; i++) if (mayFlush(data[i], below)) return true;
  return false;
}

/**
 * A step Δ = f(dt, bias) and its values under flushes, one per variant of dt and bias (each
 * flushed or not: with opposite signs, flushing one moves Δ more than flushing both).
 */
export function stepUnderFlush(dt: number, bias: number, below: number, f: (dt: number, bias: number) => number): { readonly delta: number; readonly variants: readonly number[] } {
  const delta = f(dt, bias);
  if (!mayFlush(dt, below) && !mayFlush(bias, below)) return { delta, variants: [delta] };
  const variants: number[] = [];
  for (const d of flushVariants(dt, below)) for (const b of flushVariants(bias, below)) variants.push(f(d, b));
  return { delta, variants };
}

/**
 * The values a decay exp(Δ·A) may take when Δ is any of `steps` and A may flush as an input, and
 * the arithmetic may flush the exponent Δ·A (exp(0) = 1) or the decay itself (0) under the
 * intermediates' threshold.
 */
export function decayVariants(steps: readonly number[], a: number, below: FlushThresholds): number[] {
  const out: number[] = [];
  for (const step of steps) {
    for (const factor of flushVariants(a, below.inputs)) {
      for (const exponent of flushVariants(step * factor, below.intermediates)) {
        for (const decay of flushVariants(Math.exp(exponent), below.intermediates)) out.push(decay);
      }
    }
  }
  return out;
}

/** Whether any element of any output moves: an envelope of all zeros says nothing may flush. */
export function anyMove(outputs: Readonly<Record<string, Float64Array>>): boolean {
  return Object.values(outputs).some((moves) => moves.some((m) => m !== 0));
}

/** The envelope of one channel's N states (see the module's doc). */
export class FlushEnvelope {
  /** Per state, a bound on |h| of the run with the flushes and of the run without. */
  readonly magnitude: Float64Array;
  /** Per state, a bound on the distance between the two runs' states. */
  readonly drift: Float64Array;

  // Scratch for readoutMove's |C| and their moves.
  private readonly readMagnitude: Float64Array;
  private readonly readMove: Float64Array;

  /** A channel of stateSize states. */
  constructor(stateSize: number) {
    this.magnitude = new Float64Array(stateSize);
    this.drift = new Float64Array(stateSize);
    this.readMagnitude = new Float64Array(stateSize);
    this.readMove = new Float64Array(stateSize);
  }

  /** Starts every state at |h0[offset + n]| (0 without h0), with no drift; returns this. */
  start(h0: ArrayLike<number> | undefined, offset: number): this {
    for (let n = 0; n < this.magnitude.length; n++) this.magnitude[n] = h0 === undefined ? 0 : Math.abs(h0[offset + n]);
    this.drift.fill(0);
    return this;
  }

  /** Advances state n by a decay whose variants reach `reach` in magnitude and move by `decayMove`, and a drive of magnitude at most `drive` moved by at most `driveMove`. */
  advance(n: number, reach: number, decayMove: number, drive: number, driveMove: number): void {
    const magnitude = this.magnitude[n];
    this.drift[n] = product(reach, this.drift[n]) + product(decayMove, magnitude) + driveMove;
    this.magnitude[n] = product(reach, magnitude) + drive + driveMove;
  }

  /**
   * The move of y = g·(Σ_n C_n·h_n + s), C_n = C[cOffset + n·cStride] (a C element under `below`
   * may flush), s the skip with its move, g the gate with its move.
   */
  readoutMove(C: ArrayLike<number>, cOffset: number, cStride: number, below: number, skip: number, skipMove: number, gate: number, gateMove: number): number {
    for (let n = 0; n < this.magnitude.length; n++) {
      const c = Math.abs(C[cOffset + n * cStride]);
      this.readMagnitude[n] = c;
      this.readMove[n] = mayFlush(c, below) ? c : 0;
    }
    return this.readoutMoveOf(this.readMagnitude, this.readMove, 0, this.magnitude.length, Math.abs(skip), skipMove, gate, gateMove);
  }

  /**
   * The move of y = g·(Σ_n c_n·h_{first+n} + s) over n < count, for read-out factors c that are
   * not inputs themselves (mamba3-siso's rotated q̂): |c_n| and |c'_n| at most cMagnitude[n],
   * |c'_n − c_n| at most cMove[n]; |s| and |s'| at most skipMagnitude.
   */
  readoutMoveOf(cMagnitude: ArrayLike<number>, cMove: ArrayLike<number>, first: number, count: number, skipMagnitude: number, skipMove: number, gate: number, gateMove: number): number {
    // |c'h' − ch| = |c'·(h' − h) + (c' − c)·h| ≤ |c'|·drift + |c' − c|·magnitude.
    let moved = skipMove;
    let held = skipMagnitude;
    for (let n = 0; n < count; n++) {
      moved += product(cMagnitude[n], this.drift[first + n]) + product(cMove[n], this.magnitude[first + n]);
      held += product(cMagnitude[n], this.magnitude[first + n]);
    }
    return product(Math.abs(gate) + gateMove, moved) + product(gateMove, held);
  }
}

/** a·b for bounds, 0 when either is 0: a state whose bound overflowed to Infinity, times a move of 0, moves nothing (not NaN). */
function product(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

/**
 * The largest |v| and the largest |v − v0| over a factor's variants, v0 its value without flushes.
 * Never NaN: an overflowed factor equal to v0 moves nothing (not ∞ − ∞), and a variant that is NaN
 * (0·∞ where a flush zeroes one factor of an overflowed product) reaches and moves by ∞.
 */
export function reachAndMove(v0: number, variants: readonly number[]): { readonly reach: number; readonly move: number } {
  let reach = Math.abs(v0);
  let move = 0;
  for (const variant of variants) {
    const v = Number.isNaN(variant) ? Number.POSITIVE_INFINITY : variant;
    reach = Math.max(reach, Math.abs(v));
    if (v !== v0) move = Math.max(move, Number.isNaN(v0) ? Number.POSITIVE_INFINITY : Math.abs(v - v0));
  }
  return { reach, move };
}
