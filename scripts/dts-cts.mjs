#!/usr/bin/env node
// After tsup (run in a package folder): writes dist/*.d.cts beside every
// dist/*.d.ts. The declarations are the same; only relative specifiers change
// ('./x.js' -> './x.cjs'), so that a `require` consumer's types stay CommonJS
// all the way down (TypeScript's node16/nodenext rules), matching the
// dist/*.cjs doors. One declaration build instead of two.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = 'dist';
const rel = /(from\s+|import\(\s*)(['"])(\.\.?\/[^'"]+?)\.js\2/g;
for (const f of readdirSync(dist, { recursive: true })) {
  const name = String(f);
  if (!name.endsWith('.d.ts')) continue;
  const text = readFileSync(join(dist, name), 'utf8');
  writeFileSync(join(dist, name.replace(/\.d\.ts$/, '.d.cts')), text.replace(rel, '$1$2$3.cjs$2'));
}
