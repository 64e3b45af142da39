/**
 * The command line of scan-conformance, parsed and checked: every bad flag is a UsageError that
 * names the flag, what was expected and what came (the CLI exits 2 with it).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../protocol/process-implementation.ts';
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import { PROPERTY_NAMES, type PropertyName } from '../suite/results.ts';
import { DEFAULT_CELL_TIME_LIMIT_MS, DEFAULT_REPORT_DIR, DEFAULT_RUN_TIMEOUT_MS, DEFAULT_SEED, ENVIRONMENT, MODES } from '../suite/settings.ts';
import { parseShardSpec, type ShardSpec } from '../suite/shard-spec.ts';
import { errorMessage } from '../spec/errors.ts';

/** A usage error: the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads settings from the environment; a malformed variable (a RangeError naming it) is a usage error, as a malformed flag is. */
export function fromEnvironment<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, unexpectedFailure: 1, usage: 2 } as const;

/** Where the CLI writes: injectable for tests. */
export interface CliStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream | NodeJS.WritableStream;
}

/** What check and browser share: which implementations, families and properties, and how hard to run them. */
export interface RunSelection {
  readonly testeeCommands: readonly string[];
  readonly all: boolean;
  readonly only: readonly string[];
  readonly families?: readonly FamilyName[];
  readonly properties?: readonly PropertyName[];
  readonly runs?: number;
  readonly seed?: number;
  readonly maxLength?: number;
  readonly timeoutMs?: number;
  /** Time limit of one cell's property search in ms; 0: none. */
  readonly cellTimeLimitMs?: number;
  /** Let a run that checked nothing (no cell ran a case) exit 0. */
  readonly allowEmpty?: boolean;
  readonly out: string;
}

/** What `scan-conformance check` was asked to do. */
export interface CheckArguments extends RunSelection {
  readonly command: 'check';
  readonly impl: readonly string[];
  readonly path?: string;
  readonly deep: boolean;
  /** Fixtures folders (replayed in order), the committed fixtures (undefined), or none (false). */
  readonly fixtures?: readonly string[] | false;
  readonly fixtureIds?: readonly string[];
  /** Counterexample or fixture files (--case) to replay against their expected outputs, instead of any fixtures folder. */
  readonly cases?: readonly string[];
  /** Run only shard i of n of the run's cells (suite/shard-plan.ts). */
  readonly shard?: ShardSpec;
  /** With --shard: write the shard's report.json here instead of report.json, .md and .html into --out (what --jobs children do). */
  readonly shardFile?: string;
  /** An earlier report.json whose cell timings balance the split. */
  readonly timings?: string;
  /** Shards run as child processes and merged (1: in this process); undefined: the default (suite/settings.ts defaultJobs). */
  readonly jobs?: number;
  /** The command line's flags as given (what --jobs passes on to its children). */
  readonly argv: readonly string[];
}

/** What `scan-conformance merge` was asked to do. */
export interface MergeArguments {
  readonly command: 'merge';
  /** Every shard's report.json. */
  readonly files: readonly string[];
  readonly out: string;
  /** Merge without some shards: their cells become error cells (the verdict fails), instead of a refusal. */
  readonly allowIncomplete: boolean;
}

/** What `scan-conformance list` was asked to do. */
export interface ListArguments {
  readonly command: 'list';
  readonly impl: readonly string[];
  readonly testeeCommands: readonly string[];
  readonly all: boolean;
  /** --only: the names to list (all when empty). */
  readonly only: readonly string[];
}

/** What `scan-conformance browser` was asked to do. */
export interface BrowserArguments extends RunSelection {
  readonly command: 'browser';
  /** Drive headless Chromium, write the reports, exit as check does. */
  readonly headless: boolean;
  /** The Chromium executable (default DEFAULT_CHROMIUM, browser/chromium.ts). */
  readonly browser?: string;
  /** Implementation modules for the page: local ES module files or URLs. Testee commands are listed as unavailable (a page cannot start a process). */
  readonly implementations: readonly string[];
  readonly fixtures: boolean;
  /** 0: any free port. */
  readonly port: number;
}

