import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
    // Interop tests start routers and external clients on loopback ports; keep files isolated.
    pool: 'forks',
  },
});
