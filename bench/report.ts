/**
 * The benchmark report: throughput (elements = batch·dim·N·L recurrence steps per second, from the
 * median latency), the ratio to sequential-f32 of the same run, reference()'s own throughput on the
 * same shapes (linear recurrence, ssd), the baselines, the crossover grid, as JSON and Markdown.
 */
import os from 'node:os';
import { PLAIN_LOOP, REFERENCE } from './baseline-names.ts';
import type { BenchCase } from './cases.ts';
import { elementsOf } from './cases.ts';
import type { ImplementationRun, ModuleFailure } from './orchestrate.ts';
import type { CaseOutcome } from './protocol.ts';
import { SINGLE_CALL_OVER_MS } from './measure.ts';

/** The implementation every ratio is taken against. */
export const RATIO_BASE = 'sequential-f32';

/** One case's row for one implementation. */
export interface CaseResult {
  readonly outcome: CaseOutcome;
  readonly elementsPerSecond: number | undefined;
  readonly ratioToSequentialF32: number | undefined;
}

/** The whole report (reports/bench.json). */
export interface BenchReport {
  readonly generatedAt: string;
  readonly command: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly definitions: Readonly<Record<string, string>>;
  readonly cases: readonly (BenchCase & { readonly elements: number })[];
  readonly implementations: readonly {
    readonly name: string;
    readonly precision: string;
    readonly description: string;
    readonly status: string;
    readonly labels: readonly string[];
    readonly environment: Readonly<Record<string, string>>;
    readonly peakRssMiB: number | undefined;
    readonly idleRssMiB: number | undefined;
    readonly notes: readonly string[];
    readonly results: Readonly<Record<string, CaseResult>>;
  }[];
  readonly moduleFailures: readonly ModuleFailure[];
  /** reference() timed by the baselines' child on the one-channel linear recurrence and the ssd cases, by case id. */
  readonly reference: {
    readonly peakRssMiB: number | undefined;
    readonly notes: readonly string[];
    readonly results: Readonly<Record<string, CaseResult>>;
  };
  readonly baselines: Readonly<Record<string, unknown>>;
  readonly targets: readonly { readonly target: string; readonly measured: string; readonly met: boolean | undefined }[];
}

/** Labels from an implementation's environment: a software GPU adapter is "CPU emulation". */
export function labelsOf(environment: Readonly<Record<string, string>>): string[] {
  const software = /llvmpipe|lavapipe|swiftshader|softpipe/i;
  const emulated = environment.emulated === 'true' || Object.values(environment).some((v) => software.test(v));
  return emulated ? ['CPU emulation'] : [];
}

function throughput(c: BenchCase, outcome: CaseOutcome | undefined): number | undefined {
  return outcome?.status === 'ok' && outcome.medianMs > 0 ? elementsOf(c) / (outcome.medianMs / 1000) : undefined;
}

/** The machine the numbers came from; `loadAtStart` is os.loadavg() when the run began (a shared machine skews timings). */
export function machineFacts(loadAtStart: readonly number[] = []): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    logicalCpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: loadAtStart.map((x) => x.toFixed(2)).join(' '),
    loadAverageAtEnd: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

