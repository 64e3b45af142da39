/**
 * The fixtures command line, `scan-conformance fixtures <command>` (compiled into the package, so
 * an installed scan-conformance generates fixtures too): `generate` (the committed catalogue, or
 * custom cases for one's own CI) and `check` (regenerate and compare with the committed files).
 * Run `scan-conformance fixtures --help`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { DEFAULT_OPTIONS, FAMILY_NAMES, OPTIONAL_INPUT_NAMES, isFamilyName, type FamilyName, type OptionsOf } from '../spec/families.ts';
import { alternateShapeInputNames, descriptorOf, familiesWhere, hasAxis, hasHeads, hasProjectionLayouts, hasStateSize, optionEntries } from '../spec/families/index.ts';
import {
  PROJECTION_KINDS,
  REGIME_NAMES,
  isRegimeName,
  regimeRestriction,
  regimesFor,
  SampleRequestError,
  type OptionalInputName,
  type ProjectionKind,
  type RegimeName,
  type SampleRequest,
} from '../spec/regimes.ts';
import { CATALOGUE_SEED_PREFIX, asVarlenCase, catalogue, makeCase, type CatalogueCase, type Variant } from '../fixtures/catalogue.ts';
import { checkFixtures, writeFixtures, type ProgressListener } from '../fixtures/generate.ts';
import { FIXTURES_DIR } from '../fixtures/folder.ts';
import { errorMessage } from '../spec/errors.ts';
import { asGradientCase } from '../fixtures/gradient-catalogue.ts';
import { loadManifest } from '../fixtures/loader.ts';
import { casesOfManifest } from '../fixtures/manifest-cases.ts';
import { VARLEN_FORM, VJP_FORM } from '../fixtures/manifest.ts';
import { GRADIENT_FAMILIES } from '../spec/gradients.ts';
import { fixturesInWorkers } from './fixtures-jobs.ts';

/** The families whose state has a state axis N (--state applies to them). */
const STATE_SIZE_FAMILIES = familiesWhere(hasStateSize);
/** The families whose channels come in heads (--heads applies to them). */
const HEAD_FAMILIES = familiesWhere(hasHeads);
/** The families with rotary angles per head (--angles applies to them). */
const ANGLE_FAMILIES = familiesWhere((family) => hasAxis(family, 'angles'));

/** The families with projection inputs (--B, --C apply to them). */
const PROJECTION_FAMILIES = familiesWhere(hasProjectionLayouts);

/** `item (family, family), item (family)` for the items families have, each item with the families that have it. */
function whoHas(itemsOf: (family: FamilyName) => readonly string[]): string {
  const families = new Map<string, FamilyName[]>();
  for (const family of FAMILY_NAMES) for (const item of itemsOf(family)) families.set(item, [...(families.get(item) ?? []), family]);
  return [...families].map(([item, owners]) => `${item} (${owners.join(', ')})`).join(', ');
}

