/**
 * readHostWithReportAsync against readHostWithReport on the test process:
 * with enough fds open that the links are read by a worker thread too, both
 * must build the same tasks, fd tables and address space.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostAsync, readHostWithReport, readHostWithReportAsync, type HostOptions, type Kernel } from '../src/index.js';

const pid = process.pid;
const opts: HostOptions = { pids: [pid], ksyms: false, slabs: false, routes: false, cgroups: false };
let dir: string;
const opened: number[] = [];
let server: net.Server;
let worker: Worker;

/** What the comparison looks at: tasks, fds (fd, path, inode, mode, fops) and VMAs. */
function summary(k: Kernel): { tasks: string[]; fds: string[]; vmas: string[] } {
  const me = k.task(pid);
  // Thread states (R/S) move between two reads of a live process: compare the stable fields.
  const tasks = [...me.signal.threads.values()].map((t) => `${t.pid} ${t.tgid} ${t.comm}`).sort();
  const fds: string[] = [];
  me.files!.fd.forEach((f, n) => {
    if (f) fds.push(`${n} ${f.path} ${f.f_inode.i_ino} ${f.f_inode.i_mode} ${f.f_inode.s_dev} ${f.f_op.name} ${f.f_flags}`);
  });
  // File-backed VMAs only: the async read's own worker threads map and unmap anonymous stacks and arenas.
  const vmas = me
    .mm!.vmas()
    .filter((v) => v.vm_file)
    .map((v) => `${v.vm_start}-${v.vm_end} ${v.vm_flags} ${v.vm_pgoff} ${v.vm_file!.path} ${v.vm_file!.f_inode.i_ino}`);
  return { tasks, fds, vmas };
}

const state = (): string => fs.readFileSync('/proc/self/maps', 'utf8') + fs.readdirSync('/proc/self/fd').join() + fs.readdirSync('/proc/self/task').join();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-host-async-'));
  fs.writeFileSync(path.join(dir, 'f.txt'), 'x');
  // 2,500 fds: more than two chunks of links, so a worker thread reads some of them.
  for (let i = 0; i < 2500; i++) opened.push(fs.openSync(i % 2 ? '/dev/null' : path.join(dir, 'f.txt'), 'r'));
  server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  worker = new Worker(`require('node:worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1000);`, { eval: true });
  await new Promise((r) => worker.once('message', r));
});

afterAll(async () => {
  for (const fd of opened) fs.closeSync(fd);
  server?.close();
  await worker?.terminate();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('host source: async snapshot', () => {
  it('builds the same model as the sync snapshot', { timeout: 30_000 }, async () => {
    // The process maps memory (heap growth, the reader's worker thread) while it is young: retry until it held still.
    let sync!: ReturnType<typeof summary>;
    let async!: ReturnType<typeof summary>;
    for (let attempt = 0; attempt < 30; attempt++) {
      const before = state();
      sync = summary(readHostWithReport(opts).kernel);
      async = summary((await readHostWithReportAsync({ ...opts, readers: 2 })).kernel);
      if (state() === before) break;
    }
    expect(sync.fds.length).toBeGreaterThanOrEqual(2500);
    expect(sync.tasks.length).toBeGreaterThan(1);
    expect(async.tasks).toEqual(sync.tasks);
    expect(async.fds).toEqual(sync.fds);
    expect(sync.vmas.length).toBeGreaterThan(5); // node, libc, ld.so... mapped
    expect(async.vmas).toEqual(sync.vmas);
  });

  it('reports the same counts, and reads on one thread too', async () => {
    const a = await readHostWithReportAsync({ ...opts, readers: 1, vmas: false });
    const s = readHostWithReport({ ...opts, vmas: false });
    // Sockets are the whole machine's: other processes open and close them between the two reads.
    // Every other count is this process's; of the sockets, the test's own listener is on both sides.
    const { sockets: _a, ...countsA } = a.report.counts;
    const { sockets: _s, ...countsS } = s.report.counts;
    expect(countsA).toEqual(countsS);
    const port = (server.address() as net.AddressInfo).port;
    for (const k of [a.kernel, s.kernel]) expect(k.sockets('tcp').filter((sk) => sk.skc_num === port)).toHaveLength(1);
    expect(a.report.denied).toEqual(s.report.denied);
    expect((await readHostAsync({ ...opts, readers: 3 })).task(pid).files!.fd.filter(Boolean).length).toBe(s.report.counts.fds);
  });

  it('keeps a refused fd table refused, like the sync snapshot (pid 1 in a sandbox; nothing refused elsewhere)', async () => {
    const s = readHostWithReport({ pids: [1], vmas: false, ksyms: false, slabs: false });
    const a = await readHostWithReportAsync({ pids: [1], vmas: false, ksyms: false, slabs: false });
    expect(a.report.denied).toEqual(s.report.denied);
    expect(a.report.counts.fds).toBe(s.report.counts.fds);
  });
});
