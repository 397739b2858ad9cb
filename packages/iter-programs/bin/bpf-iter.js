#!/usr/bin/env node
// The bpf-iter CLI (built by tsup into dist/cli/main.js).
import "../dist/cli/main.js";