const HELP = `Usage: scan-conformance fixtures <command> [flags]

Commands
  generate   Write fixtures: the committed catalogue into fixtures/ (npm run fixtures), or, with
             --family, custom cases into --out. Files are written atomically; manifest.json last.
  check      Regenerate the catalogue and compare it with the committed files by SHA-256
             (npm run fixtures:check). Names each differing case, tensor and first differing
             index; exits 1 on any difference and keeps the regenerated set for inspection.
  help       Show this text (also --help).

Flags of generate
  --out DIR               Output folder (gets manifest.json and data/). Default: fixtures/ for the
                          catalogue; required with --family.
  --family NAME           Custom cases of one family: ${FAMILY_NAMES.join(' | ')}.
  --batch N               Batch size (default 1).
  --dim N                 Channels (default 1).
  --state N               State size N, ${STATE_SIZE_FAMILIES.join(' and ')} (default 4).
  --heads H               Heads, ${HEAD_FAMILIES.join(' and ')}: must divide --dim, whose channels they
                          split into heads of --dim / H (default 1).
  --groups G              Groups of a grouped B or C, dividing --dim; with heads, groups of heads
                          sharing B and C, dividing --heads (default 1).
  --angles A              Rotary angles per head, ${ANGLE_FAMILIES.join(' and ')} (default 1).
  --length L[,L...]       Sequence lengths; one case per length (default 1024).
  --regime R[,R...]       Regimes, or 'all' for every regime that applies (default generic):
                          ${REGIME_NAMES.join(', ')}.
  --option KEY=BOOL       A family option, repeatable: ${whoHas((family) => optionEntries(family).map(([name]) => `${name}=true`))}.
  --with NAME[,NAME...]   Optional inputs to include: ${whoHas((family) => OPTIONAL_INPUT_NAMES[family])}.
  --B LAYOUT, --C LAYOUT  ${PROJECTION_FAMILIES.join(', ')} B / C layout: ${PROJECTION_KINDS.join(' | ')}
                          (default time-varying).
  --second-shape NAME     Draw this optional input in its second accepted shape, repeatable: ${whoHas((family) => alternateShapeInputNames(family).map((name) => `${name} as (${descriptorOf(family).inputs.find((i) => i.name === name)?.alternateAxes?.join(', ')})`))};
                          needs --with NAME.
  --form F                forward (default); ${VJP_FORM}: gradient cases, each with a cotangent for every
                          output and the reference VJP's gradients with their scales, replayed
                          through an implementation's vjp (${GRADIENT_FAMILIES.join(', ')}); or ${VARLEN_FORM}: one ssd
                          case whose --length list gives the sequences packed into one row (cut by
                          cuSeqlens, one initial and final state each), replayed through runVarlen.
  --seed S                Seed prefix (default '${CATALOGUE_SEED_PREFIX}'); a case's seedrandom seed is
                          '<S>:<case id>', recorded in its metadata and the manifest.
  --jobs N                Generate in N worker threads (default 1). The files and manifest are
                          byte for byte those of the serial run.
  --quiet                 No progress bar.

Flags of check
  --dir DIR               Check the cases this folder's manifest lists instead (a folder of your own
                          cases from generate --family, or a copy of the catalogue), each generated
                          again and compared byte for byte. Default: the committed catalogue in
                          fixtures/, every case of which its manifest must list.
  --jobs N                Regenerate in N worker threads (default 1).
  --quiet                 No progress bar.

Examples
  npm run fixtures            (in a checkout: scan-conformance fixtures generate)
  npm run fixtures:check      (in a checkout: scan-conformance fixtures check)
  npm run fixtures -- --jobs 2
  scan-conformance fixtures generate --family selective-scan --batch 2 --dim 8 --state 16 \\
      --length 4096 --regime generic --option deltaSoftplus=true --with D,z --seed 42 --out ./my-fixtures

In your own CI (a project that installed scan-conformance), generate fixtures for your shapes,
then replay them with scan-conformance check --fixtures, or read them with any safetensors reader:
  - run: npx scan-conformance fixtures generate --family linear-recurrence --batch 4 --dim 64 \\
      --length 1,1000,65536 --regime all --option reverse=true --with h0 --seed ci --out fixtures-ci
  - run: npx scan-conformance check --impl ./my-kernel.ts --fixtures fixtures-ci
`;

/** Thrown for a bad command line; the message names the flag, what was expected and what came. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Where the command line writes: process.stdout/stderr, or a test's capture. */
export interface CommandOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const PROCESS_OUTPUT: CommandOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Runs the fixtures command line on `argv` (without node and the script path); returns the exit
 * status: 0 done, 1 differences found (check) or failure, 2 usage error.
 */
