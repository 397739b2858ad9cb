/**
 * The bpf-iter CLI as a subprocess (each spawn costs ~1 s): the bin's exit
 * codes and stderr, a pin shared by separate processes, EPIPE, and the host
 * kernel against /proc/net/tcp.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, ROOT, SRC_INDEX, spawnCli, tempState } from './helpers.js';

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);

describe('bpf-iter (subprocess)', () => {
  it('run: a CommonJS .ts program module (its own copy of the library) still prints', async () => {
    // A temp dir has no package.json with "type": "module": tsx loads the .ts as CommonJS,
    // so the module's helpers come from a second copy of the package and must still accept the CLI's seq file.
    const { dir, state } = tempState();
    const prog = join(dir, 'prog.ts');
    writeFileSync(
      prog,
      `const { SEC, BPF_SEQ_PRINTF } = require(${JSON.stringify(SRC_INDEX)});
exports.bss = { target_pid: 0 };
exports.dump = SEC('iter/task', function dump(ctx) {
  if (ctx.task && ctx.task.tgid === this.bss.target_pid) BPF_SEQ_PRINTF(ctx.meta.seq, '%d %s\\n', ctx.task.pid, ctx.task.comm);
  return 0;
});
`,
    );
    const r = await spawnCli(['run', prog, '--set', 'target_pid=1'], state);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1 systemd\n');
  });

  it('targets --json lists 18 targets', async () => {
    const r = await spawnCli(['targets', '--json'], tempState().state);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(18);
  });

  it('pin in one process, cat and rm in others; then cat fails with ENOENT, exit 1', async () => {
    const { state } = tempState();
    expect((await spawnCli(['pin', 'task', '/sys/fs/bpf/tasks', '--pid', '1'], state)).code).toBe(0);
    const a = await spawnCli(['cat', '/sys/fs/bpf/tasks'], state);
    expect(a.code, a.stderr).toBe(0);
    expect(lines(a.stdout)[0]).toMatch(/^\s+tgid\s+pid S comm$/);
    expect(lines(a.stdout).slice(1).every((l) => /^\s+1\s+\d+ \w /.test(l))).toBe(true);
    expect((await spawnCli(['rm', '/sys/fs/bpf/tasks'], state)).code).toBe(0);
    const gone = await spawnCli(['cat', '/sys/fs/bpf/tasks'], state);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('bpf-iter: Error: ENOENT: no such file or directory: /sys/fs/bpf/tasks\n');
  });

  it('usage error: exit 2, one line', async () => {
    const r = await spawnCli(['cat', 'task', '--pid', 'one'], tempState().state);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
  });

  it('| head: EPIPE ends the CLI quietly', async () => {
    const { state } = tempState();
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(
        '/bin/sh',
        ['-c', `node --import tsx --conditions=@bpf-iter/source ${MAIN} cat ksym | head -n 2`],
        { cwd: ROOT, env: { ...process.env, BPF_ITER_STATE: state } },
        (err, stdout, stderr) => res({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(2);
    expect(r.stderr).toBe('');
  });

  it('a program module that rejects a promise: one error line, exit 1, no stack', async () => {
    const { dir, state } = tempState();
    const stray = join(dir, 'stray.mjs');
    writeFileSync(stray, `export const x = 1;\nPromise.reject(new Error('boom\\nsecond line'));\n`);
    const awaited = join(dir, 'awaited.mjs');
    writeFileSync(awaited, `await Promise.reject(42);\n`);
    for (const [file, line] of [
      [stray, 'bpf-iter: Error: EINVAL: boom'],
      [awaited, 'bpf-iter: Error: EINVAL: 42'],
    ] as const) {
      const r = await spawnCli(['run', file], state);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(line + '\n');
    }
  });

  it('SIGINT / SIGTERM: exit 128+signal, no error line', async () => {
    const { dir, state } = tempState();
    const ready = join(dir, 'ready');
    const slow = join(dir, 'slow.mjs');
    // A module that is still loading when the signal comes (top-level await).
    writeFileSync(slow, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(ready)}, '');\nawait new Promise((r) => setTimeout(r, 600000));\n`);
    for (const [sig, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      rmSync(ready, { force: true });
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@bpf-iter/source', MAIN, 'run', slow], { cwd: ROOT, env: { ...process.env, BPF_ITER_STATE: state } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('exit', (c, s) => res({ code: c, signal: s })));
      while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
      child.kill(sig);
      expect(await exited).toEqual({ code, signal: null });
      expect(stderr).toBe('');
    }
  }, 60_000);

  it('stdout on a full device: ENOSPC once, exit 1', async () => {
    const { state } = tempState();
    const r = await new Promise<{ code: number; stderr: string }>((res) => {
      execFile('/bin/sh', ['-c', `node --import tsx --conditions=@bpf-iter/source ${MAIN} cat task >/dev/full`], { cwd: ROOT, env: { ...process.env, BPF_ITER_STATE: state } }, (err, _o, stderr) =>
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('bpf-iter: Error: ENOSPC: no space left on device, write\n');
  });

  describe('--kernel host', () => {
    let srv: net.Server | null = null;
    beforeAll(async () => {
      srv = await new Promise<net.Server | null>((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(null));
        s.listen(0, '127.0.0.1', () => resolve(s));
      });
    });
    afterAll(() => srv?.close());

    it('cat tcp --family 4 equals /proc/net/tcp on the header and stable columns', async () => {
      const before = readFileSync('/proc/net/tcp', 'utf8');
      const r = await spawnCli(['cat', 'tcp', '--family', '4', '--kernel', 'host'], tempState().state);
      const after = readFileSync('/proc/net/tcp', 'utf8');
      expect(r.code, r.stderr).toBe(0);
      const got = r.stdout.split('\n');
      expect(got[0]).toBe(before.split('\n')[0]);
      // local, remote, state, uid and inode of every socket present before and after the snapshot.
      const key = (l: string) => {
        const f = l.trim().split(/\s+/);
        return [f[1], f[2], f[3], f[7], f[9]].join(' ');
      };
      const stable = new Set(lines(before).slice(1).map(key));
      const afterKeys = new Set(lines(after).slice(1).map(key));
      const gotKeys = new Set(lines(r.stdout).slice(1).map(key));
      for (const k of stable) if (afterKeys.has(k)) expect(gotKeys.has(k), k).toBe(true);
      if (srv) {
        const port = (srv.address() as net.AddressInfo).port.toString(16).toUpperCase().padStart(4, '0');
        expect(r.stdout).toContain(`0100007F:${port} 00000000:0000 0A`);
      }
    });
  });
});
