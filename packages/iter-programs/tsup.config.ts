import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // One ESM build for the library and the CLI with shared chunks, so a user
    // program imported by `bpf-iter run` and the CLI use the same module
    // instances (the helpers recognise the CLI's seq files).
    entry: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    splitting: true,
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: false,
    sourcemap: true,
    target: 'node20',
  },
]);
