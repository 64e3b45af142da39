import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the package by name, as a user's project does; in this repository that is the source.
  resolve: { alias: { 'scan-conformance': fileURLToPath(new URL('./index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // Property runs and GPU set-up are slower than unit tests; a hung testee must still fail.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
