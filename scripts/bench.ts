/**
 * npm run bench: every registered implementation on the standard shapes (and, with --crossover,
 * the lti-ssm N × L grid); writes bench.json and bench.md into --out (default DEFAULT_REPORT_DIR of
 * suite/settings.ts), a full run's tables also into bench/latest.md (to commit), and prints the table.
 *
 *   tsx scripts/bench.ts [--out dir] [--filter name-substring] [--quick] [--crossover] [--jobs-ratio]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { jobsRatioMarkdown, measureJobsRatio } from '../bench/jobs-ratio.ts';
import { BenchUsageError, runBenchmark } from '../bench/run.ts';
import { writeFileAtomically } from '../suite/report/write.ts';
import { DEFAULT_REPORT_DIR } from '../suite/settings.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: DEFAULT_REPORT_DIR },
    filter: { type: 'string' },
    quick: { type: 'boolean', default: false },
    crossover: { type: 'boolean', default: false },
    'jobs-ratio': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: tsx scripts/bench.ts [--out dir (default ${DEFAULT_REPORT_DIR})] [--filter name-substring] [--quick] [--crossover] [--jobs-ratio (only the check --jobs 2 : --jobs 1 wall-time ratio)]\n`);
} else if (values['jobs-ratio']) {
  await reportJobsRatio();
} else {
  try {
    await runBenchmark({
      outDir: values.out,
      filter: values.filter,
      quick: values.quick,
      crossover: values.crossover,
      print: true,
      command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
      recordFile: fileURLToPath(new URL('../bench/latest.md', import.meta.url)),
    });
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  }
  // A full run also measures what --jobs gives on the default conformance run (two whole runs: minutes).
  if (!values.quick && values.filter === undefined) await reportJobsRatio();
}

/** Measures check --jobs 2 against --jobs 1, prints it and writes it to <out>/bench-jobs.json and .md. */
async function reportJobsRatio(): Promise<void> {
  const result = await measureJobsRatio(2);
  const markdown = jobsRatioMarkdown(result);
  process.stdout.write(`${markdown}\n`);
  await writeFileAtomically(path.join(values.out, 'bench-jobs.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFileAtomically(path.join(values.out, 'bench-jobs.md'), `${markdown}\n`);
}
