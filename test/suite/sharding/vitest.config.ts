/**
 * A tiny describeConformance suite for test/suite/vitest-shard.test.ts, run with vitest's own
 * sharding: its files end in .shard-suite.ts so that npm test's run never collects them. The
 * conformance reporter writes into $SHARD_SUITE_REPORT_DIR (which the test sets for each run).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const reportDir = process.env.SHARD_SUITE_REPORT_DIR;

export default defineConfig({
  resolve: { alias: { 'scan-conformance': fileURLToPath(new URL('../../../index.ts', import.meta.url)) } },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.shard-suite.ts'],
    pool: 'forks',
    reporters: reportDir === undefined ? ['default'] : ['default', [fileURLToPath(new URL('../../../suite/vitest-reporter.ts', import.meta.url)), { outDir: reportDir }]],
  },
});
