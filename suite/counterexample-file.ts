/**
 * Counterexample files: a failing case's inputs, the reference's expected outputs (with condition
 * and depth scales) and the implementation's actual outputs, in the fixture format
 * (fixtures/generate.ts encodes it) plus `actual.*` tensors and the failure in the metadata. The
 * fixture loader (decodeFixture) and numpy (examples/python/check_fixture.py's read_safetensors)
 * read it; `scan-conformance check --case <file>` replays exactly that case.
 */
import path from 'node:path';
import { caseInputs, encodeFixture } from '../fixtures/generate.ts';
import { TENSOR_PREFIX } from '../fixtures/manifest.ts';
import type { SafetensorsTensorInput } from '../fixtures/safetensors.ts';
import { reference } from '../reference/index.ts';
import { OPTIONAL_INPUT_NAMES, OUTPUT_NAMES, type AnyProblem, type FamilyName } from '../spec/families.ts';
import { projectionInputNames } from '../spec/families/index.ts';
import type { FamilyImplementation } from '../spec/implementation.ts';
import type { OptionalInputSwitches, SampleRequest } from '../spec/regimes.ts';
import { dimensionsOf, projectionLayout } from '../spec/shapes.ts';
import type { Tensor } from '../spec/tensor.ts';
import { errorMessage } from './cells.ts';
import type { ExpectedOutputs } from './compare.ts';
import { withTimeout } from './pipeline.ts';
import { cellSlug, type ReplayCell } from './replay.ts';

/** The folder, inside a report folder, that holds counterexample files. */
export const COUNTEREXAMPLES_FOLDER = 'counterexamples';

/** What a counterexample file records. */
export interface CounterexampleContent {
  readonly cell: ReplayCell;
  readonly problem: AnyProblem;
  readonly regime: string;
  /** The reference's answer when already known (a fixture's); computed otherwise. */
  readonly expected?: ExpectedOutputs;
  /** The failure, in one paragraph, and how it was found (fast-check seed and path, or the fixture id). */
  readonly message: string;
  readonly origin: string;
  /** The command that found it again (fast-check path or fixture id). */
  readonly replay: string;
}

/** The path of a cell's counterexample file inside a report folder (`suffix`: a part of a sharded fixtures cell). */
export function counterexampleFile(reportDir: string, cell: ReplayCell, suffix = ''): string {
  return path.join(reportDir, COUNTEREXAMPLES_FOLDER, `${cellSlug(cell)}${suffix}.safetensors`);
}

/**
 * Runs the implementation once more on the case (to record its actual outputs; a throw or a
 * malformed output is recorded in the metadata instead), and writes the file atomically.
 */
export async function writeCounterexampleFile(
  file: string,
  content: CounterexampleContent,
  entry: FamilyImplementation<FamilyName>,
  timeoutMs: number,
): Promise<string> {
  const { problem } = content;
  const expected = content.expected ?? (reference(problem) as unknown as ExpectedOutputs);
  const actual: Record<string, SafetensorsTensorInput> = {};
  const notes: string[] = [];
  // A case that timed out is not run again: it would only wait out the time limit a second time.
  if (/did not finish within \d+ ms/.test(content.message)) {
    notes.push('not run again: the case timed out');
  } else {
    try {
      const outputs = (await withTimeout(entry.run(problem), timeoutMs, 'run')) as unknown;
      for (const name of OUTPUT_NAMES[problem.family] as readonly string[]) {
        const tensor = wellFormed((outputs as Record<string, unknown> | null)?.[name]);
        if (tensor === undefined) notes.push(`output ${name}: not a Float32Array/Float64Array tensor whose data fits its shape`);
        else actual[TENSOR_PREFIX.actual + name] = tensor;
      }
    } catch (error) {
      notes.push(`the implementation threw: ${errorMessage(error)}`);
    }
  }
  const { bytes } = encodeFixture({
    id: `counterexample/${cellSlug(content.cell)}`,
    regime: content.regime,
    seed: content.origin,
    inputs: inputsOf(problem),
    dims: dimensionsOf(problem),
    problem,
    expected,
    extraTensors: actual,
    extraMetadata: {
      implementation: content.cell.implementation,
      property: content.cell.property,
      message: content.message,
      replay: content.replay,
      ...(notes.length > 0 && { actualOutputs: notes.join('; ') }),
    },
  });
  // Loaded on a failure only: the report writer brings the plotting library with it.
  const { writeFileAtomically } = await import('./report/write.ts');
  await writeFileAtomically(file, bytes);
  return file;
}

/** A tensor whose data is a float array that fits its shape, or undefined. */
function wellFormed(value: unknown): SafetensorsTensorInput | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { data, shape } = value as { data?: unknown; shape?: unknown };
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) return undefined;
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) return undefined;
  if (shape.reduce((n: number, s: number) => n * s, 1) !== data.length) return undefined;
  return { data, shape };
}

/** The fixture description of a problem's inputs: which optional inputs it has, and its B/C layouts. */
function inputsOf(problem: AnyProblem): ReturnType<typeof caseInputs> {
  const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const switches = Object.fromEntries(OPTIONAL_INPUT_NAMES[problem.family].map((name) => [name, inputs[name] !== undefined])) as OptionalInputSwitches;
  const names = projectionInputNames(problem.family);
  const projections = names.length === 0 ? undefined : (Object.fromEntries(names.map((name) => [name, projectionLayout(inputs[name]!.shape).kind])) as SampleRequest['projections']);
  return caseInputs(problem.family, switches, projections);
}
