/**
 * The tolerance model (derivation in spec/tolerance.md): for every output element, a bound on
 * |ŷ − y| derived from the recurrence and the implementation's declared arithmetic, sound for
 * every correct evaluation order (sequential, chunked, any tree) and tight enough that off-by-one
 * steps, dropped carries, ignored initial states and circular convolutions exceed it.
 */
import type { AnyProblem } from '../spec/families.ts';
import { descriptorOf, directionalOptionNames, toleranceTermsOf } from '../spec/families/index.ts';
import type { ErrorModel } from '../spec/implementation.ts';
import { MIN_NORMAL, UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { dimensionsOf, shapeOfAxes, type Dimensions } from '../spec/shapes.ts';
import { elementCount } from '../spec/tensor.ts';
import { inputsOf, timeTensorNames } from './transforms.ts';
import { expAllowance, type ChannelTerms, type Roundoffs } from '../spec/tolerance-terms.ts';
import type { FlushThresholds } from '../spec/flush-envelope.ts';

// The terms shared with the families' own tolerance files; suite modules have long imported them from here.
export { expAllowance, type Roundoffs };

/** The arithmetic facts of an implementation that its tolerance depends on. */
export interface ArithmeticDeclaration {
  readonly precision: Precision;
  readonly accumulation?: Precision;
  readonly errorModel?: ErrorModel;
  /** 'flush' when subnormal intermediates may become zero (allowed in WGSL and CUDA's ftz). */
  readonly subnormals?: 'preserve' | 'flush';
}


/**
 * Rounding depth of a tree-ordered scan for an element t steps into the sequence: each level of
 * an up-sweep and of a down-sweep combines at most once on its path, and a combine rounds twice
 * on the b path (a product and a sum); the final +2 covers the input term itself.
 */
export function treeDepth(t: number): number {
  return 4 * Math.ceil(Math.log2(t + 1)) + 2;
}



/** The roundoffs of a declaration. */
export function roundoffsOf(declaration: ArithmeticDeclaration): Roundoffs {
  const storage = UNIT_ROUNDOFF[declaration.precision];
  const arithmetic = Math.min(storage, UNIT_ROUNDOFF[declaration.accumulation ?? declaration.precision]);
  return {
    arithmetic,
    storage,
    input: storage > UNIT_ROUNDOFF.float32 ? storage : 0,
    output: storage > arithmetic ? storage : 0,
    underflow: underflowUnit(declaration),
    storageFlush: storageIsNarrower(declaration) && declaration.subnormals === 'flush' ? MIN_NORMAL[declaration.precision] : 0,
    arithmeticFlush: declaration.subnormals === 'flush' ? MIN_NORMAL[arithmeticPrecision(declaration)] : 0,
  };
}

/** The precision the scan computes in: the accumulation's when it is wider than the storage's. */
function arithmeticPrecision(declaration: ArithmeticDeclaration): Precision {
  const accumulation = declaration.accumulation ?? declaration.precision;
  return UNIT_ROUNDOFF[accumulation] < UNIT_ROUNDOFF[declaration.precision] ? accumulation : declaration.precision;
}

/** Whether values are stored in a precision narrower than the one they are computed in (float16 storage, float32 accumulation). */
function storageIsNarrower(declaration: ArithmeticDeclaration): boolean {
  return declaration.accumulation !== undefined && UNIT_ROUNDOFF[declaration.accumulation] < UNIT_ROUNDOFF[declaration.precision];
}

/**
 * η, the absolute error one operation may make below the normal range: a flush loses up to the
 * smallest normal; gradual underflow errs by at most half the subnormal spacing, minNormal·u. It is
 * never below float64's subnormal spacing 2^-1074: half of float64's spacing (2^-1075) is not a
 * float64 and would round to 0, and the reference computes S and W in float64, where they lose
 * bits (or underflow to 0) below the normal range while the value they bound does not. A storage
 * narrower than the arithmetic is charged its gradual unit per operation (intermediates may pass
 * through it); what its flushed conversions lose is charged apart, by the inputs they can flush and
 * once per stored result (Roundoffs.storageFlush, ChannelModel.inputFlush), not per operation.
 */
export function underflowUnit(declaration: ArithmeticDeclaration): number {
  const unit = (precision: Precision, flush: boolean) => (flush ? MIN_NORMAL[precision] : MIN_NORMAL[precision] * UNIT_ROUNDOFF[precision]);
  const flush = declaration.subnormals === 'flush';
  if (storageIsNarrower(declaration)) {
    return Math.max(unit(declaration.accumulation!, flush), unit(declaration.precision, false), Number.MIN_VALUE);
  }
  return Math.max(unit(declaration.precision, flush), Number.MIN_VALUE);
}

/** Everything about a problem's channels the bound needs beyond the reference's S and W. */
export interface ChannelModel extends ChannelTerms {
  readonly dims: Dimensions;
  readonly reverse: boolean;
  /** Whether the sequence output reads the state out through C (and D, the gate). */
  readonly readsOut: boolean;
  /** Elements after the time axis of the sequence output: 1 for (batch, dim, L), dim for ssd's (batch, L, H, P). */
  readonly timeInner: number;
  /** What the inputs' conversions into a narrower storage can lose to a flush (inputFlushOf); zeros when nothing is converted or flushes. */
  readonly inputFlush: InputFlush;
  /**
   * Per output, what flushing the inputs and intermediates that multiply a state or an output can
   * move each element by (FamilyToleranceTerms.multiplierFlush); undefined when nothing flushes or none may.
   */
  readonly multiplierFlush?: Readonly<Record<string, Float64Array>>;
}

/** A flushed input loses itself: bounds on what the flushed inputs reaching one element can lose together. */
export interface InputFlush {
  /** The largest |v| below the storage's smallest normal among the inputs: what each input rounding may lose. */
  readonly largest: number;
  /** Σ|v| over those inputs, an input without a time axis counted L times (it enters every step): what all of them may lose. */
  readonly total: number;
}

/** The per-channel facts of a problem, computed once per comparison: the family's terms (spec/families/<name>/tolerance.ts) and where it runs. */
export function channelModel(problem: AnyProblem, r: Roundoffs): ChannelModel {
  const dims = dimensionsOf(problem);
  const terms = toleranceTermsOf(problem.family).channelTerms(problem as never, dims, r);
  const options = problem.options as Readonly<Record<string, boolean>>;
  const reverse = directionalOptionNames(problem.family).some((name) => options[name] === true);
  const sequence = descriptorOf(problem.family).outputs.find((o) => o.kind === 'sequence');
  const timeInner = sequence?.axes === undefined ? 1 : elementCount(shapeOfAxes(sequence.axes.slice(sequence.axes.indexOf('length') + 1), dims));
  const below = flushThresholdsOf(r);
  const multiplierFlush = below.inputs === 0 ? undefined : toleranceTermsOf(problem.family).multiplierFlush?.(problem as never, dims, below);
  return { ...terms, dims, reverse, readsOut: descriptorOf(problem.family).readsOut, timeInner, inputFlush: inputFlushOf(problem, r), multiplierFlush };
}

/** Below what inputs and intermediates may flush: a narrow storage's conversions and a flushing arithmetic's own operands and results. */
export function flushThresholdsOf(r: Roundoffs): FlushThresholds {
  return { inputs: Math.max(r.input > 0 ? r.storageFlush : 0, r.arithmeticFlush), intermediates: r.arithmeticFlush };
}

/** ChannelModel.inputFlush: the inputs below the storage's smallest normal, which a flushing conversion turns into 0. */
export function inputFlushOf(problem: AnyProblem, r: Roundoffs): InputFlush {
  if (r.storageFlush === 0 || r.input === 0) return NO_INPUT_FLUSH;
  const timed = new Set(timeTensorNames(problem));
  const dims = dimensionsOf(problem);
  const uses = Math.max(1, dims.length);
  const cofactors = toleranceTermsOf(problem.family).flushCofactors?.(problem as never, dims) ?? {};
  let largest = 0;
  let total = 0;
  for (const [name, tensor] of Object.entries(inputsOf(problem))) {
    if (tensor === undefined) continue;
    const data = tensor.data;
    // A flushed element loses itself times what multiplies it (at least 1).
    const cofactor = Math.max(1, cofactors[name] ?? 1);
    let sum = 0;
    for (let i = 0; i < data.length; i++) {
      const magnitude = Math.abs(data[i]);
      if (magnitude < r.storageFlush) {
        sum += magnitude * cofactor;
        if (magnitude * cofactor > largest) largest = magnitude * cofactor;
      }
    }
    total += timed.has(name) ? sum : sum * uses;
  }
  return { largest, total };
}

const NO_INPUT_FLUSH: InputFlush = { largest: 0, total: 0 };

/** Where an element sits: its channel, and how many steps of the recurrence precede it in processing order. */
interface ElementPlace {
  readonly channel: number;
  readonly steps: number;
  /** Index into the (batch, dim, L) sequence tensors (z), or −1 for a final state. */
  readonly sequenceIndex: number;
}

/** Whether an element is read out through C, D and the gate (y of selective-scan and lti-ssm). */
function readsOut(model: ChannelModel, place: ElementPlace): boolean {
  return model.readsOut && place.sequenceIndex >= 0;
}

/**
 * The absolute floor of one element: below the normal range every operation and every input
 * rounding may err by η (and a flushed input by itself), amplified by the channel's growth and
 * read out through C; storing the result into a narrower storage that flushes may lose its
 * smallest normal once more.
 */
export function underflowFloor(model: ChannelModel, r: Roundoffs, place: ElementPlace): number {
  // Per step two operations and two inputs (a, b) may each underflow; a read-out adds N + 4.
  const operations = 4 * (place.steps + 1) + 8 + (readsOut(model, place) ? model.dims.stateSize + 4 : 0);
  const growth = Math.min(model.growth[place.channel] ** (place.steps + 1), 1e300);
  const flushedInputs = Math.min(model.inputFlush.largest * operations, model.inputFlush.total);
  return (r.underflow * operations + flushedInputs) * growth * (1 + model.readout[place.channel]) + r.storageFlush;
}

/**
 * The bound of one element: relative allowances on the condition scale S and the depth scale W,
 * plus the absolute underflow floor.
 */
export function elementBound(model: ChannelModel, r: Roundoffs, place: ElementPlace, S: number, W: number): number {
  if (S === 0 && W === 0) {
    // The reference's float64 S and W are 0 when every term reaching the element is zero or lies
    // below 2^-1075 (they underflow while the double-double value does not). Stored in a precision
    // narrower than float64 such an element is an exact zero; in float64 it keeps the underflow floor.
    return r.storage === UNIT_ROUNDOFF.float64 ? underflowFloor(model, r, place) : 0;
  }
  const ua = r.arithmetic;
  const { channel, steps, sequenceIndex } = place;
  let relativeS = ua * treeDepth(steps) + r.input + r.output + model.inputError[channel];
  const relativeW = 2 * ua + r.input + model.decayError[channel];
  if (readsOut(model, place)) {
    // y = Σ_n C_n·h_n + D·u: N products and N sums in any order, the skip product and its sum.
    relativeS += (model.dims.stateSize + 4) * ua + 2 * r.input;
    if (model.gateError !== undefined) relativeS += model.gateError[sequenceIndex] * ua;
  }
  return relativeW * W + relativeS * S + underflowFloor(model, r, place);
}

/**
 * The normwise allowance of a convolution element (FFT): c·u·log2(M)·(‖K‖₁·‖u‖₂ + |D|·max|u|),
 * M the transform size, times the gate; NaN when the channel is not a convolution.
 */
export function normwiseBound(model: ChannelModel, r: Roundoffs, place: ElementPlace): number {
  const scale = model.convolutionScale?.[place.channel];
  if (scale === undefined || Number.isNaN(scale)) return Number.NaN;
  const transformSize = 2 ** Math.ceil(Math.log2(Math.max(2, 2 * model.dims.length)));
  const factor = r.arithmetic * (6 * Math.log2(transformSize) + model.dims.stateSize + 8) + 4 * r.input + r.output;
  const gate = model.gateMagnitude === undefined ? 1 : model.gateMagnitude[place.sequenceIndex];
  return factor * scale * gate;
}

/**
 * The place of element i of an output tensor: sequences are (batch, dim, L), or (batch, L, …) with
 * the channels after time (ssd); final states (batch, dim[, N]) or (batch, H, P, N), channel-major alike.
 */
export function elementPlace(model: ChannelModel, output: 'sequence' | 'state', i: number): ElementPlace {
  const { batch, dim, length: L } = model.dims;
  if (output === 'sequence') {
    const inner = model.timeInner;
    const t = Math.floor(i / inner) % L;
    const channel = Math.floor(i / (inner * L)) * inner + (i % inner);
    return { channel, steps: model.reverse ? L - 1 - t : t, sequenceIndex: i };
  }
  const perChannel = batch * dim === 0 ? 1 : model.dims.stateSize === 1 ? 1 : model.dims.stateSize;
  return { channel: Math.floor(i / perChannel), steps: Math.max(0, L - 1), sequenceIndex: -1 };
}