/** `scan-conformance fixtures …`: the rest of the command line goes to the fixtures command (scripts/fixtures.ts). */
export interface FixturesArguments {
  readonly command: 'fixtures';
  readonly argv: readonly string[];
}

/** `scan-conformance sweep …`: the rest of the command line goes to the deep sweep (scripts/sweep.ts). */
export interface SweepCommandArguments {
  readonly command: 'sweep';
  readonly argv: readonly string[];
}

/** A parsed command line. */
export type CliArguments = CheckArguments | ListArguments | BrowserArguments | MergeArguments | FixturesArguments | SweepCommandArguments | { readonly command: 'help' } | { readonly command: 'version' };

/** The text of --help. */
export const HELP = `Usage: scan-conformance <command> [flags]

Commands
  check      Run implementations through the fixtures and every property; write reports.
  list       List the implementations check would run: precision, families, error model, step, vjp.
  merge      Merge the report.json of every shard of a run (check --shard i/n) into one report:
             scan-conformance merge <report.json…> --out <dir> [--allow-incomplete].
  browser    Serve a page that runs the suite in a browser on navigator.gpu (the shipped WGSL
             implementations and --implementation modules); with --headless, drive headless
             Chromium, write the reports and exit as check does.
  fixtures   Generate fixtures (the catalogue, or cases for your own shapes) or check them:
             'scan-conformance fixtures --help' lists its flags.
  sweep      Deep runs on many seeds (default 1 to 20), one check --deep per implementation and
             seed, several at once, resumable: 'scan-conformance sweep --help' lists its flags.
  help       Show this text (also --help, -h).
  version    Print the version (also --version).

Which implementations (check and list)
  --impl <module path>     A module (TypeScript or JavaScript) exporting a ScanImplementation or an
                           array of them as default export (or named 'implementation(s)'). Repeatable.
  --command "<command>"    A testee program speaking the testee protocol (spec/protocol.md). Repeatable.
  --all                    With --impl/--command, also run the registered implementations.
                           Without --impl/--command, every registered implementation runs.
  --only <name>            Only the implementation with this name. Repeatable.

What to run (check)
  --family <family>        Only this family (${FAMILY_NAMES.join(', ')}). Repeatable.
  --property <property>    Only this property (${PROPERTY_NAMES.join(', ')}). Repeatable.
  --runs <n>               fast-check runs per cell (default ${MODES.quick.runs} quick, ${MODES.deep.runs} deep; ${ENVIRONMENT.runs}).
  --seed <s>               fast-check seed (default ${DEFAULT_SEED}; ${ENVIRONMENT.seed}).
  --path <p>               fast-check path: with --seed, replays one shrunk counterexample.
  --deep                   Deep mode: many more runs and lengths up to ${MODES.deep.maxLength} (${ENVIRONMENT.deep}=1).
  --max-length <L>         Longest generated length (default ${MODES.quick.maxLength} quick, ${MODES.deep.maxLength} deep).
  --timeout <ms>           Time limit of one run or step call (default ${DEFAULT_RUN_TIMEOUT_MS}; a testee's own request timeout, ${DEFAULT_REQUEST_TIMEOUT_MS} by default, is set to it).
  --cell-time-limit <ms>   Time limit of one cell's search for a counterexample (default ${DEFAULT_CELL_TIME_LIMIT_MS}; 0: none;
                           ${ENVIRONMENT.cellTimeLimit}). A cell cut by it passes on the cases it ran; the report lists it.
  --fixtures <dir>         Replay the fixtures of this folder (default: the committed fixtures).
                           Repeatable: several folders are replayed in turn; the report lists them.
  --fixture <id>           Replay only this fixture case. Repeatable.
  --no-fixtures            Do not replay fixtures.
  --case <file>            Replay exactly this case file (a counterexample written under
                           <out>/counterexamples/, or a fixture file) against its expected outputs.
                           Repeatable; replaces the fixtures folders and the generated properties.
  --out <dir>              Where report.json, report.md and report.html go (default ${DEFAULT_REPORT_DIR}/);
                           failing counterexamples go to <out>/counterexamples/.
  --allow-empty            Exit 0 even when nothing was checked (no cell, or every case declined).

Sharding (check)
  --jobs <n>               Run the cells as n shards in n child processes and merge their reports
                           (default: the number of cores, ${ENVIRONMENT.jobs} over it; 1: in this process).
                           The report is the one a single process writes.
  --shard <i/n>            Run only shard i of n: a deterministic split of the cells (a fixtures
                           cell by case) balanced by cost; report.json keeps what merge needs.
                           A shard given no cell checks nothing, and fails as such unless --allow-empty.
  --timings <report.json>  Balance the split by the cell timings of an earlier report (default:
                           by case sizes; --jobs uses <out>/report.json when there is one).
                           Every shard of a run must be given the same file.
  --shard-file <file>      With --shard: write the shard's report.json to this file only.

The browser command
  --headless               Drive headless Chromium (playwright-core) instead of waiting for a browser.
  --browser <path>         The Chromium executable (default /usr/bin/chromium).
  --implementation <m>     An ES module (a local .js/.mjs file, served with its folder, or a URL)
                           exporting implementations for the page. Repeatable.
  --port <n>               The server's port on 127.0.0.1 (default: any free port).
  Also --only, --family, --property, --runs, --seed, --max-length, --timeout, --cell-time-limit, --no-fixtures,
  --out, --allow-empty and --command (listed as unavailable: a page cannot start a process).

Exit code: 0 when there is no unexpected failure, 1 when there is one (a run that checked nothing
counts as one), 2 for a usage error or an invalid implementation.
Environment: ${ENVIRONMENT.requireWebgpu}=1 or ${ENVIRONMENT.requireAvailable}=1 make an unavailable
implementation a failure; ${ENVIRONMENT.stepSummary}, when set, gets report.md appended.

Examples
  scan-conformance check --impl ./my-kernel.ts
  scan-conformance check --command "python3 my_testee.py" --family selective-scan --runs 50
  scan-conformance check --only sequential-f32 --family prefix-sum --property scaling --seed 42 --path "3:1"
  scan-conformance check --impl ./my-kernel.ts --case reports/counterexamples/my-kernel-prefix-sum-conformance.safetensors
  scan-conformance check --shard 2/3 --out reports/shard-2
  scan-conformance merge reports/shard-*/report.json --out reports
  scan-conformance fixtures generate --family prefix-sum --length 1,1000 --out fixtures-ci
  scan-conformance browser --headless --only webgpu-f32 --family prefix-sum
  scan-conformance sweep --impl ./my-kernel.ts --seeds 1-20 --jobs 2
`;

