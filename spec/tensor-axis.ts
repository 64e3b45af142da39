/**
 * Operations along one axis of a dense row-major tensor: slicing, flipping, padding and taking one
 * index. A tensor is viewed as (outer, n, inner) around the axis; a "row" is one (outer, inner)
 * pair, numbered outer·inner + innerIndex, which for a last axis is the plain row number.
 */
import { elementCount } from './tensor.ts';

/** A tensor of float32 or float64 values. */
interface Dense<D extends Float32Array | Float64Array = Float32Array | Float64Array> {
  readonly data: D;
  readonly shape: readonly number[];
}

/** The (outer, n, inner) view of a shape around an axis. */
export function aroundAxis(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) throw new RangeError(`aroundAxis: expected an axis in [0, ${shape.length}), got ${axis}`);
  return { outer: elementCount(shape.slice(0, axis)), n: shape[axis], inner: elementCount(shape.slice(axis + 1)) };
}

/** Indices [start, end) of one axis. */
export function sliceAxis<T extends Dense>(t: T, axis: number, start: number, end: number): T {
  const { outer, n, inner } = aroundAxis(t.shape, axis);
  const width = end - start;
  const data = new (t.data.constructor as new (length: number) => T['data'])(outer * width * inner);
  for (let o = 0; o < outer; o++) data.set(t.data.subarray((o * n + start) * inner, (o * n + end) * inner), o * width * inner);
  return { ...t, data, shape: t.shape.map((s, i) => (i === axis ? width : s)) };
}

/** One index of an axis, the axis removed: a step's tensor from a run's. */
export function takeAxis<T extends Dense>(t: T, axis: number, index: number): T {
  const sliced = sliceAxis(t, axis, index, index + 1);
  return { ...sliced, shape: sliced.shape.filter((_, i) => i !== axis) };
}

/** The axis reversed. */
export function flipAxis<T extends Dense>(t: T, axis: number): T {
  const { outer, n, inner } = aroundAxis(t.shape, axis);
  const data = t.data.slice() as T['data'];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) data.set(t.data.subarray((o * n + n - 1 - i) * inner, (o * n + n - i) * inner), (o * n + i) * inner);
  }
  return { ...t, data };
}

/** `count` indices added to the axis, before or after, valued fill(row) in each row. */
export function padAxis<T extends Dense>(t: T, axis: number, count: number, atStart: boolean, fill: (row: number) => number): T {
  const { outer, n, inner } = aroundAxis(t.shape, axis);
  const padded = n + count;
  const data = new (t.data.constructor as new (length: number) => T['data'])(outer * padded * inner);
  for (let o = 0; o < outer; o++) {
    data.set(t.data.subarray(o * n * inner, (o + 1) * n * inner), (o * padded + (atStart ? count : 0)) * inner);
    const first = o * padded + (atStart ? 0 : n);
    for (let j = 0; j < inner; j++) {
      const value = fill(o * inner + j);
      for (let k = 0; k < count; k++) data[(first + k) * inner + j] = value;
    }
  }
  return { ...t, data, shape: t.shape.map((s, i) => (i === axis ? padded : s)) };
}
