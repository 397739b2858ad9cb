#!/usr/bin/env node
// The bpf-iter CLI: dist/cli/bpf-iter.cjs, bundled by scripts/build-bin.mjs after tsup
// (CommonJS: start-up compiles only the bundles a command uses), loaded through a V8
// code cache (dist/cli/code_cache.cjs: later runs skip compiling them), with V8 tiering
// set for a short-lived process first (setCliV8Flags: the caches are made with those flags).
const cc = require('../dist/cli/code_cache.cjs');
cc.setCliV8Flags();
cc.requireBundle(require('node:path').join(__dirname, '../dist/cli/bpf-iter.cjs'));