/** parseArgs' option table. */
type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The flags check and browser share: what to run (RunSelection) and how hard. */
const SELECTION_FLAGS = {
  command: { type: 'string', multiple: true },
  only: { type: 'string', multiple: true },
  family: { type: 'string', multiple: true },
  property: { type: 'string', multiple: true },
  runs: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  timeout: { type: 'string' },
  'cell-time-limit': { type: 'string' },
  'max-length': { type: 'string' },
  // Its own switch rather than parseArgs' allowNegative, which Node 20 before 20.16 ignores.
  'no-fixtures': { type: 'boolean' },
  all: { type: 'boolean' },
  'allow-empty': { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

/** The flags of each command, as node:util parseArgs options: repeatable flags are `multiple`. */
const FLAGS = {
  check: {
    impl: { type: 'string', multiple: true },
    ...SELECTION_FLAGS,
    path: { type: 'string' },
    fixtures: { type: 'string', multiple: true },
    fixture: { type: 'string', multiple: true },
    case: { type: 'string', multiple: true },
    deep: { type: 'boolean' },
    jobs: { type: 'string' },
    shard: { type: 'string' },
    'shard-file': { type: 'string' },
    timings: { type: 'string' },
  },
  list: {
    impl: { type: 'string', multiple: true },
    command: { type: 'string', multiple: true },
    only: { type: 'string', multiple: true },
    all: { type: 'boolean' },
  },
  browser: {
    headless: { type: 'boolean' },
    browser: { type: 'string' },
    implementation: { type: 'string', multiple: true },
    ...SELECTION_FLAGS,
    port: { type: 'string' },
  },
} as const satisfies Record<'check' | 'list' | 'browser', ParseArgsOptionsConfig>;

/** --help and -h, accepted by every command. */
const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const satisfies ParseArgsOptionsConfig;

function integer(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag}: expected ${min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer'}, got '${text}'`);
  }
  return n;
}

/**
 * The flags of one command, tokenised by parseArgs and checked token by token, in command-line
 * order. parseArgs' strict mode is not used: it refuses a negative number after a flag
 * (`--seed -7`) and its messages do not say what was expected; these checks do both.
 */
function parseFlags(command: 'check' | 'list' | 'browser', argv: readonly string[]): { readonly help: true } | { readonly help: false; readonly values: ReadonlyMap<string, readonly string[]>; readonly switches: ReadonlySet<string> } {
  const flags: ParseArgsOptionsConfig = FLAGS[command];
  const { tokens } = parseArgs({ args: [...argv], options: { ...flags, ...HELP_FLAG }, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`${command}: expected a flag (--name), got '${token.value}'`);
    if (token.kind === 'option-terminator') throw new UsageError(`${command}: expected a flag (--name), got '--'`);
    if (token.name === 'help') {
      if (token.value !== undefined) throw new UsageError(`--help: expected no value, got '${token.value}'`);
      return { help: true };
    }
    if (!token.rawName.startsWith('--')) throw new UsageError(`${command}: expected a flag (--name), got '${token.rawName}'`);
    const spec = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (spec === undefined) {
      throw new UsageError(`${command}: unknown flag '--${token.name}'; expected one of ${Object.keys(flags).map((f) => `--${f}`).join(', ')}`);
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`--${token.name}: expected no value, got '${token.value}'`);
      switches.add(token.name);
      continue;
    }
    // parseArgs takes the next word as the value whatever it is; a flag there means the value is missing.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`--${token.name}: expected a value, got ${token.value === undefined ? 'the end of the command line' : `'${token.value}'`}`);
    }
    values.set(token.name, [...(values.get(token.name) ?? []), token.value]);
  }
  for (const [flag, list] of values) {
    if (flags[flag]?.multiple !== true && list.length > 1) {
      throw new UsageError(`--${flag}: expected at most one value, got ${list.length} (${list.map((v) => `'${v}'`).join(', ')})`);
    }
  }
  return { help: false, values, switches };
}

