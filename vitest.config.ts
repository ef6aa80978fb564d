import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
    // Interop tests start routers and external clients on loopback ports; keep files isolated.
    pool: 'forks',
    // One file at a time: the scale-out test measures throughput of worker processes on 2 cores,
    // and interop tests spawn clients; parallel files would make both noisy.
    fileParallelism: false,
  },
});
