#!/usr/bin/env node
// The release path: build every package, then `pnpm pack` each into one
// folder (default .pack/). pnpm, unlike npm, replaces `workspace:*` with the
// real version and applies `publishConfig` (the published `exports` lack the
// in-repo `@bpf-iter/source` condition). Prints the tarballs' paths, one a line.
//   npm run pack [-- OUT_DIR] [--no-build]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const out = resolve(args.find((a) => !a.startsWith('--')) ?? join(root, '.pack'));
const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('+')[0];
const run = (cwd, ...a) => execFileSync('npx', ['-y', pnpm, ...a], { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

if (!args.includes('--no-build')) run(root, '-r', 'run', 'build');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  run(join(root, 'packages', dir), 'pack', '--pack-destination', out);
}
for (const f of readdirSync(out).sort()) console.log(join(out, f));
