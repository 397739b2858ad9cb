/**
 * Snapshot files: a round trip keeps the model, bad, fuzzed and truncated
 * files give one EINVAL with the place and never a kernel, a newer format
 * is EOPNOTSUPP, redaction keeps every relation, diff names what changed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BpfError,
  createRedactor,
  decodeColumn,
  diffKernels,
  encodeColumn,
  kernelObjects,
  loadKernel,
  loadKernelSync,
  readSnapshotHeader,
  readSnapshotInfo,
  saveKernel,
  snapshotRecords,
  syntheticKernel,
  SNAPSHOT_VERSION,
  Socket,
  type Kernel,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = syntheticKernel({ seed: 5, processes: 16 });
const lines = [...snapshotRecords(base, { time: new Date(0) })].map((r) => JSON.stringify(r));
const text = lines.join('\n') + '\n';

/** Loads snapshot text (gzipped here) from a stream; returns the kernel or the error. */
async function tryLoad(t: string | Buffer): Promise<Kernel | BpfError> {
  try {
    return await loadKernel(Readable.from([typeof t === 'string' ? gzipSync(t) : t]));
  } catch (e) {
    if (e instanceof BpfError) return e;
    throw e;
  }
}

function errOf(r: Kernel | BpfError): string {
  if (!(r instanceof BpfError)) throw new Error('loaded a kernel from a bad file');
  return r.message;
}

const lineOf = (kind: string) => lines.findIndex((l) => JSON.parse(l).k === kind);

