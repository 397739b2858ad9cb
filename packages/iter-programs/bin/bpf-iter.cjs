#!/usr/bin/env node
// The bpf-iter CLI: dist/cli/bpf-iter.cjs, bundled by scripts/build-bin.mjs after tsup
// (CommonJS: start-up compiles only the bundles a command uses), loaded through a V8
// code cache (dist/cli/code_cache.cjs: later runs skip compiling them).
require('../dist/cli/code_cache.cjs').requireBundle(require('node:path').join(__dirname, '../dist/cli/bpf-iter.cjs'));
