#!/usr/bin/env node
// Installs the workspace with the pinned pnpm when node_modules is missing or
// older than the lockfile, so `npm run demo` / `npm test` work on a fresh clone;
// with `--bin`, also builds the bpf-iter bin when missing or older than its sources.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpm = pkg.packageManager.split('+')[0]; // "pnpm@X.Y.Z"
const marker = join(root, 'node_modules', '.modules.yaml');
const lock = join(root, 'pnpm-lock.yaml');

const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  const frozen = existsSync(lock) ? ' --frozen-lockfile' : '';
  console.error(`[bootstrap] installing the workspace with ${pnpm}${frozen}`);
  execSync(`npx -y ${pnpm} install${frozen}`, { cwd: root, stdio: 'inherit', env: { ...process.env, CI: 'true' } });
}

// `--bin` (`npm run bpf-iter`): the built bin, rebuilt when a source it is built from is newer.
// Only the JavaScript the bin runs (tsup of core, iter-programs, metrics, then the bin's bundles);
// `npm run build` also writes the type declarations.
if (process.argv.includes('--bin')) {
  const bin = join(root, 'packages/iter-programs/dist/cli/bpf-iter.cjs');
  const packages = ['core', 'iter-programs', 'metrics'];
  const newest = (p) => {
    const s = statSync(p);
    if (!s.isDirectory()) return s.mtimeMs;
    let m = 0;
    for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'dist' && e !== '.build') m = Math.max(m, newest(join(p, e)));
    return m;
  };
  const inputs = packages.flatMap((p) => ['src', 'scripts', 'package.json', 'tsup.config.ts'].map((f) => join(root, 'packages', p, f))).filter((p) => existsSync(p));
  if (!existsSync(bin) || Math.max(...inputs.map(newest)) > statSync(bin).mtimeMs) {
    console.error('[bootstrap] building the bpf-iter bin (tsup of core, iter-programs, metrics; scripts/build-bin.mjs)');
    for (const p of packages) execSync('npx tsup', { cwd: join(root, 'packages', p), stdio: ['ignore', 'ignore', 'inherit'] });
    execSync('node scripts/build-bin.mjs', { cwd: join(root, 'packages/iter-programs'), stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
