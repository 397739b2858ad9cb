/**
 * readHostWithReportAsync against readHostWithReport on a fixture process the
 * test spawned and holds still (a python child sleeping in read() with 2,500
 * fds, a second thread and a TCP listener): with enough fds open that the
 * links are read by a worker thread too, both must build the same tasks, fd
 * tables and address space. The child, not this process: this process's own
 * threads, fds and mappings move under the test runner (and the async read's
 * own reader threads), so a comparison of it races with itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostAsync, readHostWithReport, readHostWithReportAsync, type HostOptions, type Kernel } from '../src/index.js';

const CHILD = String.raw`
import json, os, socket, sys, threading
d = sys.argv[1]
fds = [os.open('/dev/null' if i % 2 else os.path.join(d, 'f.txt'), os.O_RDONLY) for i in range(2500)]
t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen()
ready = threading.Event()
def sleeper():
    ready.set()
    threading.Event().wait()
th = threading.Thread(target=sleeper, daemon=True); th.start(); ready.wait()
print(json.dumps({'pid': os.getpid(), 'port': t.getsockname()[1], 'threads': len(os.listdir('/proc/self/task'))}), flush=True)
sys.stdin.read()
`;

let dir: string;
let proc: ChildProcess;
let child: { pid: number; port: number; threads: number };
let opts: HostOptions;

/** What the comparison looks at: tasks, fds (fd, path, inode, mode, fops) and VMAs. */
function summary(k: Kernel): { tasks: string[]; fds: string[]; vmas: string[] } {
  const me = k.task(child.pid);
  const tasks = [...me.signal.threads.values()].map((t) => `${t.pid} ${t.tgid} ${t.comm} ${t.__state}`).sort();
  const fds: string[] = [];
  me.files!.fd.forEach((f, n) => {
    if (f) fds.push(`${n} ${f.path} ${f.f_inode.i_ino} ${f.f_inode.i_mode} ${f.f_inode.s_dev} ${f.f_op.name} ${f.f_flags}`);
  });
  const vmas = me.mm!.vmas().map((v) => `${v.vm_start}-${v.vm_end} ${v.vm_flags} ${v.vm_pgoff} ${v.vm_file?.path ?? ''} ${v.vm_file?.f_inode.i_ino ?? ''}`);
  return { tasks, fds, vmas };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-host-async-'));
  fs.writeFileSync(path.join(dir, 'f.txt'), 'x');
  proc = spawn('python3', ['-c', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  child = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out));
    });
    proc.on('error', reject);
    proc.on('exit', (c) => reject(new Error(`python child exited with ${c} before reporting`)));
  });
  opts = { pids: [child.pid], ksyms: false, slabs: false, routes: false, cgroups: false };
});

afterAll(() => {
  proc?.stdin!.end();
  proc?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('host source: async snapshot', () => {
  it('builds the same model as the sync snapshot', async () => {
    // The child sleeps in read() and its thread in a wait: nothing of it moves between the reads.
    const sync = summary(readHostWithReport(opts).kernel);
    const async = summary((await readHostWithReportAsync({ ...opts, readers: 2 })).kernel);
    expect(sync.fds.length).toBeGreaterThanOrEqual(2500);
    expect(sync.tasks).toHaveLength(child.threads); // what the child counted in /proc/self/task
    expect(async.tasks).toEqual(sync.tasks);
    expect(async.fds).toEqual(sync.fds);
    expect(sync.vmas.length).toBeGreaterThan(5); // python, libc, ld.so... mapped
    expect(async.vmas).toEqual(sync.vmas);
  });

  it('reports the same counts, and reads on one thread too', async () => {
    const a = await readHostWithReportAsync({ ...opts, readers: 1, vmas: false });
    const s = readHostWithReport({ ...opts, vmas: false });
    // Sockets are the whole machine's: other processes open and close them between the two reads.
    // Every other count is the child's; of the sockets, the child's listener is on both sides.
    const { sockets: _a, ...countsA } = a.report.counts;
    const { sockets: _s, ...countsS } = s.report.counts;
    expect(countsA).toEqual(countsS);
    const port = child.port;
    for (const k of [a.kernel, s.kernel]) expect(k.sockets('tcp').filter((sk) => sk.skc_num === port)).toHaveLength(1);
    expect(a.report.denied).toEqual(s.report.denied);
    expect(s.report.counts.fds).toBeGreaterThanOrEqual(2500);
    expect((await readHostAsync({ ...opts, readers: 3 })).task(child.pid).files!.fd.filter(Boolean).length).toBe(s.report.counts.fds);
  });

  it('keeps a refused fd table refused, like the sync snapshot (pid 1 in a sandbox; nothing refused elsewhere)', async () => {
    const s = readHostWithReport({ pids: [1], vmas: false, ksyms: false, slabs: false });
    const a = await readHostWithReportAsync({ pids: [1], vmas: false, ksyms: false, slabs: false });
    expect(a.report.denied).toEqual(s.report.denied);
    expect(a.report.counts.fds).toBe(s.report.counts.fds);
  });
});
