// `npm run test:unit`: the tests of code without sockets or processes (test/unit), in seconds. No global
// setup, so no build: nothing under test/unit may need dist/. `npm test` (vitest.config.ts) runs these too.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20000,
  },
});
