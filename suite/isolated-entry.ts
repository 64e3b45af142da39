/**
 * The family entry the suite calls: every call gets its own copy of the tensors it is given, and the
 * suite keeps its own copy of the tensors a call returns. The suite reuses a case's tensors after a
 * call (the reference is computed from them afterwards, one fixture case serves every
 * implementation, a property runs them again), so a kernel that wrote to its inputs would move the
 * reference with it: zeroing x and answering zeros passed. And a kernel that answers every call in
 * one buffer made two runs' answers one array, so causality or linearity compared a run with itself.
 * A call that wrote to a tensor it was given fails the case, naming the tensor and the first changed
 * element: spec/implementation.ts makes inputs read-only.
 */
import type { FamilyName } from '../spec/families.ts';
import type { FamilyImplementation } from '../spec/implementation.ts';
import { unravel } from './compare.ts';

/** Thrown when an entry point wrote to a tensor it was given; the pipeline fails the case with its message. */
export class InputModifiedError extends Error {
  override readonly name = 'InputModifiedError';
}

/** The entry points that take tensors, and what their arguments are called in a message. */
const ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  run: ['input'],
  decline: ['input'],
  step: ['input'],
  vjp: ['input', 'cotangent'],
  runVarlen: ['input'],
};

type TypedArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

interface TensorLike {
  readonly data: TypedArray;
  readonly shape: unknown;
}

function isTensorLike(value: unknown): value is TensorLike {
  if (typeof value !== 'object' || value === null) return false;
  const data = (value as { data?: unknown }).data;
  return ArrayBuffer.isView(data) && !(data instanceof DataView) && typeof (data as { slice?: unknown }).slice === 'function' && 'shape' in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** One tensor handed to a call: where it sits, the caller's tensor and the copy the call got. */
interface Handed {
  readonly name: string;
  readonly original: TensorLike;
  readonly copy: TensorLike;
}

/**
 * A copy of `value` in which every tensor (an object with a typed-array `data` and a `shape`) has data
 * and shape of its own, recursing through plain objects; anything else is kept as it is, so that
 * validation still sees and names what does not follow the spec.
 */
function copyTensors(value: unknown, name: string, handed?: Handed[]): unknown {
  if (isTensorLike(value)) {
    const copy = { ...value, data: value.data.slice(), shape: Array.isArray(value.shape) ? [...(value.shape as unknown[])] : value.shape };
    handed?.push({ name, original: value, copy });
    return copy;
  }
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, copyTensors(field, key === 'inputs' ? name : `${name} ${key}`, handed)]));
}

/** The first way a call changed a tensor it was given, in words, or undefined. */
function modification({ original, copy }: Handed): string | undefined {
  const shape = original.shape;
  if (Array.isArray(shape) && (!Array.isArray(copy.shape) || copy.shape.length !== shape.length || shape.some((s, i) => !Object.is(s, (copy.shape as unknown[])[i])))) {
    return `its shape was [${shape.join(', ')}] and is ${JSON.stringify(copy.shape)}`;
  }
  const before = original.data as unknown as ArrayLike<number | bigint>;
  const after = copy.data as unknown as ArrayLike<number | bigint>;
  if (after.length !== before.length) return `it held ${before.length} values and holds ${after.length} (a buffer transferred to a worker is detached: transfer a copy)`;
  for (let i = 0; i < before.length; i++) {
    if (Object.is(before[i], after[i])) continue;
    const at = Array.isArray(shape) ? `[${unravel(i, shape as number[]).join(', ')}]` : `[${i}]`;
    return `element ${at} was ${String(before[i])} and is ${String(after[i])}`;
  }
  return undefined;
}

/** `method` called on copies of its tensor arguments, failing when it wrote to one, its answer's tensors copied. */
function isolated(method: string, call: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const roles = ARGUMENTS[method];
  const check = (handed: readonly Handed[]) => {
    for (const tensor of handed) {
      const change = modification(tensor);
      if (change !== undefined) {
        throw new InputModifiedError(`${method}() wrote to its ${tensor.name}: ${change} (an implementation must not modify the tensors it is given)`);
      }
    }
  };
  return (...args: unknown[]) => {
    const handed: Handed[] = [];
    const copies = args.map((arg, i) => (i < roles.length ? copyTensors(arg, roles[i], handed) : arg));
    const answer = call(...copies);
    // decline() answers at once; the others with a promise (or a thenable, or a value: awaited alike).
    if (method === 'decline') {
      check(handed);
      return answer;
    }
    return Promise.resolve(answer).then((value: unknown) => {
      check(handed);
      return copyTensors(value, 'output');
    });
  };
}

/**
 * The entry as the suite calls it (see the module's comment): the same entry, its run, decline,
 * step, vjp and runVarlen called on copies and their answers copied; everything else (errorModel,
 * chunkSizes, which entry points exist) read from the entry itself.
 */
export function isolatedEntry<F extends FamilyName>(entry: FamilyImplementation<F>): FamilyImplementation<F> {
  const wrapped = new Map<string, unknown>();
  return new Proxy(entry, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !(key in ARGUMENTS) || typeof value !== 'function') return value;
      let method = wrapped.get(key);
      if (method === undefined || (method as { of?: unknown }).of !== value) {
        method = Object.assign(isolated(key, (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args)), { of: value });
        wrapped.set(key, method);
      }
      return method;
    },
  });
}
