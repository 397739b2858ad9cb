import { packageConfig } from '../../scripts/tsup-package.js';

export default packageConfig({
  entries: { index: 'src/index.ts', rx: 'src/rx.ts', internal: 'src/internal.ts' },
  // The bin (dist/cli/bpf-iter.js, scripts/build-bin.mjs) loads these commands
  // from here: they share the library's chunks, so a user program imported by
  // `bpf-iter run` and the command running it use the same module instances.
  programs: Object.fromEntries(['cat', 'common', 'link', 'pin', 'prog', 'run', 'serve', 'show', 'snapshot'].map((c) => [`cli/${c}`, `src/cli/${c}.ts`])),
  // `bpf-iter serve` imports @bpf-iter/metrics when it runs; metrics depends
  // on this package, so it is not a dependency here (no cycle) and never bundled.
  external: ['@bpf-iter/metrics'],
});
