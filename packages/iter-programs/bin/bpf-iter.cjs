#!/usr/bin/env node
// The bpf-iter CLI: dist/cli/bpf-iter.cjs, bundled by scripts/build-bin.mjs after tsup
// (CommonJS, required: start-up compiles only the bundles a command uses).
require('../dist/cli/bpf-iter.cjs');
