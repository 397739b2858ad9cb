import { packageConfig } from '../../scripts/tsup-package.js';

export default packageConfig({
  entries: { index: 'src/index.ts', rx: 'src/rx.ts', internal: 'src/internal.ts' },
  // The CLI shares the library's chunks, so a user program imported by
  // `bpf-iter run` and the CLI use the same module instances.
  programs: { 'cli/main': 'src/cli/main.ts' },
  // `bpf-iter serve` imports @bpf-iter/metrics when it runs; metrics depends
  // on this package, so it is not a dependency here (no cycle) and never bundled.
  external: ['@bpf-iter/metrics'],
  banner: '#!/usr/bin/env node',
});
