/** One registered ScanImplementation per tfjs backend, every family from tf ops, float32. */
import * as tf from '@tensorflow/tfjs-core';
import type {
  FamilyName,
  LinearRecurrenceOutputs,
  LtiSsmOutputs,
  OptionsOf,
  PrefixSumOutputs,
  Problem,
  SelectiveScanOutputs,
  SsdOutputs,
  StepInputsOf,
  StepOutputs,
} from '../../spec/families.ts';
import {
  ImplementationDeclinedError,
  ImplementationUnavailableError,
  type EvaluationSettings,
  type FamilyImplementation,
  type ScanImplementation,
} from '../../spec/implementation.ts';
import { elementCount, type OutputTensor } from '../../spec/tensor.ts';
import type { TfjsBackend } from './backend.ts';
import { exclusively, withBackend } from './exclusive-backend.ts';
import { emptyLinearRecurrence, linearRecurrenceStepTensors, linearRecurrenceTensors } from './linear-recurrence.ts';
import { fftLengthFor, ltiSsmByFft, ltiSsmByScan, ltiSsmStepTensors } from './lti-ssm.ts';
import { prefixSumStepTensors, prefixSumTensors } from './prefix-sum.ts';
import { emptySelectiveScan, selectiveScanStepTensors, selectiveScanTensors } from './selective-scan.ts';
import { emptySsd, SSD_CHUNK_SIZES, ssdChunkSize, ssdIsEmpty, ssdLargestTensor, ssdStepTensors, ssdTensors } from './ssd.ts';
import { readOutputs, zerosOutput } from './tensors.ts';
import { emptyGradients, tfjsGradients, type BuiltOutputs } from './vjp.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import type { Liftable } from './tensors.ts';

/** The registered name of the implementation on a backend: 'tfjs-<backend>'. */
export function tfjsImplementationName(backend: TfjsBackend): string {
  return `tfjs-${backend.backendName}`;
}