/** Parses argv (without node and the script). */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'version' || command === '--version') return { command: 'version' };
  if (command === 'fixtures' || command === 'sweep') return { command, argv: rest };
  if (command === 'merge') return parseMergeArguments(rest);
  if (command !== 'check' && command !== 'list' && command !== 'browser') {
    throw new UsageError(`command: expected one of check, list, browser, merge, fixtures, sweep, help, version, got '${command}'`);
  }
  const parsed = parseFlags(command, rest);
  if (parsed.help) return { command: 'help' };
  const { values, switches } = parsed;
  const all = (flag: string): string[] => [...(values.get(flag) ?? [])];
  const single = (flag: string): string | undefined => values.get(flag)?.[0];
  if (command === 'browser') return browserArguments(all, single, switches);
  const common = { impl: all('impl'), testeeCommands: all('command'), all: switches.has('all') };
  for (const [flag, list] of [['impl', common.impl], ['command', common.testeeCommands]] as const) {
    for (const v of list) if (v.trim() === '') throw new UsageError(`--${flag}: expected a non-empty value, got ''`);
  }
  if (command === 'list') return { command, ...common, only: all('only') };

  const families = familiesOf(all('family'));
  const properties = propertiesOf(all('property'));
  const fixturesDirs = all('fixtures');
  for (const dir of fixturesDirs) if (dir.trim() === '') throw new UsageError(`--fixtures: expected a folder, got ''`);
  if (fixturesDirs.length > 0 && switches.has('no-fixtures')) throw new UsageError(`--fixtures: expected either --fixtures <dir> or --no-fixtures, got both`);
  const fixtureIds = all('fixture');
  if (fixtureIds.length > 0 && switches.has('no-fixtures')) throw new UsageError(`--fixture: expected fixtures to replay, got --no-fixtures too`);
  const cases = all('case');
  for (const file of cases) if (file.trim() === '') throw new UsageError(`--case: expected a .safetensors file, got ''`);
  if (cases.length > 0) {
    const clash = fixturesDirs.length > 0 ? '--fixtures' : fixtureIds.length > 0 ? '--fixture' : switches.has('no-fixtures') ? '--no-fixtures' : undefined;
    if (clash !== undefined) throw new UsageError(`--case: expected the case file(s) alone (a case replaces the fixtures folders), got ${clash} too`);
    const others = properties.filter((p) => p !== 'fixtures');
    if (others.length > 0) throw new UsageError(`--case: expected no --property (a case is replayed against its expected outputs), got --property ${others[0]}`);
  }
  const out = single('out') ?? DEFAULT_REPORT_DIR;
  if (out.trim() === '') throw new UsageError(`--out: expected a folder, got ''`);
  const runs = single('runs');
  const seed = single('seed');
  const timeout = single('timeout');
  const cellTimeLimit = single('cell-time-limit');
  const maxLength = single('max-length');
  const path = single('path');
  if (path !== undefined && !/^\d+(:\d+)*$/.test(path)) throw new UsageError(`--path: expected a fast-check path such as '3:1:0', got '${path}'`);
  if (path !== undefined && seed === undefined) throw new UsageError(`--path: expected --seed too (a path replays a counterexample of one seed), got --path alone`);
  const jobs = single('jobs');
  const shardText = single('shard');
  let shard: ShardSpec | undefined;
  if (shardText !== undefined) {
    try {
      shard = parseShardSpec(shardText);
    } catch (error) {
      throw new UsageError(`--shard: ${errorMessage(error)}`);
    }
  }
  if (shard !== undefined && jobs !== undefined) throw new UsageError(`--jobs: expected either --jobs (shards in child processes) or --shard (one shard), got both`);
  const shardFile = single('shard-file');
  if (shardFile !== undefined && shard === undefined) throw new UsageError(`--shard-file: expected --shard i/n too, got --shard-file alone`);
  if (shardFile !== undefined && shardFile.trim() === '') throw new UsageError(`--shard-file: expected a file, got ''`);
  const timings = single('timings');
  if (timings !== undefined && timings.trim() === '') throw new UsageError(`--timings: expected an earlier report.json, got ''`);
  return {
    command,
    ...common,
    only: all('only'),
    ...(families.length > 0 && { families }),
    ...(properties.length > 0 && { properties }),
    ...(runs !== undefined && { runs: integer('runs', runs, 1) }),
    ...(seed !== undefined && { seed: integer('seed', seed, Number.MIN_SAFE_INTEGER) }),
    ...(path !== undefined && { path }),
    deep: switches.has('deep'),
    ...(switches.has('allow-empty') && { allowEmpty: true }),
    out,
    ...(switches.has('no-fixtures') ? { fixtures: false as const } : fixturesDirs.length > 0 ? { fixtures: fixturesDirs } : {}),
    ...(fixtureIds.length > 0 && { fixtureIds }),
    ...(cases.length > 0 && { cases }),
    ...(timeout !== undefined && { timeoutMs: integer('timeout', timeout, 1) }),
    ...(cellTimeLimit !== undefined && { cellTimeLimitMs: integer('cell-time-limit', cellTimeLimit, 0) }),
    ...(maxLength !== undefined && { maxLength: integer('max-length', maxLength, 0) }),
    ...(shard !== undefined && { shard }),
    ...(shardFile !== undefined && { shardFile }),
    ...(timings !== undefined && { timings }),
    ...(jobs !== undefined && { jobs: integer('jobs', jobs, 1) }),
    argv: rest,
  };
}

