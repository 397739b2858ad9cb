#!/usr/bin/env node
// Installs the workspace with the pinned pnpm when node_modules is missing or
// older than the lockfile, so `npm run demo` / `npm test` work on a fresh clone.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
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
