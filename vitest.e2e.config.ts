// The real-control-plane tier (`npm run test:e2e`): test/e2e/ only, one file at a time (each file
// starts controller processes against the one shared control plane the global setup runs).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
  define: {
    KSEAL_VERSION: JSON.stringify(process.env.npm_package_version ?? '0.0.0-dev'),
  },
});
