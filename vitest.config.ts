import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source through the
// "@bpf-iter/source" export condition: no build step needed.
export default defineConfig({
  resolve: { conditions: ['@bpf-iter/source'] },
  ssr: { resolve: { conditions: ['@bpf-iter/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'scripts/**/*.test.ts'],
    typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