/** Parses `merge <report.json…> --out <dir> [--allow-incomplete]`. */
function parseMergeArguments(argv: readonly string[]): MergeArguments | { readonly command: 'help' } {
  const options = { out: { type: 'string' }, 'allow-incomplete': { type: 'boolean' }, ...HELP_FLAG } as const satisfies ParseArgsOptionsConfig;
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const files: string[] = [];
  let out: string | undefined;
  let allowIncomplete = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      files.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    if (token.name === 'help') return { command: 'help' };
    if (token.name === 'allow-incomplete') {
      if (token.value !== undefined) throw new UsageError(`--allow-incomplete: expected no value, got '${token.value}'`);
      allowIncomplete = true;
      continue;
    }
    if (token.name !== 'out') throw new UsageError(`merge: unknown flag '${token.rawName}'; expected report.json files, --out <dir> and --allow-incomplete`);
    if (token.value === undefined || token.value.trim() === '' || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`--out: expected a folder, got ${token.value === undefined ? 'the end of the command line' : `'${token.value}'`}`);
    }
    if (out !== undefined) throw new UsageError(`--out: expected at most one value, got '${out}' and '${token.value}'`);
    out = token.value;
  }
  if (files.length === 0) throw new UsageError(`merge: expected the report.json of every shard, got none`);
  return { command: 'merge', files, out: out ?? DEFAULT_REPORT_DIR, allowIncomplete };
}