/** The ScanImplementation that computes every family with tf ops on one tfjs backend. */
export function createTfjsImplementation(backend: TfjsBackend): ScanImplementation {
  const name = tfjsImplementationName(backend);
  const compute = <K extends string>(build: () => Record<K, tf.Tensor>): Promise<Record<K, OutputTensor>> =>
    withBackend(backend.backendName, async () => {
      backend.takeDeviceErrors?.();
      try {
        const outputs = await readOutputs(build());
        const errors = backend.takeDeviceErrors?.() ?? [];
        if (errors.length > 0) throw new Error(`${name}: the device reported ${errors.length} error(s) during the run, its results are not valid: ${errors[0]}`);
        return outputs;
      } finally {
        backend.releasePooledMemory?.();
      }
    });

  /** Declines problems whose largest tensor (float32, `elements` long) exceeds the device's buffer limit. */
  const declineLarge = (elements: number): string | undefined => {
    const limit = backend.maxBufferBytes?.();
    if (limit === undefined || elements * 4 <= limit) return undefined;
    return `${name}: its largest tensor needs ${elements * 4} bytes, more than the device's buffer limit of ${limit} bytes`;
  };
  /** batch·dim·L, or batch·dim·N·L for the state-space families: the largest tensor a run builds. */
  const largestTensor = (shape: readonly number[], stateSize = 1): number => elementCount(shape) * stateSize;

  /** The vjp by tfjs's autodiff over `build`, or emptyGradients where run() does not ask tfjs. */
  const gradients = <F extends FamilyName>(
    problem: Problem<F>,
    cotangents: Cotangents<F>,
    build: (inputs: Liftable<F>) => BuiltOutputs<F>,
    empty: { readonly is: boolean; readonly passedThrough?: { readonly input: string; readonly output: string } },
  ): Promise<GradientsOf<F>> =>
    empty.is
      ? Promise.resolve(emptyGradients(problem, cotangents, empty.passedThrough) as GradientsOf<F>)
      : (compute(() => tfjsGradients(problem, cotangents, build)) as Promise<GradientsOf<F>>);

  /** The entry without its vjp where the backend cannot run that family's gradients. */
  const withoutUnsupportedVjp = <F extends FamilyName>(family: F, entry: FamilyImplementation<F>): FamilyImplementation<F> => {
    if (backend.vjpUnsupported?.families.includes(family) !== true) return entry;
    const { vjp: _unsupported, ...rest } = entry;
    return rest;
  };

  const step = <F extends FamilyName>(
    build: (inputs: StepInputsOf<F>, options: OptionsOf<F>) => { y: tf.Tensor; state: tf.Tensor },
    stateShape: (inputs: StepInputsOf<F>) => readonly number[],
    yShape: (inputs: StepInputsOf<F>) => readonly number[] = (inputs) => stateShape(inputs).slice(0, 2),
  ) =>
    async (inputs: StepInputsOf<F>, options: OptionsOf<F>): Promise<StepOutputs> => {
      const shape = stateShape(inputs);
      // tfjs is not asked about empty tensors: batch or dim 0 has nothing to compute.
      if (elementCount(shape) === 0) return { y: zerosOutput(yShape(inputs)), state: zerosOutput(shape) };
      return compute(() => build(inputs, options));
    };

  const prefixSum: FamilyImplementation<'prefix-sum'> = {
    async run(problem: Problem<'prefix-sum'>): Promise<PrefixSumOutputs> {
      if (elementCount(problem.inputs.x.shape) === 0) return { y: zerosOutput(problem.inputs.x.shape) };
      return compute(() => prefixSumTensors(problem.inputs, problem.options));
    },
    decline: (problem) => declineLarge(largestTensor(problem.inputs.x.shape)),
    vjp: (problem, cotangents) =>
      gradients(problem, cotangents, (inputs) => prefixSumTensors(inputs, problem.options), { is: elementCount(problem.inputs.x.shape) === 0 }),
    step: step<'prefix-sum'>((inputs) => prefixSumStepTensors(inputs), (inputs) => inputs.state.shape),
  };

  const linearRecurrence: FamilyImplementation<'linear-recurrence'> = {
    async run(problem: Problem<'linear-recurrence'>): Promise<LinearRecurrenceOutputs> {
      if (elementCount(problem.inputs.a.shape) === 0) return emptyLinearRecurrence(problem.inputs);
      return compute(() => linearRecurrenceTensors(problem.inputs, problem.options));
    },
    // The log-step scan keeps a and b pairs and their shifted copies: twice the sequence.
    decline: (problem) => declineLarge(2 * largestTensor(problem.inputs.a.shape)),
    vjp: (problem, cotangents) =>
      gradients(problem, cotangents, (inputs) => linearRecurrenceTensors(inputs, problem.options), {
        is: elementCount(problem.inputs.a.shape) === 0,
        passedThrough: problem.inputs.a.shape[2] === 0 ? { input: 'h0', output: 'lastState' } : undefined,
      }),
    step: step<'linear-recurrence'>((inputs) => linearRecurrenceStepTensors(inputs), (inputs) => inputs.state.shape),
  };

  const selectiveScan: FamilyImplementation<'selective-scan'> = {
    async run(problem: Problem<'selective-scan'>): Promise<SelectiveScanOutputs> {
      if (elementCount(problem.inputs.u.shape) === 0) return emptySelectiveScan(problem.inputs);
      return compute(() => selectiveScanTensors(problem.inputs, problem.options));
    },
    decline: (problem) => declineLarge(2 * largestTensor(problem.inputs.u.shape, problem.inputs.A.shape[1])),
    vjp: (problem, cotangents) =>
      gradients(problem, cotangents, (inputs) => selectiveScanTensors(inputs, problem.options), {
        is: elementCount(problem.inputs.u.shape) === 0,
        passedThrough: problem.inputs.u.shape[2] === 0 ? { input: 'h0', output: 'lastState' } : undefined,
      }),
    step: step<'selective-scan'>((inputs, options) => selectiveScanStepTensors(inputs, options), (inputs) => inputs.state.shape),
  };

  const method = backend.ltiSsm;
  const ltiSsm: FamilyImplementation<'lti-ssm'> = {
    errorModel: method.kind === 'fft' ? 'normwise' : 'componentwise',
    async run(problem: Problem<'lti-ssm'>): Promise<LtiSsmOutputs> {
      if (elementCount(problem.inputs.u.shape) === 0) return { y: zerosOutput(problem.inputs.u.shape) };
      return compute(() => (method.kind === 'fft' ? ltiSsmByFft(problem.inputs) : ltiSsmByScan(problem.inputs)));
    },
    decline(problem: Problem<'lti-ssm'>): string | undefined {
      const large = declineLarge(2 * largestTensor(problem.inputs.u.shape, problem.inputs.Abar.shape[1]));
      if (large !== undefined || method.kind !== 'fft') return large;
      const [batch, dim, length] = problem.inputs.u.shape;
      return method.decline({ rows: batch * dim + dim, transformSize: fftLengthFor(length) });
    },
    // tfjs registers no gradient for its FFT kernels (RFFT, IRFFT): the vjp differentiates the
    // recurrence form (the log-step scan run() uses on backends without FFT) on every backend.
    vjp: (problem, cotangents) => gradients(problem, cotangents, (inputs) => ltiSsmByScan(inputs), { is: elementCount(problem.inputs.u.shape) === 0 }),
    step: step<'lti-ssm'>((inputs) => ltiSsmStepTensors(inputs), (inputs) => inputs.state.shape),
  };

  const ssd: FamilyImplementation<'ssd'> = {
    chunkSizes: SSD_CHUNK_SIZES,
    async run(problem: Problem<'ssd'>, settings?: EvaluationSettings): Promise<SsdOutputs> {
      const chunkSize = ssdChunkSize(settings?.chunkSize);
      if (ssdIsEmpty(problem.inputs)) return emptySsd(problem.inputs);
      const large = declineLarge(ssdLargestTensor(problem.inputs, chunkSize));
      if (large !== undefined) throw new ImplementationDeclinedError(`${large} (chunk size ${chunkSize})`);
      return compute(() => ssdTensors(problem.inputs, problem.options, chunkSize));
    },
    // decline() does not see the settings: it judges the default chunk size, run() any other.
    decline: (problem) => declineLarge(ssdLargestTensor(problem.inputs, ssdChunkSize(undefined))),
    // The default chunk size: the vjp entry point has no settings.
    vjp: (problem, cotangents) =>
      gradients(problem, cotangents, (inputs) => ssdTensors(inputs, problem.options, ssdChunkSize(undefined)), {
        is: ssdIsEmpty(problem.inputs),
        passedThrough: problem.inputs.x.shape[1] === 0 ? { input: 'initialStates', output: 'finalStates' } : undefined,
      }),
    step: step<'ssd'>(
      (inputs, options) => ssdStepTensors(inputs, options),
      (inputs) => inputs.state.shape,
      (inputs) => inputs.x.shape,
    ),
  };

  let ready = false;
  return {
    name,
    precision: 'float32',
    ...(backend.subnormals === 'flush' && { subnormals: 'flush' as const }),
    description: `${backend.description}${method.kind === 'scan' ? ` (${method.why})` : ''}`,
    expectedFailures: backend.expectedFailures ?? [],
    families: {
      'prefix-sum': withoutUnsupportedVjp('prefix-sum', prefixSum),
      'linear-recurrence': withoutUnsupportedVjp('linear-recurrence', linearRecurrence),
      'selective-scan': withoutUnsupportedVjp('selective-scan', selectiveScan),
      'lti-ssm': withoutUnsupportedVjp('lti-ssm', ltiSsm),
      ssd: withoutUnsupportedVjp('ssd', ssd),
    },
    async setup() {
      await backend.setup();
      // Initialise the backend now, in the queue, so a backend that cannot start is reported as unavailable, not as failing runs.
      try {
        await withBackend(backend.backendName, async () => undefined);
      } catch (error) {
        throw new ImplementationUnavailableError(`${name}: ${(error as Error).message}`);
      }
      ready = true;
    },
    async dispose() {
      ready = false;
      await exclusively(() => backend.dispose());
    },
    environment() {
      return {
        backend: backend.backendName,
        tfjsCoreVersion: tf.version_core,
        ...(ready ? backend.environment() : {}),
        ...(method.kind === 'scan' ? { ltiSsm: 'log-step scan (no FFT kernels)' } : { ltiSsm: method.summary }),
      };
    },
  };
}
