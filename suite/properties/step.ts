/** step: the one-token step applied L times equals the scan (forward, from the initial state). */
import type { AnyProblem, OptionsOf, StepOutputs } from '../../spec/families.ts';
import { notInStepOptionNames, projectionInputNames, sequenceOutputName, stateInputNames, stepStatesOf } from '../../spec/families/index.ts';
import { declaredAxes, dimensionsOf, outputShapes, stateShape, timeAxisOf } from '../../spec/shapes.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { validateStepOutputs } from '../../spec/validate.ts';
import { distanceOf, elementBounds } from '../compare.ts';
import { expectedOf, guarded, withTimeout } from '../pipeline.ts';
import { MODES } from '../settings.ts';
import type { ArithmeticDeclaration } from '../tolerance.ts';
import { aroundAxis, takeAxis } from '../../spec/tensor-axis.ts';
import { inputsOf, outputTimeAxis, segmentsInputNames, sliceTimeOf, stateAcrossSplit, timeTensorNames } from '../transforms.ts';
import { asInput, coarser, noParameters, outsideBound, type PropertyDefinition } from './harness.ts';

/**
 * Step inputs of token t of a problem (time tensors at t, without their time axis) with its states
 * by step name. Segment ids are not a step's input: the caller resets the state where they change.
 */
function stepInputsAt(problem: AnyProblem, t: number, states: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const inputs = inputsOf(problem);
  const out: Record<string, Tensor> = {};
  const timeNames = new Set(timeTensorNames(problem));
  const skipped = new Set<string>([...stateInputNames(problem.family), ...segmentsInputNames(problem)]);
  const projections = new Set<string>(projectionInputNames(problem.family));
  for (const [name, tensor] of Object.entries(inputs)) {
    if (tensor === undefined || skipped.has(name)) continue;
    if (!timeNames.has(name)) out[name] = tensor;
    // A selective-scan B or C keeps its time axis with L = 1 (spec/families/selective-scan/selective-scan.md#step).
    else if (projections.has(name) && declaredAxes(problem.family, name) === undefined) out[name] = sliceTimeOf(problem, name, t, t + 1);
    else out[name] = takeAxis(tensor, timeAxisOf(problem.family, name, tensor.shape), t);
  }
  return { ...out, ...states };
}

/** The initial states of a step sequence by step name: each initial-state input, or zeros of its final state's shape (the family's state shape where it returns none). */
function initialStates(problem: AnyProblem): Record<string, Tensor> {
  const inputs = inputsOf(problem);
  const dims = dimensionsOf(problem);
  const shapes = outputShapes(problem.family, dims) as Readonly<Record<string, readonly number[]>>;
  return Object.fromEntries(
    stepStatesOf(problem.family).map(({ input, output, step }) => {
      const given = input === undefined ? undefined : inputs[input];
      const shape = output === undefined ? stateShape(problem.family, dims) : shapes[output];
      return [step, given ?? { data: new Float32Array(shape.reduce((p, s) => p * s, 1)), shape: [...shape] }];
    }),
  );
}

/** The step property. */
export const step: PropertyDefinition<'step'> = {
  name: 'step',
  description: 'The one-token step applied L times equals the scan (forward, from h0).',
  notApplicable: (family, entry) => (entry.step === undefined ? 'the implementation has no step' : undefined),
  arbitrary: (family, constraints) =>
    noParameters(family, {
      ...constraints,
      // A step is forward and inclusive: the options it does not take are false in the runs it is compared with.
      options: { ...constraints.options, ...Object.fromEntries(notInStepOptionNames(family).map((name) => [name, false])) } as Partial<OptionsOf<typeof family>>,
      maxLength: Math.min(constraints.maxLength ?? MODES.quick.maxLength, 64),
    }),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem as AnyProblem;
      // A problem the implementation declines to scan is declined here too, as in every property.
      const reason = context.entry.decline?.(c.problem);
      if (reason !== undefined) return { kind: 'declined', reason };
      const stepFn = context.entry.step!;
      const dims = dimensionsOf(problem);
      const whole = expectedOf(problem);
      // The state crosses the interface after every step, stored in the declared precision (and as
      // float32): a wider accumulator does not carry across steps, so the arithmetic is that precision.
      const { accumulation: _accumulation, ...stored } = context.declaration;
      const declaration: ArithmeticDeclaration = { ...stored, precision: coarser(context.declaration.precision, 'float32') };
      const bounds = elementBounds(problem, whole, declaration);
      const sequenceName = sequenceOutputName(problem.family);
      const states = stepStatesOf(problem.family);
      let carried = initialStates(problem);
      let answer: StepOutputs | undefined;
      // Element k = o·inner + j of a step's y is element (o, t, j) of the run's around its time axis.
      const sequenceShape = whole.outputs[sequenceName].shape;
      const { inner } = aroundAxis(sequenceShape, outputTimeAxis(problem.family, sequenceName, sequenceShape));
      for (let t = 0; t < dims.length; t++) {
        const handed = Object.fromEntries(Object.entries(carried).map(([name, tensor]) => [name, stateAcrossSplit(problem, t, tensor)]));
        const inputs = stepInputsAt(problem, t, handed);
        const raw = await withTimeout(stepFn(inputs as never, problem.options as never), context.timeoutMs, 'step');
        answer = validateStepOutputs(problem.family, inputs as never, raw);
        for (let k = 0; k < answer.y.data.length; k++) {
          const index = (Math.floor(k / inner) * dims.length + t) * inner + (k % inner);
          const failure = outsideBound(whole, bounds, declaration.precision, sequenceName, index, answer.y.data[k], (at) => `step ${t}: y[${at.join(', ')}]`);
          if (failure !== undefined) return failure;
        }
        carried = Object.fromEntries(states.map(({ step }) => [step, asInput(answer![step])]));
      }
      for (const { output, step } of states) {
        if (output === undefined || !(output in whole.outputs) || answer === undefined) continue;
        const distance = distanceOf(problem.family, output);
        for (let i = 0; i < whole.outputs[output].data.length; i++) {
          const failure = outsideBound(whole, bounds, declaration.precision, output, i, answer[step].data[i], (at) => `after ${dims.length} steps, ${step}[${at.join(', ')}]`, distance);
          if (failure !== undefined) return failure;
        }
      }
      return { kind: 'pass' };
    }),
};
