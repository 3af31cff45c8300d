import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real worker threads running TensorFlow.js: give them room.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