describe('snapshot format', () => {
  it('round trip: the same records come back out of a loaded kernel', async () => {
    const k = await tryLoad(text);
    expect(k).not.toBeInstanceOf(BpfError);
    const again = [...snapshotRecords(k as Kernel, { time: new Date(0) })].map((r) => JSON.stringify(r));
    expect(again).toEqual(lines);
  });

  it('the header holds format, version, source, time and counts', async () => {
    const file = join(dir, 'h.snap');
    await saveKernel(base, file);
    const h = await readSnapshotHeader(file);
    expect(h).toMatchObject({ format: 'bpf-iter-snapshot', version: SNAPSHOT_VERSION, source: 'synthetic:5' });
    expect(h.counts.task).toBe(base.taskCount);
    expect(h.counts.map).toBe(base.maps.size);
  });

  it('a parent that is not in the file: EINVAL naming the line and both pids', async () => {
    const i = lineOf('task');
    const r = JSON.parse(lines[i]!);
    const pids = decodeColumn(r.pid, Int32Array, r.n)!;
    const parents = decodeColumn(r.parent, Int32Array, r.n)!;
    const j = parents.findIndex((p, j) => p === 1 && pids[j]! > 1);
    parents[j] = 3999999;
    r.parent = encodeColumn(parents);
    const bad = [...lines];
    bad[i] = JSON.stringify(r);
    expect(errOf(await tryLoad(bad.join('\n') + '\n'))).toBe(`EINVAL: <stream>:line ${i + 1}: task ${pids[j]} has parent 3999999 that is not in the file`);
  });

  it('a header whose counts are not what the file holds: EINVAL at line 1', async () => {
    const h = JSON.parse(lines[0]!);
    h.counts.task++;
    expect(errOf(await tryLoad([JSON.stringify(h), ...lines.slice(1)].join('\n') + '\n'))).toBe(`EINVAL: <stream>:line 1: the header counts ${base.taskCount + 1} task objects, the file holds ${base.taskCount}`);
    delete h.counts.task;
    h.counts.gpu = 1;
    expect(errOf(await tryLoad([JSON.stringify(h), ...lines.slice(1)].join('\n') + '\n'))).toBe(`EINVAL: <stream>:line 1: the header counts no task objects, the file holds ${base.taskCount}`);
  });

  it('a block column of the wrong length or type: EINVAL naming it', async () => {
    const i = lineOf('task');
    const r = JSON.parse(lines[i]!);
    r.uid = encodeColumn(new Uint32Array(r.n - 1));
    const bad = [...lines];
    bad[i] = JSON.stringify(r);
    expect(errOf(await tryLoad(bad.join('\n')))).toBe(`EINVAL: <stream>:line ${i + 1}: task uid must be ${r.n} values (base64, 32-bit little-endian)`);
    r.uid = [1, 2, 3];
    bad[i] = JSON.stringify(r);
    expect(errOf(await tryLoad(bad.join('\n')))).toBe(`EINVAL: <stream>:line ${i + 1}: task uid must be ${r.n} values (base64, 32-bit little-endian)`);
  });

  it('counts per kind are what the file holds (readSnapshotInfo counts while loading)', async () => {
    const file = join(dir, 'info.snap');
    await saveKernel(base, file);
    const { header, counts, kernel } = await readSnapshotInfo(file);
    expect(counts).toEqual(header.counts);
    expect(counts.task).toBe(base.taskCount);
    expect(counts.task).toBe(kernel.taskCount);
    let vmas = 0;
    for (const mm of new Set([...base.initPidNs.pids.entries()].map(([, t]) => t.mm).filter((m) => m))) vmas += mm!.vmaCount;
    expect(counts.vma).toBe(vmas);
  });

  it('a newer format version: EOPNOTSUPP with the version', async () => {
    const h = JSON.parse(lines[0]!);
    h.version = SNAPSHOT_VERSION + 1;
    const e = await tryLoad([JSON.stringify(h), ...lines.slice(1)].join('\n'));
    expect(e).toBeInstanceOf(BpfError);
    expect((e as BpfError).errno).toBe('EOPNOTSUPP');
    expect((e as BpfError).message).toContain(`version ${SNAPSHOT_VERSION + 1}`);
  });

  it('not gzip, not a snapshot, empty: one EINVAL each', async () => {
    expect(errOf(await tryLoad(Buffer.from('plain text\n')))).toMatch(/^EINVAL: <stream>: not a readable gzip-compressed snapshot/);
    expect(errOf(await tryLoad('{"k":"task"}\n'))).toBe('EINVAL: <stream>:line 1: not a bpf-iter snapshot (no snapshot header)');
    expect(errOf(await tryLoad(''))).toMatch(/^EINVAL: <stream>:line 0: empty file/);
    const file = join(dir, 'missing.snap');
    expect(() => loadKernelSync(file)).toThrow(`ENOENT: ${file}: no such file`);
  });

  it('records out of order, references to objects not in the file, a wrong trailer: EINVAL with the line', async () => {
    const f = lineOf('file');
    const bad = [...lines];
    const rec = JSON.parse(bad[f]!);
    rec.fop = 9999;
    bad[f] = JSON.stringify(rec);
    expect(errOf(await tryLoad(bad.join('\n')))).toBe(`EINVAL: <stream>:line ${f + 1}: file fops 9999 is not in the file`);
    const swapped = [...lines];
    const t = lineOf('kmem_cache');
    [swapped[t], swapped[2]] = [swapped[2]!, swapped[t]!];
    expect(errOf(await tryLoad(swapped.join('\n')))).toBe('EINVAL: <stream>:line 4: a fops record after the kmem_cache records');
    const end = [...lines];
    end[end.length - 1] = '{"k":"end","records":3}';
    expect(errOf(await tryLoad(end.join('\n')))).toMatch(/the end record counts 3 records/);
  });

  it('every truncation (by lines and by bytes of the gzip) is an error, never a kernel', async () => {
    const gz = gzipSync(text);
    for (let n = 0; n < lines.length; n += Math.max(1, Math.floor(lines.length / 60))) {
      const r = await tryLoad(lines.slice(0, n).join('\n') + (n ? '\n' : ''));
      expect(r, `lines ${n}`).toBeInstanceOf(BpfError);
    }
    for (const cut of [10, 100, gz.length >> 2, gz.length >> 1, gz.length - 20, gz.length - 1]) {
      expect(await tryLoad(gz.subarray(0, cut)), `bytes ${cut}`).toBeInstanceOf(BpfError);
    }
    // Cut inside a line: the last line is not whole JSON.
    expect(errOf(await tryLoad(text.slice(0, text.length - 40)))).toMatch(/^EINVAL: <stream>:line \d+: /);
  });

  it('fuzzed records never crash the loader: a kernel or one BpfError (EINVAL/EOPNOTSUPP)', async () => {
    const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({}), fc.constant(-1), fc.constant(2 ** 60));
    await fc.assert(
      fc.asyncProperty(fc.nat(lines.length - 1), fc.nat(40), junk, async (li, fi, value) => {
        const rec = JSON.parse(lines[li]!);
        const keys = Object.keys(rec);
        const field = keys[fi % keys.length]!;
        rec[field] = value;
        const bad = [...lines];
        bad[li] = JSON.stringify(rec);
        const r = await tryLoad(bad.join('\n') + '\n');
        if (r instanceof BpfError) expect(['EINVAL', 'EOPNOTSUPP']).toContain(r.errno);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(text.length - 1), fc.string({ minLength: 1, maxLength: 4 }), async (at, s) => {
        const r = await tryLoad(text.slice(0, at) + s + text.slice(at + s.length));
        if (r instanceof BpfError) expect(['EINVAL', 'EOPNOTSUPP']).toContain(r.errno);
      }),
      { numRuns: 200 },
    );
  });

  it('a version 1 file (one keyed record per object) still loads, and saves again as the current version with the same model', async () => {
    // Written by the version 1 writer: synthetic seed 5 with a zombie, a nested pid namespace,
    // a thread with its own fd table and a close-on-exec fd, a parent that comes later, an
    // unknown vm_pgoff and vm_flags bits.
    const v1 = fileURLToPath(new URL('./snapshot_v1.snap', import.meta.url));
    const h = await readSnapshotHeader(v1);
    expect(h.version).toBe(1);
    const k1 = await loadKernel(v1);
    expect(k1.taskCount).toBe(h.counts.task);
    expect(loadKernelSync(v1).taskCount).toBe(h.counts.task);
    const again = join(dir, 'v1-again.snap');
    await saveKernel(k1, again, { time: new Date(0) });
    expect((await readSnapshotHeader(again)).version).toBe(SNAPSHOT_VERSION);
    const k2 = await loadKernel(again);
    const recs = (k: Kernel) => [...snapshotRecords(k, { time: new Date(0) })].map((r) => JSON.stringify(r));
    expect(recs(k2)).toEqual(recs(k1));
    // The edge cases are there (the version 1 reader built them).
    const ns = [...k1.initPidNs.pids.entries()].map(([, t]) => t).find((t) => t.comm === 'nschild')!;
    expect(ns.vpid).toBe(2);
    expect(ns.real_parent!.comm).toBe('nsinit');
    expect(ns.real_parent!.real_parent!.comm).toBe('adopter');
    const priv = [...k1.initPidNs.pids.entries()].map(([, t]) => t).find((t) => t.comm === 'private-fd')!;
    expect(priv.files).not.toBe(priv.group_leader.files);
    expect([...ns.files!.close_on_exec]).toEqual([1]);
    expect([...k1.initPidNs.pids.entries()].map(([, t]) => t).find((t) => t.comm === 'zombie')!.state).toBe('Z');
    const first = k1.task(1).mm!.vma(0);
    expect([first.vm_pgoff, first.vm_flags_unknown]).toEqual([null, 0x100000]);
  });

  it('fuzzed version 1 records never crash the loader either', async () => {
    const v1 = gunzipSync(readFileSync(fileURLToPath(new URL('./snapshot_v1.snap', import.meta.url)))).toString().split('\n').filter(Boolean);
    const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({}), fc.constant(-1), fc.constant(2 ** 60));
    await fc.assert(
      fc.asyncProperty(fc.nat(v1.length - 1), fc.nat(40), junk, async (li, fi, value) => {
        const rec = JSON.parse(v1[li]!);
        const keys = Object.keys(rec);
        rec[keys[fi % keys.length]!] = value;
        const bad = [...v1];
        bad[li] = JSON.stringify(rec);
        const r = await tryLoad(bad.join('\n') + '\n');
        if (r instanceof BpfError) expect(['EINVAL', 'EOPNOTSUPP']).toContain(r.errno);
      }),
      { numRuns: 200 },
    );
  });

  it('a failed save leaves no file behind', async () => {
    const file = join(dir, 'never.snap');
    const k = syntheticKernel({ seed: 2, processes: 4 });
    const f = k.task(1).files!.fd.find((x) => x)!;
    f.private_data = { something: 'odd' };
    await expect(saveKernel(k, file)).rejects.toThrow(/EOPNOTSUPP: file .*private_data/);
    expect(() => readFileSync(file)).toThrow();
  });
});

