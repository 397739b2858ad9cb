/**
 * `bpf-iter snapshot save|info|diff` and `--kernel snapshot:FILE` end to
 * end: a snapshot of this host saved by the CLI, then `cat T --kernel
 * snapshot:FILE` for every target (text and -j) against the SDK's dump of
 * the same file (the live host would race).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernel, loadKernelSync, SNAPSHOT_VERSION, type Kernel } from '@bpf-iter/core';
import { availability, suiteTitle } from '../../../core/test/bpf_fixture.js';
import { BUILTIN_TARGETS } from '../../src/targets/index.js';
import { dumpTarget, paramSets } from '../snapshot/dumps.js';
import { cli, tempState } from './helpers.js';

const { dir, state } = tempState();
const hostSnap = join(dir, 'host.snap');
let saved: Kernel;

beforeAll(async () => {
  const r = await cli(['snapshot', 'save', hostSnap, '--kernel', 'host'], state);
  expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  saved = await loadKernel(hostSnap);
}, 300_000);

describe('bpf-iter snapshot', () => {
  it('cat T --kernel snapshot:FILE prints what the SDK dumps over the saved kernel, for every target (text and -j)', async () => {
    let checked = 0;
    for (const { reg } of BUILTIN_TARGETS) {
      const T = reg.target;
      for (const json of [false, true])
        for (const { label, params } of paramSets(T, saved)) {
          const key = `${T} ${label}${json ? ' -j' : ''}`;
          const args = params.map !== undefined ? ['--map', String(params.map)] : params.order !== undefined ? ['--order', params.order] : [];
          const r = await cli([...(json ? ['-j'] : []), 'cat', T, '--kernel', `snapshot:${hostSnap}`, ...args], state);
          // Each cat loads the file afresh (its dumper gets the first free prog id): so does the SDK side.
          const w = dumpTarget(loadKernelSync(hostSnap), T, json, params);
          if (w.startsWith('ERROR ')) {
            expect(r.code, key).toBe(1);
            expect(r.stderr, key).toBe(`bpf-iter: Error: ${w.slice(6)}\n`);
          } else {
            expect(r.stderr, key).toBe('');
            expect(r.stdout, key).toBe(w);
            checked++;
          }
        }
    }
    expect(checked).toBeGreaterThan(20);
  }, 300_000);

  it('info: source, machine, kernel release, time and counts (-j)', async () => {
    const r = await cli(['snapshot', 'info', hostSnap, '-j'], state);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ format: 'bpf-iter-snapshot', version: SNAPSHOT_VERSION, source: 'host', release: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() });
    expect(info.machine).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    expect(info.counts.task).toBe(saved.taskCount);
    expect(Date.parse(info.time)).toBeGreaterThan(0);
    const t = await cli(['snapshot', 'info', hostSnap], state);
    expect(t.stdout).toMatch(new RegExp(`^format: +bpf-iter-snapshot version ${SNAPSHOT_VERSION}\\nsource: +host\\n`));
    expect(t.stdout).toContain(`  task         ${saved.taskCount}\n`);
    // The counts are the file's: a header claiming others is refused with the place.
    const lines = gunzipSync(readFileSync(hostSnap)).toString().split('\n');
    const h = JSON.parse(lines[0]!);
    h.counts.task += 5;
    const liar = join(dir, 'liar.snap');
    writeFileSync(liar, gzipSync([JSON.stringify(h), ...lines.slice(1)].join('\n')));
    expect(await cli(['snapshot', 'info', liar], state)).toEqual({
      code: 1,
      stdout: '',
      stderr: `bpf-iter: Error: EINVAL: ${liar}:line 1: the header counts ${saved.taskCount + 5} task objects, the file holds ${saved.taskCount}\n`,
    });
  });

  it('diff: what appeared, vanished and changed per kind (-j)', async () => {
    const a = join(dir, 'a.snap');
    const b = join(dir, 'b.snap');
    expect((await cli(['snapshot', 'save', a, '--kernel', 'synthetic:3'], state)).code).toBe(0);
    expect((await cli(['snapshot', 'save', b, '--kernel', 'synthetic:4'], state)).code).toBe(0);
    const same = JSON.parse((await cli(['snapshot', 'diff', a, a, '-j'], state)).stdout);
    for (const d of Object.values(same) as { appeared: unknown[]; vanished: unknown[]; changed: unknown[] }[]) expect(d).toEqual({ appeared: [], vanished: [], changed: [] });
    const r = await cli(['snapshot', 'diff', a, b], state);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^task +\d+ appeared, \d+ vanished, \d+ changed\n/);
    expect(r.stdout).toMatch(/\n[~+-] task \d+/);
  });

  it('redaction: --redact comm,paths,addresses keeps the structure', async () => {
    const red = join(dir, 'red.snap');
    expect(await cli(['snapshot', 'save', red, '--kernel', `snapshot:${hostSnap}`, '--redact', 'comm,paths,addresses'], state)).toEqual({ code: 0, stdout: '', stderr: '' });
    const k = await loadKernel(red);
    expect(k.taskCount).toBe(saved.taskCount);
    const info = JSON.parse((await cli(['snapshot', 'info', red, '-j'], state)).stdout);
    expect(info.redacted).toEqual(['comm', 'paths', 'addresses']);
    expect(info.machine).not.toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    const cat = await cli(['cat', 'task', '--kernel', `snapshot:${red}`], state);
    expect(cat.stdout.split('\n').length).toBe((await cli(['cat', 'task', '--kernel', `snapshot:${hostSnap}`], state)).stdout.split('\n').length);
    const bad = await cli(['snapshot', 'save', join(dir, 'x.snap'), '--redact', 'comm,secrets'], state);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: "bpf-iter: Error: EINVAL: --redact: unknown field 'secrets' (one of comm, paths, addresses)\n" });
  });

  it('bad files: one error line with the errno and the place, exit 1', async () => {
    const missing = join(dir, 'nope.snap');
    expect(await cli(['cat', 'task', '--kernel', `snapshot:${missing}`], state)).toEqual({ code: 1, stdout: '', stderr: `bpf-iter: Error: ENOENT: ${missing}: no such file\n` });
    const nodir = join(dir, 'no-such-dir', 'x.snap');
    expect(await cli(['snapshot', 'save', nodir], state)).toEqual({ code: 1, stdout: '', stderr: `bpf-iter: Error: ENOENT: ${nodir}: no such file or directory\n` });
    const lines = gunzipSync(readFileSync(hostSnap)).toString().split('\n');
    const h = JSON.parse(lines[0]!);
    h.version = SNAPSHOT_VERSION + 1;
    const future = join(dir, 'future.snap');
    writeFileSync(future, gzipSync([JSON.stringify(h), ...lines.slice(1)].join('\n')));
    expect(await cli(['cat', 'task', '--kernel', `snapshot:${future}`], state)).toEqual({
      code: 1,
      stdout: '',
      stderr: `bpf-iter: Error: EOPNOTSUPP: ${future}: snapshot format version ${SNAPSHOT_VERSION + 1} is newer than this bpf-iter reads (version ${SNAPSHOT_VERSION})\n`,
    });
    const cut = join(dir, 'cut.snap');
    writeFileSync(cut, gzipSync(lines.slice(0, 40).join('\n') + '\n'));
    expect(await cli(['snapshot', 'diff', cut, hostSnap], state)).toEqual({ code: 1, stdout: '', stderr: `bpf-iter: Error: EINVAL: ${cut}:line 40: truncated: the file ends without its end record\n` });
    // A malformed --kernel is a usage error (exit 2, like every bad option), with the errno.
    const empty = await cli(['cat', 'task', '--kernel', 'snapshot:'], state);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe("bpf-iter: error: EINVAL: --kernel must be host, bpf, synthetic, synthetic:SEED or snapshot:FILE, not 'snapshot:'\n");
  });
});

const a = availability('snapshot save --kernel bpf');
describe.skipIf(!a.ok)(suiteTitle('bpf-iter snapshot save --kernel bpf', a), () => {
  it('saves the running kernel read through BPF iterators, and replays it', async () => {
    const file = join(dir, 'bpf.snap');
    const r = await cli(['snapshot', 'save', file, '--kernel', 'bpf'], state);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const info = JSON.parse((await cli(['snapshot', 'info', file, '-j'], state)).stdout);
    expect(info.source).toBe('bpf');
    const k = await loadKernel(file);
    expect(k.source).toBe('bpf');
    expect(info.counts.task).toBe(k.taskCount);
    expect(k.taskCount).toBeGreaterThan(1);
    const cat = await cli(['cat', 'task', '--kernel', `snapshot:${file}`], state);
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe(dumpTarget(k, 'task', false, {}));
  }, 300_000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