/** Assembles the report from the runs. */
export function buildReport(
  cases: readonly BenchCase[],
  runs: readonly ImplementationRun[],
  baselineRun: ImplementationRun | undefined,
  failures: readonly ModuleFailure[],
  command: string,
  loadAtStart: readonly number[] = [],
): BenchReport {
  const base = runs.find((r) => r.name === RATIO_BASE);
  // Outcomes keyed by `${prefix}${case id}` (the baselines' child names its timings `reference/<id>`).
  const resultsOf = (outcomes: Readonly<Record<string, CaseOutcome>>, prefix = ''): Record<string, CaseResult> => {
    const results: Record<string, CaseResult> = {};
    for (const c of cases) {
      const outcome = outcomes[`${prefix}${c.id}`];
      if (outcome === undefined) continue;
      const eps = throughput(c, outcome);
      const baseEps = throughput(c, base?.outcomes[c.id]);
      results[c.id] = { outcome, elementsPerSecond: eps, ratioToSequentialF32: eps !== undefined && baseEps !== undefined ? eps / baseEps : undefined };
    }
    return results;
  };
  const implementations = runs.map((run) => {
    const results = resultsOf(run.outcomes);
    return {
      name: run.name,
      precision: run.precision,
      description: run.description,
      status: run.status,
      labels: labelsOf(run.environment),
      environment: run.environment,
      peakRssMiB: run.peakRssMiB,
      idleRssMiB: run.idleRssMiB,
      notes: run.notes,
      results,
    };
  });

  const lrCase = cases.find((c) => c.family === 'linear-recurrence' && !c.crossover && !c.backward && c.batch * c.dim === 1);
  const lrBackward = cases.find((c) => c.family === 'linear-recurrence' && c.backward);
  const baselines: Record<string, unknown> = {};
  const targets: { target: string; measured: string; met: boolean | undefined }[] = [];
  if (lrCase !== undefined && baselineRun !== undefined) {
    const plain = throughput(lrCase, baselineRun.outcomes[`${PLAIN_LOOP}/${lrCase.id}`]);
    const ref = throughput(lrCase, baselineRun.outcomes[`${REFERENCE}/${lrCase.id}`]);
    const seq64 = throughput(lrCase, runs.find((r) => r.name === 'sequential-f64')?.outcomes[lrCase.id]);
    baselines.case = lrCase.id;
    baselines.plainFloat64LoopElementsPerSecond = plain;
    baselines.referenceElementsPerSecond = ref;
    baselines.sequentialF64ElementsPerSecond = seq64;
    baselines.referenceToPlain = plain !== undefined && ref !== undefined ? ref / plain : undefined;
    baselines.sequentialF64ToPlain = plain !== undefined && seq64 !== undefined ? seq64 / plain : undefined;
    const r = baselines.referenceToPlain as number | undefined;
    targets.push({ target: `reference() ≥ 0.3× plain Float64Array loop (${lrCase.id})`, measured: r === undefined ? 'not measured' : `${r.toFixed(3)}×`, met: r === undefined ? undefined : r >= 0.3 });
  }
  if (lrCase !== undefined) {
    for (const name of ['parallel-scan/chunked-threads-f32', 'parallel-scan/chunked-threads-f64']) {
      const ratio = implementations.find((i) => i.name === name)?.results[lrCase.id]?.ratioToSequentialF32;
      targets.push({ target: `${name} ≥ 1.6× ${RATIO_BASE} (${lrCase.id})`, measured: ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}×`, met: ratio === undefined ? undefined : ratio >= 1.6 });
    }
  }
  // The backward has no target of its own: its threads-vs-sequential ratio is reported, met '—'.
  if (lrBackward !== undefined) {
    for (const name of ['parallel-scan/chunked-threads-f32', 'parallel-scan/chunked-threads-f64']) {
      const ratio = implementations.find((i) => i.name === name)?.results[lrBackward.id]?.ratioToSequentialF32;
      targets.push({ target: `${name} backward × ${RATIO_BASE} backward (${lrBackward.id}, no target)`, measured: ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}×`, met: undefined });
    }
  }

  return {
    generatedAt: new Date().toISOString(),
    command,
    machine: machineFacts(loadAtStart),
    definitions: {
      elements: 'batch·dim·N·L recurrence steps (N = 1 for prefix-sum and linear-recurrence; ssd: dim = H·P, so batch·H·P·N·L state-steps)',
      elementsPerSecond: 'elements / median latency of one run() call (tinybench: warm-up, then samples)',
      ratioToSequentialF32: `elements per second / those of ${RATIO_BASE} on the same case in the same run`,
      peakRssMiB: 'process.resourceUsage().maxRSS of the child process(es) that ran only this implementation (inputs, outputs, scratch, runtime), reported after every case; a case cut off by a kill adds nothing after its last report',
      idleRssMiB: 'RSS of that child before loading the implementation (the harness and runtime share of the peak)',
      reference: `reference() (double-double) on the same problem, in the baselines child: sampled like an implementation, or, when a call on a shortened case predicts a call past ${SINGLE_CALL_OVER_MS / 1000} s, one timed call after that one (samples 1)`,
    },
    cases: cases.map((c) => ({ ...c, elements: elementsOf(c) })),
    implementations,
    moduleFailures: failures,
    reference: { peakRssMiB: baselineRun?.peakRssMiB, notes: baselineRun?.notes ?? [], results: baselineRun === undefined ? {} : resultsOf(baselineRun.outcomes, `${REFERENCE}/`) },
    baselines,
    targets,
  };
}

function fmt(x: number | undefined, digits = 1): string {
  return x === undefined ? '—' : x.toFixed(digits);
}

