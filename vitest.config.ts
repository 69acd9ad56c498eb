import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, never a stale dist/.
    alias: {
      '@webrnn/kernels': src('kernels'),
      '@webrnn/core': src('core'),
      '@webrnn/rnn': src('rnn'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    setupFiles: ['./scripts/fast-check-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
