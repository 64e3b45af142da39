/**
 * npm run bench: every registered implementation on the standard shapes (and, with --crossover,
 * the lti-ssm N × L grid); writes bench.json and bench.md into --out (default DEFAULT_REPORT_DIR of
 * suite/settings.ts), a full run's tables also into bench/latest.md (to commit), and prints the table.
 *
 *   tsx scripts/bench.ts [--out dir] [--filter name-substring] [--quick] [--crossover]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBenchmark } from '../bench/run.ts';
import { DEFAULT_REPORT_DIR } from '../suite/settings.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: DEFAULT_REPORT_DIR },
    filter: { type: 'string' },
    quick: { type: 'boolean', default: false },
    crossover: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: tsx scripts/bench.ts [--out dir (default ${DEFAULT_REPORT_DIR})] [--filter name-substring] [--quick] [--crossover]\n`);
} else {
  await runBenchmark({
    outDir: values.out,
    filter: values.filter,
    quick: values.quick,
    crossover: values.crossover,
    print: true,
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    recordFile: fileURLToPath(new URL('../bench/latest.md', import.meta.url)),
  });
}