function cell(result: CaseResult | undefined): { ms: string; meps: string; ratio: string; samples: string; note: string } {
  if (result === undefined) return { ms: '—', meps: '—', ratio: '—', samples: '—', note: 'not run' };
  const o = result.outcome;
  if (o.status !== 'ok') return { ms: '—', meps: '—', ratio: '—', samples: '—', note: `${o.status}: ${o.reason.replace(/\|/g, '/').slice(0, 160)}` };
  return {
    ms: fmt(o.medianMs, o.medianMs < 10 ? 3 : 1),
    meps: fmt(result.elementsPerSecond === undefined ? undefined : result.elementsPerSecond / 1e6, 1),
    ratio: fmt(result.ratioToSequentialF32, 2),
    samples: String(o.samples),
    note: '',
  };
}

/** The report as Markdown. */
export function reportMarkdown(report: BenchReport): string {
  const lines: string[] = ['# Benchmark', '', `Generated ${report.generatedAt} by \`${report.command}\`.`, ''];
  lines.push('Machine: ' + Object.entries(report.machine).map(([k, v]) => `${k} ${v}`).join('; ') + '.', '');
  lines.push(`Elements = ${report.definitions.elements}; Melem/s from the median; × seq-f32 = ${report.definitions.ratioToSequentialF32}.`, '');
  for (const c of report.cases.filter((c) => !c.crossover)) {
    lines.push(`## ${c.title}`, '', `${c.elements.toLocaleString('en-US')} elements.`, '');
    lines.push('| implementation | median ms | Melem/s | × seq-f32 | samples | peak RSS MiB | note |', '|---|---:|---:|---:|---:|---:|---|');
    for (const i of report.implementations) {
      const r = cell(i.results[c.id]);
      const name = i.labels.length > 0 ? `${i.name} (${i.labels.join(', ')})` : i.name;
      lines.push(`| ${name} | ${r.ms} | ${r.meps} | ${r.ratio} | ${r.samples} | ${fmt(i.peakRssMiB, 0)} | ${r.note} |`);
    }
    const ref = report.reference.results[c.id];
    if (ref !== undefined) {
      const r = cell(ref);
      const note = r.note !== '' ? r.note : ref.outcome.status === 'ok' && ref.outcome.samples === 1 ? `one timed call (predicted past ${SINGLE_CALL_OVER_MS / 1000} s)` : '';
      lines.push(`| reference (double-double) | ${r.ms} | ${r.meps} | ${r.ratio} | ${r.samples} | ${fmt(report.reference.peakRssMiB, 0)} | ${note} |`);
    }
    lines.push('');
  }
  const crossover = report.cases.filter((c) => c.crossover);
  if (crossover.length > 0) {
    const states = [...new Set(crossover.map((c) => c.stateSize))];
    const lengths = [...new Set(crossover.map((c) => c.length))];
    lines.push('## lti-ssm crossover (Melem/s; batch 1, dim 1)', '');
    for (const i of report.implementations.filter((i) => crossover.some((c) => i.results[c.id] !== undefined))) {
      lines.push(`### ${i.name}${i.labels.length > 0 ? ` (${i.labels.join(', ')})` : ''}`, '');
      lines.push(`| N \\ L | ${lengths.map((L) => `2^${Math.log2(L)}`).join(' | ')} |`, `|---|${lengths.map(() => '---:').join('|')}|`);
      for (const N of states) {
        const cells = lengths.map((L) => {
          const c = crossover.find((x) => x.stateSize === N && x.length === L);
          const r = c === undefined ? undefined : i.results[c.id];
          if (r === undefined) return '—';
          return r.outcome.status === 'ok' ? fmt((r.elementsPerSecond ?? 0) / 1e6, 1) : r.outcome.status;
        });
        lines.push(`| ${N} | ${cells.join(' | ')} |`);
      }
      lines.push('');
    }
  }
  lines.push('## Baselines', '');
  for (const [k, v] of Object.entries(report.baselines)) lines.push(`- ${k}: ${typeof v === 'number' ? (v > 1000 ? `${(v / 1e6).toFixed(1)} M` : v.toFixed(3)) : String(v)}`);
  lines.push('', '## Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const t of report.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met === undefined ? '—' : t.met ? 'yes' : 'no'} |`);
  const troubled = report.implementations.filter((i) => i.status !== 'ran' || i.notes.length > 0);
  if (troubled.length > 0 || report.moduleFailures.length > 0 || report.reference.notes.length > 0) {
    lines.push('', '## Problems', '');
    for (const f of report.moduleFailures) lines.push(`- module ${f.module}: ${f.reason}`);
    for (const i of troubled) lines.push(`- ${i.name}: ${i.status}${i.notes.length > 0 ? `; ${i.notes.join('; ')}` : ''}`);
    if (report.reference.notes.length > 0) lines.push(`- baselines: ${report.reference.notes.join('; ')}`);
  }
  lines.push('');
  return lines.join('\n');
}