describe('snapshot redaction', () => {
  it('pseudonyms are stable and every relation is kept', async () => {
    const k = syntheticKernel({ seed: 9, processes: 30 });
    const file = join(dir, 'red.snap');
    await saveKernel(k, file, { redactor: createRedactor({ fields: ['comm', 'paths', 'addresses'], key: Buffer.alloc(32, 1) }) });
    const r = await loadKernel(file);
    expect((await readSnapshotHeader(file)).redacted).toEqual(['comm', 'paths', 'addresses']);
    const pseud = new Map<string, string>();
    let changed = 0;
    for (const [pid, t] of k.initPidNs.pids.entries()) {
      const u = r.task(pid);
      // Same value, same pseudonym: a comm maps to one name only.
      const prev = pseud.get(t.comm);
      if (prev !== undefined) expect(u.comm).toBe(prev);
      pseud.set(t.comm, u.comm);
      if (u.comm !== t.comm) changed++;
      expect(u.comm.length).toBeLessThanOrEqual(15);
      expect(u.real_parent?.pid).toBe(t.real_parent?.pid);
      expect(u.tgid).toBe(t.tgid);
      expect(u.cgroup?.id).toBe(t.cgroup?.id);
      // fd tables and address spaces shared exactly where they were.
      expect(u.files === u.group_leader.files).toBe(t.files === t.group_leader.files);
      expect(u.mm === u.group_leader.mm).toBe(t.mm === t.group_leader.mm);
      expect(u.files?.fd.map((f) => (f ? f.f_inode.i_ino : null))).toEqual(t.files?.fd.map((f) => (f ? f.f_inode.i_ino : null)));
      u.files?.fd.forEach((f, fd) => {
        if (!f) return;
        const o = t.files!.fd[fd]!;
        expect(f.f_op.name).toBe(o.f_op.name);
        expect(f.private_data instanceof Socket ? f.private_data.ino : null).toBe(o.private_data instanceof Socket ? o.private_data.ino : null);
        if (o.path.startsWith('/')) {
          expect(f.path).not.toBe(o.path);
          expect(f.path.split('/').length).toBe(o.path.split('/').length);
        } else expect(f.path).toBe(o.path);
      });
    }
    expect(changed).toBeGreaterThan(0);
    // Two files with one path keep one pseudonym; the socket pairs still meet.
    const paths = new Map<string, string>();
    for (const [pid, t] of k.initPidNs.pids.entries())
      t.files?.fd.forEach((f, fd) => {
        if (!f) return;
        const p = r.task(pid).files!.fd[fd]!.path;
        if (paths.has(f.path)) expect(p).toBe(paths.get(f.path));
        paths.set(f.path, p);
      });
    const key = (b: Uint8Array, port: number) => `${Buffer.from(b).toString('hex')}:${port}`;
    const a = k.sockets('tcp');
    const b = r.sockets('tcp');
    expect(b.map((s) => s.ino)).toEqual(a.map((s) => s.ino));
    for (let i = 0; i < a.length; i++)
      for (let j = 0; j < a.length; j++) {
        const met = key(a[i]!.skc_daddr, a[i]!.dport) === key(a[j]!.skc_rcv_saddr, a[j]!.skc_num);
        expect(key(b[i]!.skc_daddr, b[i]!.dport) === key(b[j]!.skc_rcv_saddr, b[j]!.skc_num)).toBe(met);
      }
    // Kernel addresses move by one offset: a stack still symbolises the same.
    const off = k.ksyms.values[0]! - r.ksyms.values[0]!;
    expect(off).not.toBe(0n);
    for (let i = 0; i < k.ksyms.count; i++) expect(k.ksyms.values[i]! - r.ksyms.values[i]!).toBe(off);
    for (const [pid, t] of k.initPidNs.pids.entries()) expect(r.task(pid).kstack?.map((x) => x + off)).toEqual(t.kstack ?? undefined);
    expect(kernelObjects(r).get('task')!.size).toBe(kernelObjects(k).get('task')!.size);
  });

  it('an unknown field is EINVAL', () => {
    expect(() => createRedactor({ fields: ['comm', 'secrets'] })).toThrow("EINVAL: --redact: unknown field 'secrets'");
  });
});

