/**
 * A benchmark child process: runs the given cases of ONE implementation (or the baselines) and
 * prints events (protocol.ts). Running each implementation in its own process gives it its own
 * peak RSS (process.resourceUsage().maxRSS is a process-lifetime high-water mark) and lets the
 * parent cut off a case that runs too long by killing the process.
 *
 *   tsx bench/child.ts --module <index.ts> --impl <name> --cases <id,…> [--quick] [--max-run-ms ms]
 *   tsx bench/child.ts --baseline --cases <id,…> [--quick] [--max-run-ms ms]
 */
import { parseArgs } from 'node:util';
import { loadImplementationModule } from '../suite/registry.ts';
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../spec/implementation.ts';
import { PLAIN_LOOP, REFERENCE } from './baseline-names.ts';
import type { BenchCase } from './cases.ts';
import { cotangentsOf, crossoverCases, elementsOf, problemOf, QUICK_CASES, shortenedCase, STANDARD_CASES } from './cases.ts';
import { CROSSOVER_SAMPLING, QUICK_SAMPLING, STANDARD_SAMPLING, timeCase, timeOnce, timingMethod } from './measure.ts';
import type { CaseOutcome, ChildEvent } from './protocol.ts';
import { formatEvent } from './protocol.ts';
import { errorMessage } from '../spec/errors.ts';

const MIB = 1024 * 1024;

/** The process's peak resident set so far (kernel high-water mark), MiB. */
function peakRssMiB(): number {
  return (process.resourceUsage().maxRSS * 1024) / MIB;
}

function emit(event: ChildEvent): void {
  process.stdout.write(formatEvent(event));
}

const { values } = parseArgs({
  options: {
    module: { type: 'string' },
    impl: { type: 'string' },
    cases: { type: 'string', default: '' },
    quick: { type: 'boolean', default: false },
    baseline: { type: 'boolean', default: false },
    'max-run-ms': { type: 'string' },
  },
});
/** A case whose one run is predicted to take longer than this is not started (see predictedRunMs). */
const maxRunMs = values['max-run-ms'] === undefined ? Infinity : Number(values['max-run-ms']);
/** Fastest time per element measured so far in this process, by family (and `<family>/vjp` for backward cases). */
const msPerElement = new Map<string, number>();
const quick = values.quick;
const sampling = quick ? QUICK_SAMPLING : STANDARD_SAMPLING;
const known = new Map<string, BenchCase>([...(quick ? QUICK_CASES : STANDARD_CASES), ...crossoverCases(quick)].map((c) => [c.id, c]));
const cases = values.cases
  .split(',')
  .filter((id) => id !== '')
  .map((id) => {
    const c = known.get(id);
    if (c === undefined) throw new Error(`bench child: --cases: expected ids among [${[...known.keys()].join(', ')}], got '${id}'`);
    return c;
  });

/**
 * One call of reference() on a short case of the same shape, at most this many elements (0.5–1.1 s
 * on ssd-mamba2-130m here, bench/reference-ssd-cost.ts): it predicts the time of a call on the whole
 * case (the reference's speed differs by family by orders of magnitude) and warms up its code. Being
 * the first call, it includes the JIT's work, so the prediction errs long: towards a single call or
 * not starting one, never towards sampling a call that is too slow to sample.
 */
const CALIBRATION_ELEMENTS = 2 ** 22;

async function runBaselines(): Promise<void> {
  // Loaded here only: the reference is not part of an implementation's footprint.
  const { plainFloat64Loop, plainLoopInputs, referencePath } = await import('./baselines.ts');
  emit({ type: 'ready', environment: {} });
  for (const c of cases) {
    const problem = problemOf(c);
    if (problem.family === 'linear-recurrence') {
      const inputs = plainLoopInputs(problem);
      emit({ type: 'case-start', id: `${PLAIN_LOOP}/${c.id}` });
      const plain = await timeCase(PLAIN_LOOP, () => plainFloat64Loop(inputs.a, inputs.b, inputs.h), sampling);
      emit({ type: 'case', id: `${PLAIN_LOOP}/${c.id}`, outcome: { status: 'ok', ...plain }, peakRssMiB: peakRssMiB() });
    }
    emit({ type: 'case-start', id: `${REFERENCE}/${c.id}` });
    emit({ type: 'case', id: `${REFERENCE}/${c.id}`, outcome: await timeReference(c, problem, referencePath), peakRssMiB: peakRssMiB() });
  }
}

/**
 * Times reference() on a case: sampled by tinybench when small, else predicted from a call on a
 * shortened case (CALIBRATION_ELEMENTS) and then sampled, timed once (predicted past
 * SINGLE_CALL_OVER_MS) or not run (predicted past --max-run-ms).
 */
