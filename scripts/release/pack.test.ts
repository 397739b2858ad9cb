/**
 * The release path, end to end: build and `pnpm pack` every package
 * (scripts/release/pack.mjs), install the tarballs into a fresh app with npm,
 * and consume them as ESM, as CommonJS and from TypeScript (tsc --noEmit
 * under node16, nodenext and bundler, no skipLibCheck, with a .cts file);
 * attw and publint must find no problem in any tarball. The expected values
 * come from the workspace's own source: the default kernel is the same
 * embedded one, so the packages must print exactly what the source does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BPF_TASK_ITER_ALL_PROCS, bpfForEach, iterTask } from '@bpf-iter/iter-kfuncs';
import { attachIter, dumpTaskFile, loadProgram } from '@bpf-iter/iter-programs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

let app = '';
let tarballs: string[] = [];
/** Why the consumer app could not be installed (the registry unreachable), or null. */
let skipReason: string | null = null;

function run(cmd: string, args: string[], cwd = app) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'bpf-iter-pack-'));
  app = join(out, 'app');
  const packed = execFileSync(process.execPath, [join(here, 'pack.mjs'), join(out, 'tarballs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  tarballs = packed.trim().split('\n');
  cpSync(join(here, 'consumer'), app, { recursive: true });
  const dep = (name: string) => `file:${tarballs.find((t) => t.includes(`bpf-iter-${name}-`))}`;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: {
        '@bpf-iter/core': dep('core'),
        '@bpf-iter/iter-kfuncs': dep('iter-kfuncs'),
        '@bpf-iter/iter-programs': dep('iter-programs'),
        '@bpf-iter/metrics': dep('metrics'),
        rxjs: rootPkg.devDependencies.rxjs,
        'fast-check': rootPkg.devDependencies['fast-check'],
        '@types/node': rootPkg.devDependencies['@types/node'],
      },
    }),
  );
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']);
  if (r.code !== 0) {
    // Only an unreachable registry is a reason to skip; anything else is a failure of the packages.
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH/.test(r.stderr)) skipReason = `npm install needs the registry: ${r.stderr.split('\n')[0]}`;
    else throw new Error(`npm install of the tarballs failed:\n${r.stderr}`);
  }
}, 900_000);

afterAll(() => {
  if (app) rmSync(dirname(app), { recursive: true, force: true });
});

const sourceProcs = () => [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)].map((t) => t.pid);
const sourceSeq = () => {
  const link = attachIter(loadProgram(dumpTaskFile));
  try {
    return link.open().readAll().toString();
  } finally {
    link.destroy();
  }
};

describe('release: pnpm pack, npm install, consume', () => {
  it('packs one tarball per package, with workspace:* replaced by the version', () => {
    expect(tarballs.map((t) => t.replace(/.*\//, ''))).toEqual(['bpf-iter-core-0.1.0.tgz', 'bpf-iter-iter-kfuncs-0.1.0.tgz', 'bpf-iter-iter-programs-0.1.0.tgz', 'bpf-iter-metrics-0.1.0.tgz']);
    for (const t of tarballs) {
      const pkg = JSON.parse(execFileSync('tar', ['-xOzf', t, 'package/package.json'], { encoding: 'utf8' }));
      expect(JSON.stringify(pkg), t).not.toMatch(/workspace:|@bpf-iter\/source/);
    }
  });

  it('an ESM consumer: every entry works, one instance shared with require()', (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const r = run(process.execPath, ['esm.mjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no warning (require of ESM, duplicate packages...)
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ sameBpfError: true, sameKernel: true, sameLoop: true, sameRx: true, rx: [0, 1, 2, 3, 4], sample: 'x{a="1"} 2\n', internalsHidden: true });
    expect(o.procs).toEqual(sourceProcs());
    expect(o.seq).toBe(sourceSeq());
    expect(o.seqRx).toBe(sourceSeq().split('\n').filter(Boolean).length);
  });

  it('a CommonJS consumer: require() of every entry, the same instances as import()', (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const r = run(process.execPath, ['cjs.cjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ sameBpfError: true, sameKernel: true, observable: 'function', errno: 'E2BIG' });
    expect(o.procs).toEqual(sourceProcs());
    expect(o.seq).toBe(sourceSeq());
  });

  for (const mode of ['node16', 'nodenext', 'bundler']) {
    it(`a TypeScript consumer type-checks under module ${mode} (no skipLibCheck)`, (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      const r = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${mode}.json`]);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('the installed bpf-iter bin runs; a usage error exits 2; a .ts module gets a hint', (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const cli = join(app, 'node_modules', '.bin', 'bpf-iter');
    const t = run(cli, ['cat', 'task', '--pid', String(sourceProcs()[0])]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/\S/);
    const u = run(cli, ['cat', 'task', '--kernel', 'hots']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^bpf-iter: error: EINVAL: --kernel must be/);
    writeFileSync(join(app, 'prog.ts'), "export const x: number = 1;\n");
    const ts = run(cli, ['run', 'prog.ts']);
    expect(ts.code).toBe(1);
    expect(ts.stderr).toMatch(/^bpf-iter: Error: EINVAL: .*\.ts.*--import tsx/);
  });

  it('attw and publint find no problem in any tarball', () => {
    for (const t of tarballs) {
      const a = run(bin('attw'), [t, '--format', 'ascii', '--no-color'], root);
      expect(a.code, `attw ${t}\n${a.stdout}${a.stderr}`).toBe(0);
      expect(a.stdout, t).toMatch(/No problems found/);
      const p = run(bin('publint'), [t, '--strict'], root);
      expect(p.code, `publint ${t}\n${p.stdout}${p.stderr}`).toBe(0);
      expect(p.stdout, t).toMatch(/All good!/);
    }
  });
});
