import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property runs and GPU set-up are slower than unit tests; a hung testee must still fail.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