export async function runFixturesCommand(argv: readonly string[], output: CommandOutput = PROCESS_OUTPUT): Promise<number> {
  try {
    return await main(argv, output);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      output.stderr(`fixtures: ${error.message}\nRun 'scan-conformance fixtures --help' for usage.\n`);
      return 2;
    }
    output.stderr(`fixtures: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

async function main(argv: readonly string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      out: { type: 'string' },
      dir: { type: 'string' },
      family: { type: 'string' },
      batch: { type: 'string' },
      dim: { type: 'string' },
      state: { type: 'string' },
      groups: { type: 'string' },
      heads: { type: 'string' },
      form: { type: 'string' },
      'second-shape': { type: 'string', multiple: true },
      angles: { type: 'string' },
      length: { type: 'string', multiple: true },
      regime: { type: 'string', multiple: true },
      option: { type: 'string', multiple: true },
      with: { type: 'string', multiple: true },
      B: { type: 'string' },
      C: { type: 'string' },
      seed: { type: 'string' },
      jobs: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    output.stdout(HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`expected one command, got ${positionals.join(' ')}`);
  const source = fixturesInWorkers(integerFlag(values, 'jobs', 1, 1));
  const progress = values.quiet ? undefined : progressBar();

  if (command === 'generate') {
    const custom = values.family !== undefined;
    if (!custom) {
      const ignored = (['batch', 'dim', 'state', 'heads', 'groups', 'angles', 'length', 'regime', 'option', 'with', 'B', 'C', 'second-shape', 'form', 'seed'] as const).filter((k) => values[k] !== undefined);
      if (ignored.length > 0) throw new UsageError(`--${ignored[0]}: only with --family (custom cases); the catalogue has fixed sizes and seeds`);
    }
    if (custom && values.out === undefined) throw new UsageError('--out: expected an output folder for custom cases, got none');
    const cases = custom ? customCases(values, output) : catalogue();
    const dir = path.resolve(values.out ?? FIXTURES_DIR);
    const started = performance.now();
    progress?.start(cases.length);
    const summary = await writeFixtures({ dir, cases, source, onProgress: progress?.update }).finally(() => progress?.stop());
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    output.stdout(
      `Wrote ${summary.manifest.cases.length} fixtures (${(summary.totalBytes / 1e6).toFixed(2)} MB) and ${path.join(dir, 'manifest.json')} in ${seconds} s` +
        (summary.removed.length > 0 ? `; removed ${summary.removed.length} stale files` : '') +
        '.\n',
    );
    return 0;
  }

  if (command === 'check') {
    const dir = path.resolve(values.dir ?? FIXTURES_DIR);
    let cases: readonly CatalogueCase[];
    try {
      cases = values.dir === undefined ? catalogue() : casesOfManifest(await loadManifest(dir));
    } catch (error) {
      throw new UsageError(`--dir: expected a fixtures folder with a valid manifest.json, got ${errorMessage(error)}`);
    }
    if (cases.length === 0) {
      // A check of nothing is not a pass.
      output.stderr(`${path.join(dir, 'manifest.json')} lists no case: nothing was checked.\n`);
      return 1;
    }
    const started = performance.now();
    progress?.start(cases.length);
    const report = await checkFixtures({ dir, cases, source, writeRegenerated: true, onProgress: progress?.update }).finally(() => progress?.stop());
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (report.ok) {
      output.stdout(`All ${report.cases} fixtures in ${dir} match a fresh regeneration (${seconds} s).\n`);
      return 0;
    }
    output.stderr(`${report.differences.length} difference(s) between ${dir} and a fresh regeneration:\n`);
    for (const d of report.differences) output.stderr(`  ${d.id} [${d.kind}]: ${d.detail}\n`);
    if (report.regeneratedDir !== undefined) output.stderr(`Regenerated set kept in ${report.regeneratedDir}\n`);
    output.stderr(
      values.dir === undefined
        ? 'Run `npm run fixtures` to regenerate if the change is intended, and commit the result.\n'
        : `If the change is intended (a new version of scan-conformance), generate ${dir} again with the command that made it.\n`,
    );
    return 1;
  }

  throw new UsageError(`expected a command (generate, check, help), got '${command}'`);
}

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** The custom cases the flags describe: lengths × regimes of one family and variant. */
function customCases(values: Flags, output: CommandOutput): CatalogueCase[] {
  const family = values.family as string;
  if (!isFamilyName(family)) throw new UsageError(`--family: expected one of ${FAMILY_NAMES.join(', ')}, got '${family}'`);
  const hasState = hasStateSize(family);
  const batch = integerFlag(values, 'batch', 1, 0);
  const dim = integerFlag(values, 'dim', 1, 0);
  const stateSize = integerFlag(values, 'state', 4, 1);
  const groups = integerFlag(values, 'groups', 1, 1);
  if (!hasState && values.state !== undefined) throw new UsageError(`--state: ${family} has a scalar state; use it with ${STATE_SIZE_FAMILIES.join(' or ')}`);
  const withHeads = hasHeads(family);
  const heads = integerFlag(values, 'heads', 1, 1);
  if (!withHeads && values.heads !== undefined) throw new UsageError(`--heads: ${family} has no heads; use it with ${HEAD_FAMILIES.join(' or ')}`);
  const withAngles = hasAxis(family, 'angles');
  const angles = integerFlag(values, 'angles', 1, 1);
  if (!withAngles && values.angles !== undefined) throw new UsageError(`--angles: ${family} has no rotary angles; use it with ${ANGLE_FAMILIES.join(' or ')}`);
  const lengths = listFlag(values, 'length', ['1024'], true).map((text) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--length: expected non-negative integers, got '${text}'`);
    return n;
  });

  const options = { ...DEFAULT_OPTIONS[family] } as Record<string, boolean>;
  for (const pair of (values.option as string[] | undefined) ?? []) {
    const match = /^([A-Za-z]+)=(true|false)$/.exec(pair);
    if (match === null) throw new UsageError(`--option: expected KEY=true or KEY=false, got '${pair}'`);
    if (!(match[1] in options)) {
      const known = Object.keys(options);
      throw new UsageError(`--option ${match[1]}: ${family} has ${known.length === 0 ? 'no options' : `options ${known.join(', ')}`}`);
    }
    options[match[1]] = match[2] === 'true';
  }

  const optionalInputs: Partial<Record<OptionalInputName, boolean>> = {};
  const known: readonly string[] = OPTIONAL_INPUT_NAMES[family];
  for (const name of known) optionalInputs[name as OptionalInputName] = false;
  for (const name of listFlag(values, 'with', [])) {
    if (!known.includes(name)) {
      throw new UsageError(`--with ${name}: ${family} has ${known.length === 0 ? 'no optional inputs' : `optional inputs ${known.join(', ')}`}`);
    }
    optionalInputs[name as OptionalInputName] = true;
  }

  // ssd and mamba3-siso have B and C inputs too, but of one layout each: a layout only where the spec has several.
  const hasLayouts = hasProjectionLayouts(family);
  const layout = (flag: 'B' | 'C'): ProjectionKind => {
    const value = values[flag];
    if (value === undefined) return 'time-varying';
    if (!hasLayouts) throw new UsageError(`--${flag}: only ${PROJECTION_FAMILIES.join(', ')} ${PROJECTION_FAMILIES.length === 1 ? 'has' : 'have'} B/C layouts, got --family ${family}`);
    if (!(PROJECTION_KINDS as readonly string[]).includes(value as string)) throw new UsageError(`--${flag}: expected one of ${PROJECTION_KINDS.join(', ')}, got '${String(value)}'`);
    return value as ProjectionKind;
  };
  const requestedLayouts = { B: layout('B'), C: layout('C') };
  const layouts = hasLayouts ? requestedLayouts : undefined;

  const withSecondShape: readonly string[] = alternateShapeInputNames(family);
  const alternateShapes = listFlag(values, 'second-shape', []);
  for (const name of alternateShapes) {
    if (!withSecondShape.includes(name)) {
      throw new UsageError(`--second-shape ${name}: ${family} has ${withSecondShape.length === 0 ? 'no input with a second shape' : `a second shape for ${withSecondShape.join(', ')} only`}`);
    }
    if (optionalInputs[name as OptionalInputName] !== true) throw new UsageError(`--second-shape ${name}: expected --with ${name} too (the input is drawn only when it is on)`);
  }
  const variant = {
    options: options as unknown as OptionsOf<FamilyName>,
    optionalInputs,
    ...(layouts && { projections: layouts }),
    ...(alternateShapes.length > 0 && { alternateShapes: [...new Set(alternateShapes)].sort() }),
  } as Variant;

  const requested = listFlag(values, 'regime', ['generic'], true);
  const allRegimes = requested.includes('all');
  const regimes: RegimeName[] = allRegimes ? regimesFor(family).map((r) => r.name) : requested.map((name) => {
    if (!isRegimeName(name)) throw new UsageError(`--regime: expected one of ${REGIME_NAMES.join(', ')} or all, got '${name}'`);
    return name;
  });
  const seed = typeof values.seed === 'string' ? values.seed : CATALOGUE_SEED_PREFIX;
  const form = values.form ?? 'forward';
  if (form !== 'forward' && form !== VJP_FORM && form !== VARLEN_FORM) throw new UsageError(`--form: expected forward, ${VJP_FORM} or ${VARLEN_FORM}, got '${String(form)}'`);
  if (form === VJP_FORM && !GRADIENT_FAMILIES.includes(family)) throw new UsageError(`--form ${VJP_FORM}: the spec defines gradients for ${GRADIENT_FAMILIES.join(', ')}, not ${family}`);
  if (form === VARLEN_FORM) {
    if (family !== 'ssd') throw new UsageError(`--form ${VARLEN_FORM}: only ssd has a variable-length form (runVarlen), got --family ${family}`);
    if (values.batch !== undefined) throw new UsageError(`--batch: not with --form ${VARLEN_FORM}, whose rows are the sequences --length lists`);
    if ((optionalInputs as Readonly<Record<string, boolean | undefined>>).seqIdx === true) throw new UsageError(`--with seqIdx: not with --form ${VARLEN_FORM}, where cuSeqlens cuts the sequences`);
  }
  // The forward and gradient forms make a case per length; the varlen form one case of all the lengths.
  const rowLengthsOfCases = form === VARLEN_FORM ? [lengths] : lengths.map((length) => [length]);

  const cases: CatalogueCase[] = [];
  for (const regime of regimes) {
    for (const rowLengths of rowLengthsOfCases) {
      const rows = form === VARLEN_FORM ? rowLengths.length : batch;
      const dims = { batch: rows, dim, length: Math.max(...rowLengths), ...(hasState && { stateSize }), groups, ...(withHeads && { heads }), ...(withAngles && { angles }) };
      const forward = makeCase(family, regime, dims, variant, seed);
      const c =
        form === VJP_FORM ? asGradientCase(forward, seed) : form === VARLEN_FORM ? asVarlenCase(forward as CatalogueCase<'ssd'>, variant as Variant<'ssd'>, rowLengths, seed) : forward;
      let why: string | undefined;
      try {
        why = regimeRestriction(c.request as SampleRequest);
      } catch (error) {
        if (error instanceof SampleRequestError) throw new UsageError(error.message);
        throw error;
      }
      if (why !== undefined) {
        // With 'all', regimes that cannot take these options are skipped (and said so); named ones are an error.
        if (allRegimes) {
          output.stderr(`Skipping ${c.id}: ${why}\n`);
          continue;
        }
        throw new UsageError(`--regime ${regime}: cannot generate ${c.id}: ${why}`);
      }
      cases.push(c);
    }
  }
  if (cases.length === 0) throw new UsageError('no case to generate: every requested regime was skipped');
  return cases;
}

function integerFlag(values: Flags, name: string, fallback: number, min: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got '${String(raw)}'`);
  return n;
}

/** A repeatable, comma-separated flag's values; with `nonEmpty`, a UsageError when it names none (`--length ,`). */
function listFlag(values: Flags, name: string, fallback: string[], nonEmpty = false): string[] {
  const raw = values[name] as string[] | undefined;
  if (raw === undefined) return fallback;
  const items = raw.flatMap((item) => item.split(',')).filter((item) => item.length > 0);
  if (nonEmpty && items.length === 0) throw new UsageError(`--${name}: expected one or more comma-separated values, got '${raw.join(' ')}'`);
  return items;
}

/** A progress bar on stderr (cli-progress draws only on a terminal). */
function progressBar(): { start(total: number): void; update: ProgressListener; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {percentage}% | {value}/{total} | {id}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0, { id: '' }),
    update: (done, _total, id) => bar.update(done, { id }),
    stop: () => bar.stop(),
  };
}

// Run when executed as a script (tsx scripts/fixtures.ts …, still supported), not when imported by the CLI or a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runFixturesCommand(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
