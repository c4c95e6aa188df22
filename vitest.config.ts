import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/e2e is the real-control-plane tier: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: ['test/e2e/**', '**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
  define: {
    KSEAL_VERSION: JSON.stringify(process.env.npm_package_version ?? '0.0.0-dev'),
  },
});
