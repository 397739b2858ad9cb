/**
 * The CLI's state file: per user by default, 0600/0700, refused when others
 * can write it, a lock around read-modify-write (10 parallel pins all
 * persist), atomic replacement with no temp file left, devices as state.
 */
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, cliArgv, cliEnv, errLine, ROOT, spawnCli, tempState } from './helpers.js';

const pins = (state: string): string[] => (JSON.parse(readFileSync(state, 'utf8')) as { bpffs: { pins: { path: string }[] } }).bpffs.pins.map((p) => p.path);

describe('state file location and modes', () => {
  it('defaults to $XDG_STATE_HOME/bpf-iter, else ~/.local/state/bpf-iter: file 0600, folder 0700', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bpf-iter-home-'));
    const r = await cliEnv(['pin', 'task', '/sys/fs/bpf/t'], { HOME: home });
    expect(r.code, r.stderr).toBe(0);
    const file = join(home, '.local/state/bpf-iter/bpffs.json');
    expect(pins(file)).toEqual(['/sys/fs/bpf/t']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.local/state/bpf-iter')).mode & 0o777).toBe(0o700);
    const xdg = mkdtempSync(join(tmpdir(), 'bpf-iter-xdg-'));
    expect((await cliEnv(['pin', 'task', '/sys/fs/bpf/x'], { HOME: home, XDG_STATE_HOME: xdg })).code).toBe(0);
    expect(pins(join(xdg, 'bpf-iter/bpffs.json'))).toEqual(['/sys/fs/bpf/x']);
    // A relative XDG_STATE_HOME is ignored (XDG base directory spec).
    expect((await cliEnv(['pin', 'task', '/sys/fs/bpf/y'], { HOME: home, XDG_STATE_HOME: 'rel' }, xdg)).code).toBe(0);
    expect(pins(file)).toEqual(['/sys/fs/bpf/t', '/sys/fs/bpf/y']);
  });

  it('refuses a state file or folder another user owns or others can write: one EPERM line, nothing changed', async () => {
    const { dir, state } = tempState();
    expect((await cli(['pin', 'task', '/sys/fs/bpf/t'], state)).code).toBe(0);
    const before = readFileSync(state, 'utf8');
    const refused = async (re: RegExp) => {
      for (const args of [['link', 'show'], ['pin', 'task', '/sys/fs/bpf/u'], ['rm', '/sys/fs/bpf/t'], ['cat', '/sys/fs/bpf/t']]) {
        const r = await cli(args, state);
        expect(r.code, args.join(' ')).toBe(1);
        expect(errLine(r), args.join(' ')).toMatch(re);
        expect(r.stdout).toBe('');
      }
      expect(readFileSync(state, 'utf8')).toBe(before);
    };
    chmodSync(state, 0o666);
    await refused(/^bpf-iter: Error: EPERM: state file .* is group\/world-writable \(mode 0666\)/);
    chmodSync(state, 0o600);
    chownSync(state, 65534, 65534);
    await refused(/^bpf-iter: Error: EPERM: state file .* is owned by uid 65534/);
    chownSync(state, 0, 0);
    chmodSync(dir, 0o777);
    await refused(/^bpf-iter: Error: EPERM: state folder .* is group\/world-writable/);
    chmodSync(dir, 0o700);
    expect((await cli(['link', 'show'], state)).code).toBe(0);
  });
});

describe('writers', () => {
  // 10 writers, each a separate process racing the others' read-modify-write; without the lock
  // a lost update drops pins. More processes add only CLI start-up cost (node + tsx each), not
  // more of the property. The timeout is load, not behaviour: 10 start-ups on a shared 2-core
  // machine under other full test runs can take minutes; nothing here measures time.
  it('10 parallel pins (separate processes) leave 10 pins and no temp or lock file', async () => {
    const n = 10;
    const { dir, state } = tempState();
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => spawnCli(['pin', 'task', `/sys/fs/bpf/p${i}`], state)));
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    expect(pins(state).sort()).toEqual(Array.from({ length: n }, (_, i) => `/sys/fs/bpf/p${i}`).sort());
    expect(readdirSync(dir)).toEqual(['bpffs.json']);
  }, 600_000);

  it('a failed write (file size limit: EFBIG) keeps the old file and leaves no temp file', async () => {
    const { dir, state } = tempState();
    writeFileSync(state, JSON.stringify({ version: 1, bpffs: { version: 1, mount: '/sys/fs/bpf', dirs: [], pins: [] }, pins: {} }), { mode: 0o600 });
    const before = readFileSync(state, 'utf8');
    // ulimit -f 1: at most 512 bytes per file; a state with a pin is larger. Node resets
    // inherited signal dispositions, so the child ignores SIGXFSZ itself (then write() is EFBIG).
    const ignoreXfsz = ['--import', 'data:text/javascript,process.on("SIGXFSZ",()=>{})'];
    const r = await new Promise<{ code: number; stderr: string }>((res) =>
      execFile('/bin/sh', ['-c', "ulimit -f 1; exec \"$0\" \"$@\"", process.execPath, ...ignoreXfsz, ...cliArgv(['pin', 'task', '/sys/fs/bpf/t'])], { cwd: ROOT, env: { ...process.env, BPF_ITER_STATE: state } }, (err, _o, stderr) =>
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(errLine({ code: r.code, stdout: '', stderr: r.stderr })).toMatch(/^bpf-iter: Error: EFBIG: cannot write state file .*: file too large/);
    expect(readFileSync(state, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['bpffs.json']);
  }, 60_000);

  it('BPF_ITER_STATE=/dev/full: reads as no state, a write is one ENOSPC line (no hang)', async () => {
    const show = await cli(['link', 'show', '--json'], '/dev/full');
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual([]);
    const r = await cli(['pin', 'task', '/sys/fs/bpf/t'], '/dev/full');
    expect(r.code).toBe(1);
    expect(errLine(r)).toBe('bpf-iter: Error: ENOSPC: cannot write state file /dev/full: no space left on device, write');
    expect((await cli(['pin', 'task', '/sys/fs/bpf/t'], '/dev/null')).code).toBe(0);
  });

  it('a state file that is a directory is one EINVAL line', async () => {
    const { dir } = tempState();
    const r = await cli(['link', 'show'], dir);
    expect(r.code).toBe(1);
    expect(errLine(r)).toMatch(/^bpf-iter: Error: EINVAL: state file .* is not a regular file$/);
  });
});
