import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the package by name, as a user's project does; in this repository that is the source.
  resolve: { alias: { 'scan-conformance': fileURLToPath(new URL('./index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // Property runs are slower than unit tests, and a cold lavapipe compiles the WGSL pipelines in
    // set-up for up to two minutes (warm: seconds); a hung testee must still fail.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // A worker runs its files one after another in one process, so the suite, tfjs and the WebGPU
    // device load once per worker instead of once per file. Files must therefore leave no state
    // behind that another file sees.
    isolate: false,
    // Two files at once: vitest's default is one fewer than the cores, a single worker on a 2-core
    // machine, where most test files wait on one another's CPU-bound runs.
    maxWorkers: 2,
    // The conformance tests also write reports/vitest/report.{json,md,html}: the CLI's numbers.
    reporters: ['default', './suite/vitest-reporter.ts'],
    // The CLI tests run check in-process on small selections, already two files at a time: one
    // process each (check's default is a child per core); test/cli/shard.test.ts tests --jobs itself.
    env: { SCAN_CONFORMANCE_JOBS: '1' },
  },
});