/** The families of --family, checked. */
function familiesOf(list: readonly string[]): FamilyName[] {
  return list.map((f) => {
    if (!(FAMILY_NAMES as readonly string[]).includes(f)) throw new UsageError(`--family: expected one of ${FAMILY_NAMES.join(', ')}, got '${f}'`);
    return f as FamilyName;
  });
}

/** The properties of --property, checked. */
function propertiesOf(list: readonly string[]): PropertyName[] {
  return list.map((p) => {
    if (!(PROPERTY_NAMES as readonly string[]).includes(p)) throw new UsageError(`--property: expected one of ${PROPERTY_NAMES.join(', ')}, got '${p}'`);
    return p as PropertyName;
  });
}

/** `scan-conformance browser`'s flags, checked. */
function browserArguments(all: (flag: string) => string[], single: (flag: string) => string | undefined, switches: ReadonlySet<string>): BrowserArguments {
  const implementations = all('implementation');
  for (const m of implementations) {
    if (m.trim() === '') throw new UsageError(`--implementation: expected an ES module file or URL, got ''`);
    if (!/^https?:\/\//.test(m) && !/\.m?js$/.test(m)) {
      throw new UsageError(`--implementation: expected a JavaScript ES module (a .js or .mjs file, which the browser imports as is, or an http(s) URL), got '${m}'`);
    }
  }
  const testeeCommands = all('command');
  for (const c of testeeCommands) if (c.trim() === '') throw new UsageError(`--command: expected a non-empty value, got ''`);
  const browser = single('browser');
  if (browser !== undefined && browser.trim() === '') throw new UsageError(`--browser: expected the path of a Chromium executable, got ''`);
  const out = single('out') ?? DEFAULT_REPORT_DIR;
  if (out.trim() === '') throw new UsageError(`--out: expected a folder, got ''`);
  const port = single('port');
  const portNumber = port === undefined ? 0 : integer('port', port, 0);
  if (portNumber > 65535) throw new UsageError(`--port: expected a port number from 0 to 65535, got '${port}'`);
  const families = familiesOf(all('family'));
  const properties = propertiesOf(all('property'));
  const runs = single('runs');
  const seed = single('seed');
  const maxLength = single('max-length');
  const timeout = single('timeout');
  const cellTimeLimit = single('cell-time-limit');
  return {
    command: 'browser',
    headless: switches.has('headless'),
    ...(browser !== undefined && { browser }),
    implementations,
    testeeCommands,
    all: switches.has('all'),
    only: all('only'),
    ...(families.length > 0 && { families }),
    ...(properties.length > 0 && { properties }),
    ...(runs !== undefined && { runs: integer('runs', runs, 1) }),
    ...(seed !== undefined && { seed: integer('seed', seed, Number.MIN_SAFE_INTEGER) }),
    ...(maxLength !== undefined && { maxLength: integer('max-length', maxLength, 0) }),
    ...(timeout !== undefined && { timeoutMs: integer('timeout', timeout, 1) }),
    ...(cellTimeLimit !== undefined && { cellTimeLimitMs: integer('cell-time-limit', cellTimeLimit, 0) }),
    fixtures: !switches.has('no-fixtures'),
    out,
    port: portNumber,
    ...(switches.has('allow-empty') && { allowEmpty: true }),
  };
}
