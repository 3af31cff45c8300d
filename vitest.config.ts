import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once before any test: integration tests run the compiled CLI and worker.
    globalSetup: ['test/globalSetup.ts'],
    // Integration tests start real worker threads running TensorFlow.js: give them room.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