async function timeReference(c: BenchCase, problem: AnyProblem, referencePath: (problem: AnyProblem) => unknown): Promise<CaseOutcome> {
  try {
    const short = shortenedCase(c, CALIBRATION_ELEMENTS);
    let method: ReturnType<typeof timingMethod> = 'sampled';
    if (short !== c) {
      const calibration = problemOf(short);
      const start = performance.now();
      referencePath(calibration);
      const predictedMs = ((performance.now() - start) * elementsOf(c)) / elementsOf(short);
      method = timingMethod(predictedMs, maxRunMs);
      if (method === 'not run') {
        return { status: 'timeout', reason: `predicted ${(predictedMs / 1000).toFixed(1)} s per run from a call on L ${short.length} (limit ${maxRunMs / 1000} s); not run` };
      }
    }
    const timing = method === 'single call' ? await timeOnce(() => referencePath(problem)) : await timeCase(`${REFERENCE} ${c.id}`, () => referencePath(problem), sampling);
    return { status: 'ok', ...timing };
  } catch (error) {
    return { status: 'error', reason: errorMessage(error, { withName: true }) };
  }
}

async function runImplementation(implementation: ScanImplementation): Promise<void> {
  try {
    await implementation.setup?.();
  } catch (error) {
    emit({ type: 'unavailable', reason: errorMessage(error, { withName: true }) });
    return;
  }
  let environment: Readonly<Record<string, string>> = {};
  try {
    environment = implementation.environment?.() ?? {};
  } catch (error) {
    environment = { environmentError: errorMessage(error, { withName: true }) };
  }
  emit({ type: 'ready', environment });
  for (const c of cases) {
    emit({ type: 'case-start', id: c.id });
    emit({ type: 'case', id: c.id, outcome: await runCase(implementation, c), peakRssMiB: peakRssMiB() });
  }
  try {
    await implementation.dispose?.();
  } catch (error) {
    process.stderr.write(`dispose failed: ${errorMessage(error, { withName: true })}\n`);
  }
}

async function runCase(implementation: ScanImplementation, c: BenchCase): Promise<CaseOutcome> {
  const family = implementation.families[c.family] as FamilyImplementation<FamilyName> | undefined;
  if (family === undefined) return { status: 'not-declared', reason: `${implementation.name} does not declare ${c.family}` };
  const problem: AnyProblem = problemOf(c);
  try {
    const reason = family.decline?.(problem as Problem<FamilyName>);
    if (reason !== undefined) return { status: 'declined', reason };
    // Throughput measured on a smaller case of the family predicts this one; a run predicted to be
    // too slow is reported as cut off without spending the time (it would be killed anyway).
    // A backward case: the vjp, which an implementation may not have.
    const cotangents = c.backward ? cotangentsOf(c, problem) : undefined;
    if (cotangents !== undefined && family.vjp === undefined) return { status: 'not-declared', reason: `${implementation.name} has no vjp for ${c.family}` };
    const pass = c.backward ? `${c.family}/vjp` : c.family;
    const perElement = msPerElement.get(pass);
    if (perElement !== undefined && perElement * elementsOf(c) > maxRunMs) {
      const predicted = (perElement * elementsOf(c)) / 1000;
      return { status: 'timeout', reason: `predicted ${predicted.toFixed(1)} s per run from a smaller ${c.family} case (limit ${maxRunMs / 1000} s); not run` };
    }
    const plan = c.crossover && !quick ? CROSSOVER_SAMPLING : sampling;
    const call = cotangents === undefined ? () => family.run(problem as Problem<FamilyName>) : () => family.vjp!(problem as Problem<FamilyName>, cotangents as never);
    const timing = await timeCase(`${implementation.name} ${c.id}`, call, plan);
    const measured = timing.medianMs / elementsOf(c);
    msPerElement.set(pass, Math.min(measured, msPerElement.get(pass) ?? Infinity));
    return { status: 'ok', ...timing };
  } catch (error) {
    return { status: 'error', reason: errorMessage(error, { withName: true }) };
  }
}

const idleRssMiB = process.memoryUsage().rss / MIB;
if (values.baseline) {
  await runBaselines();
} else {
  if (values.module === undefined || values.impl === undefined) throw new Error('bench child: expected --module and --impl, or --baseline');
  const implementation = (await loadImplementationModule(values.module)).find((i) => i.name === values.impl);
  if (implementation === undefined) throw new Error(`bench child: --impl: expected an implementation of ${values.module}, got '${values.impl}'`);
  await runImplementation(implementation);
}
emit({ type: 'done', peakRssMiB: peakRssMiB(), idleRssMiB });