describe('snapshot diff', () => {
  it('names what appeared, vanished and changed, per kind', () => {
    const a = syntheticKernel({ seed: 4, processes: 10 });
    const b = syntheticKernel({ seed: 4, processes: 10 });
    const t = b.fork(b.task(1), { comm: 'newcomer' });
    const gone = b.processes.toArray().reverse().find((x) => x.mm && x.pid !== t.pid)!;
    const goneIds = gone.signal.threads.toArray().map((x) => String(x.pid));
    b.exit(gone);
    b.task(1).comm = 'renamed';
    const d = diffKernels(a, b);
    expect(d.task!.appeared).toEqual([String(t.pid)]);
    expect(d.task!.vanished).toEqual(goneIds);
    expect(d.task!.changed.map((c) => c.key)).toEqual(['1']);
    expect(d.task!.changed[0]!.b).toMatchObject({ comm: 'renamed' });
    expect(d.fd!.appeared.length).toBeGreaterThan(0);
    expect(diffKernels(a, a).task).toEqual({ appeared: [], vanished: [], changed: [] });
  });

  it('an unknown uid/gid (a task gone before its status was read) is null, not a uid 0', () => {
    const a = syntheticKernel({ seed: 4, processes: 3 });
    const t = a.task(1);
    t.setCredLoader(() => null); // the source could not read them
    const task = JSON.parse(kernelObjects(a).get('task')!.get('1')!) as { uid: unknown; gid: unknown };
    expect(task.uid).toBeNull();
    expect(task.gid).toBeNull();
    const b = syntheticKernel({ seed: 4, processes: 3 });
    expect(JSON.parse(kernelObjects(b).get('task')!.get('1')!)).toMatchObject({ uid: b.task(1).uid, gid: b.task(1).gid });
  });
});
