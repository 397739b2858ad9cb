/**
 * The host source against this machine: the test process opens known files
 * and sockets and starts a thread, takes a snapshot, and checks the model
 * against what /proc says (read independently here, with plain fs calls).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  major,
  minor,
  mkdev,
  O_CLOEXEC,
  readHostWithReport,
  refStats,
  Socket,
  TaskFileWalker,
  TaskVmaWalker,
  TaskWalker,
  TCP_LISTEN,
  VM_EXEC,
  VM_MAYSHARE,
  VM_READ,
  VM_WRITE,
  type HostReport,
  type Kernel,
  type Task,
  type Vma,
} from '../src/index.js';
import { anonPipeFops } from '../src/sources/procfs/fops.js';

const pid = process.pid;
let dir: string;
const fds: Record<string, number> = {};
let server: net.Server;
let udp: dgram.Socket;
let worker: Worker;
let workerTid = 0;
let kernel: Kernel;
let report: HostReport;
/** /proc reads taken just before and just after the snapshot. */
let mapsBefore: string[];
let mapsAfter: string[];
let tasksBefore: string[];
let tasksAfter: string[];
let fdBefore: Map<number, string>;
let fdAfter: Map<number, string>;
let tcpLines: string[];
let udpLines: string[];
let cgChild: ChildProcess | null = null;
let cgDir: string | null = null;

function fdLinks(): Map<number, string> {
  const m = new Map<number, string>();
  for (const n of fs.readdirSync('/proc/self/fd')) {
    try {
      m.set(Number(n), fs.readlinkSync(`/proc/self/fd/${n}`));
    } catch {
      // closed meanwhile
    }
  }
  return m;
}

/** /proc/self/maps lines, the way show_map_vma prints them. */
function mapsLines(): string[] {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean);
}

/** Prints a model VMA like `show_map_vma` (test-local, independent of the formatter package). */
function formatVma(v: Vma): string {
  const f = v.vm_flags;
  const dev = v.vm_file ? v.vm_file.f_inode.s_dev : 0;
  const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  let line =
    `${hex(v.vm_start, 8)}-${hex(v.vm_end, 8)} ` +
    `${f & VM_READ ? 'r' : '-'}${f & VM_WRITE ? 'w' : '-'}${f & VM_EXEC ? 'x' : '-'}${f & VM_MAYSHARE ? 's' : 'p'} ` +
    `${hex(v.vm_file ? (v.vm_pgoff ?? 0) * 4096 : 0, 8)} ${hex(major(dev), 2)}:${hex(minor(dev), 2)} ${v.vm_file ? v.vm_file.f_inode.i_ino : 0} `;
  const name = v.vm_file ? v.vm_file.path : v.name;
  if (name !== null) line = line.padEnd(73, ' ') + name;
  return line;
}

const be32 = (b: Uint8Array): string =>
  [...b]
    .reverse()
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();

/** A /proc/net/tcp (v4) line from the model, minus seq_pad's trailing spaces. */
function formatTcp4(sk: Socket, sl: number): string {
  const H = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');
  const x = sk.inet!;
  return (
    `${String(sl).padStart(4)}: ${be32(sk.skc_rcv_saddr)}:${H(sk.skc_num, 4)} ${be32(sk.skc_daddr)}:${H(sk.dport, 4)} ` +
    `${H(sk.skc_state, 2)} ${H(sk.tx_queue, 8)}:${H(sk.rx_queue, 8)} ${H(x.tr, 2)}:${H(x.tm_when, 8)} ${H(x.retrnsmt, 8)} ` +
    `${String(sk.sk_uid).padStart(5)} ${String(x.timeout).padStart(8)} ${sk.ino} ${x.tail}`
  );
}

function statusField(text: string, key: string): string {
  return new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)![1]!;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-host-'));
  fs.writeFileSync(path.join(dir, 'ro.txt'), 'hello\n');
  fds.ro = fs.openSync(path.join(dir, 'ro.txt'), 'r');
  fds.rw = fs.openSync(path.join(dir, 'rw.bin'), 'w+');
  fs.writeSync(fds.rw, Buffer.alloc(10, 1)); // f_pos = 10
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  // O_RDWR on a FIFO does not block on Linux.
  fds.fifo = fs.openSync(path.join(dir, 'fifo'), fs.constants.O_RDWR);
  fds.dir = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self'));
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  const ts = await new Promise<string>((r) => worker.once('message', r));
  workerTid = Number(ts.split('/')[2]);

  // A child process in a cgroup of its own, when this host has a writable cgroup v2 mount.
  const cg2 = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  if (cg2 && process.getuid?.() === 0) {
    try {
      cgDir = path.join(cg2[4]!, `bpf-iter-test-${pid}`);
      fs.mkdirSync(cgDir);
      cgChild = spawn('sleep', ['60'], { stdio: 'ignore' });
      await new Promise((r) => cgChild!.once('spawn', r));
      fs.writeFileSync(path.join(cgDir, 'cgroup.procs'), String(cgChild.pid));
    } catch {
      cgDir = null;
    }
  }

  tasksBefore = fs.readdirSync('/proc/self/task');
  mapsBefore = mapsLines();
  fdBefore = fdLinks();
  ({ kernel, report } = readHostWithReport());
  mapsAfter = mapsLines();
  fdAfter = fdLinks();
  tasksAfter = fs.readdirSync('/proc/self/task');
  tcpLines = fs.readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1).filter(Boolean);
  udpLines = fs.readFileSync('/proc/net/udp', 'latin1').split('\n').slice(1).filter(Boolean);
});

afterAll(async () => {
  for (const fd of Object.values(fds)) fs.closeSync(fd);
  server?.close();
  udp?.close();
  await worker?.terminate();
  if (cgChild) {
    cgChild.kill('SIGKILL');
    await new Promise((r) => (cgChild!.exitCode !== null || cgChild!.signalCode ? r(null) : cgChild!.once('exit', r)));
  }
  if (cgDir) {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(cgDir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('host source: the test process', () => {
  it('has the process with what /proc/self/stat and status say', () => {
    const me = kernel.task(pid);
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync('/proc/self/status', 'latin1');
    expect(me.isLeader).toBe(true);
    expect(me.tgid).toBe(pid);
    expect(me.comm).toBe(comm);
    expect(me.real_parent?.pid).toBe(Number(f[1]));
    expect(me.uid).toBe(Number(statusField(status, 'Uid').split(/\s+/)[0]));
    expect(me.gid).toBe(Number(statusField(status, 'Gid').split(/\s+/)[0]));
    expect(me.start_time).toBe(Number(f[19]) * 10_000_000);
    expect(me.prio).toBe(Number(f[15]) + 100);
    expect(kernel.source).toBe('host');
    expect(kernel.processes.toArray()).toContain(me);
  });

  it('has every thread /proc/self/task listed before and after, sharing the leader’s files and mm', () => {
    const me = kernel.task(pid);
    const stable = tasksBefore.filter((t) => tasksAfter.includes(t)).map(Number);
    expect(stable).toContain(workerTid);
    const threads = me.signal.threads.toArray();
    expect(threads[0]).toBe(me);
    const modelTids = threads.map((t) => t.pid);
    for (const tid of stable) expect(modelTids).toContain(tid);
    for (const tid of modelTids) expect([...tasksBefore, ...tasksAfter].map(Number)).toContain(tid);
    const w = kernel.task(workerTid);
    expect(w.tgid).toBe(pid);
    expect(w.group_leader).toBe(me);
    expect(w.files).toBe(me.files);
    expect(w.mm).toBe(me.mm);
    const wstat = fs.readFileSync(`/proc/self/task/${workerTid}/stat`, 'latin1');
    expect(w.comm).toBe(wstat.slice(wstat.indexOf('(') + 1, wstat.lastIndexOf(')')));
  });

  it('has the fds /proc/self/fd shows, with inode, position and flags', () => {
    const files = kernel.task(pid).files!;
    let compared = 0;
    for (const [fd, link] of fdBefore) {
      if (fdAfter.get(fd) !== link) continue; // changed while the snapshot ran
      const f = files.fd[fd];
      expect(f, `fd ${fd} -> ${link}`).toBeTruthy();
      expect(f!.path).toBe(link);
      const st = fs.statSync(`/proc/self/fd/${fd}`);
      expect(f!.f_inode.i_ino).toBe(st.ino);
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
      // fdinfo prints f_flags | O_CLOEXEC when the fd's close-on-exec bit is set; the model keeps them apart.
      expect(f!.f_flags | (files.close_on_exec.has(fd) ? O_CLOEXEC : 0)).toBe(parseInt(statusField(info, 'flags'), 8));
      expect(f!.f_flags & O_CLOEXEC).toBe(0);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(Object.keys(fds).length);
    expect(files.fd[fds.rw!]!.f_pos).toBe(10);
    expect(files.fd[fds.ro!]!.path).toBe(path.join(dir, 'ro.txt'));
    expect(files.fd[fds.fifo!]!.f_op.name).toBe('pipefifo_fops');
    expect(files.fd[fds.dir!]!.f_op.name).toMatch(/_dir_operations$/);
    const st = fs.statSync(path.join(dir, 'rw.bin'));
    expect(files.fd[fds.rw!]!.f_inode.s_dev).toBe(mkdev(Math.floor(st.dev / 256) & 0xfff, (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00)));
    expect(files.fd[fds.rw!]!.f_inode.i_mode).toBe(st.mode);
  });

  it('names file kinds with the kernel’s fops symbols', () => {
    const files = kernel.task(pid).files!;
    for (const [fd, link] of fdBefore) {
      const f = files.fd[fd];
      if (!f || fdAfter.get(fd) !== link) continue;
      if (link.startsWith('socket:[')) expect(f.f_op.name).toBe('socket_file_ops');
      else if (link.startsWith('pipe:[')) {
        // Anonymous pipes have their own table since 6.15 (FIFOs keep pipefifo_fops).
        expect(f.f_op.name).toBe(anonPipeFops(fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8')));
        expect(f.f_inode.i_ino).toBe(Number(link.slice(6, -1)));
      } else if (link === 'anon_inode:[eventpoll]') expect(f.f_op.name).toBe('eventpoll_fops');
      else if (link === 'anon_inode:[eventfd]') expect(f.f_op.name).toBe('eventfd_fops');
      else if (link === '/dev/null') expect(f.f_op.name).toBe('null_fops');
    }
    // One FileOperations object per kind: identity comparisons work.
    const socks = files.fd.filter((f) => f?.path.startsWith('socket:['));
    expect(new Set(socks.map((f) => f!.f_op)).size).toBe(1);
  });

  it('reproduces /proc/self/maps lines byte for byte', () => {
    const mm = kernel.task(pid).mm!;
    const model = new Set(mm.vmas().map(formatVma));
    // [vsyscall] is the gate area /proc appends, not a VMA of the mm (the model, like the kernel's task_vma, has none).
    const stable = mapsBefore.filter((l) => mapsAfter.includes(l) && !l.endsWith('[vsyscall]'));
    expect(stable.length).toBeGreaterThan(10);
    expect(mm.vmas().some((v) => v.vm_start >= 2 ** 63)).toBe(false);
    // Anonymous mappings of a running Node process (GC, malloc arenas, [heap]) may change
    // and change back while the snapshot runs; file mappings do not.
    const anon = (l: string): boolean => /^\S+ \S+ \S+ \S+ 0 /.test(l); // inode 0: no file
    const fixed = stable.filter((l) => !anon(l));
    for (const line of fixed) expect(model, line).toContain(line);
    const anonStable = stable.filter(anon);
    expect(anonStable.filter((l) => model.has(l)).length).toBeGreaterThanOrEqual(anonStable.length * 0.8);
    // Every file-backed model line was in /proc at one of the two reads (nothing invented).
    const seen = new Set([...mapsBefore, ...mapsAfter]);
    for (const line of model) if (!anon(line)) expect(seen, line).toContain(line);
    // Named mappings keep their name, not a file.
    const heap = mm.vmas().find((v) => v.name === '[stack]');
    expect(heap?.vm_file).toBeNull();
  });

  it('has the listening TCP socket with its port, inode and state, linked from its fd', () => {
    const port = (server.address() as net.AddressInfo).port;
    const line = tcpLines.find((l) => l.includes(`0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`));
    expect(line).toBeDefined();
    const ino = Number(line!.trim().split(/\s+/)[9]);
    const sk = kernel.sockets('tcp').find((s) => s.skc_num === port)!;
    expect(sk).toBeDefined();
    expect(sk.skc_state).toBe(TCP_LISTEN);
    expect(sk.ino).toBe(ino);
    expect([...sk.skc_rcv_saddr]).toEqual([127, 0, 0, 1]);
    expect(kernel.tcpListen.all()).toContain(sk);
    // The line comes back byte for byte (up to seq_pad's trailing spaces).
    const sl = Number(line!.trim().split(':')[0]);
    expect(formatTcp4(sk, sl)).toBe(line!.trimEnd());
    const file = kernel
      .task(pid)
      .files!.fd.find((f) => f?.path === `socket:[${ino}]`);
    expect(file?.private_data).toBe(sk);
  });

  it('keeps /proc/net/tcp order as the walk order', () => {
    const fileInos = tcpLines.map((l) => Number(l.trim().split(/\s+/)[9]));
    const modelInos = kernel
      .sockets('tcp')
      .filter((s) => s.skc_family === 2)
      .map((s) => s.ino)
      .filter((i) => fileInos.includes(i));
    expect(modelInos).toEqual(fileInos.filter((i) => modelInos.includes(i)));
  });

  it('has the UDP socket in the bucket its sl column names', () => {
    const port = (udp.address() as net.AddressInfo).port;
    const line = udpLines.find((l) => l.includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} `))!;
    expect(line).toBeDefined();
    const f = line.trim().split(/\s+/);
    const sk = kernel.sockets('udp').find((s) => s.skc_num === port)!;
    expect(sk.ino).toBe(Number(f[9]));
    const sl = Number(f[0]!.replace(':', ''));
    // The model's table is as large as the kernel's (net.ipv4.udp_hash_entries): every slot is kept.
    expect(sl).toBeLessThan(kernel.udp.nBuckets);
    expect(kernel.udp.buckets[sl]).toContain(sk);
  });

  it('puts the test process in its cgroup from /proc/self/cgroup', () => {
    const cgText = fs.readFileSync('/proc/self/cgroup', 'utf8');
    const p = /^0::(.*)$/m.exec(cgText)?.[1];
    if (p === undefined) return; // cgroup v1 only
    const cg = kernel.cgroupByPath(p)!;
    expect(cg).toBeDefined();
    expect(cg.tasks.toArray()).toContain(kernel.task(pid));
    expect(kernel.task(pid).cgroup).toBe(cg);
  });

  it('builds the cgroup v2 tree with inode numbers as ids, and attaches tasks to it', () => {
    if (!cgDir || !cgChild) return;
    const cg = kernel.cgroupByPath(`/bpf-iter-test-${pid}`)!;
    expect(cg).toBeDefined();
    expect(cg.id).toBe(fs.statSync(cgDir).ino);
    expect(kernel.cgroups.get(cg.id)).toBe(cg);
    expect(cg.tasks.toArray().map((t) => t.pid)).toEqual([cgChild.pid]);
  });

  it('reports refused reads instead of failing (pid 1 here)', () => {
    let refused = false;
    try {
      fs.readFileSync('/proc/1/maps');
    } catch (e) {
      refused = (e as NodeJS.ErrnoException).code === 'EACCES';
    }
    if (!refused) return;
    expect(report.denied).toContain(1);
    const init = kernel.task(1);
    expect(init.mm).toBeNull();
    expect(report.errors.some((e) => e.path === '/proc/1/maps' && e.code === 'EACCES')).toBe(true);
  });

  it('marks kernel threads and gives them no address space', () => {
    const kthreadd = kernel.findTask(2);
    if (!kthreadd || kthreadd.comm !== 'kthreadd') return;
    expect(kthreadd.flags & 0x00200000).toBeTruthy();
    expect(kthreadd.mm).toBeNull();
    expect(kthreadd.real_parent).toBe(kernel.initTask);
  });
});

describe('host source: walked by the core walkers', () => {
  it('TaskWalker visits every thread in ascending tid order, this process and its worker included', () => {
    const before = refStats.outstanding;
    const w = new TaskWalker(kernel, { ns: kernel.initPidNs, type: 'ALL', pid: 0 });
    const tids: number[] = [];
    for (let t = w.start(); t; t = w.next()) tids.push(t.pid);
    w.stop();
    expect(tids.length).toBe(kernel.taskCount);
    expect([...tids].sort((a, b) => a - b)).toEqual(tids);
    expect(tids).toContain(pid);
    expect(tids).toContain(workerTid);
    expect(refStats.outstanding).toBe(before);
  });

  it('TaskFileWalker lists this process’s fds once, on the leader', () => {
    const w = new TaskFileWalker(kernel, { ns: kernel.initPidNs, type: 'TGID', pid });
    const seen: { task: Task; fd: number }[] = [];
    for (let x = w.start(); x; x = w.next()) seen.push({ task: x.task, fd: x.fd });
    w.stop();
    const me = kernel.task(pid);
    expect(seen.every((s) => s.task === me)).toBe(true);
    const expected = me.files!.fd.flatMap((f, i) => (f ? [i] : []));
    expect(seen.map((s) => s.fd)).toEqual(expected);
    for (const fd of Object.values(fds)) expect(expected).toContain(fd);
  });

  it('TaskVmaWalker yields this process’s VMAs in address order, matching /proc/self/maps', () => {
    const w = new TaskVmaWalker(kernel, { ns: kernel.initPidNs, type: 'TID', pid });
    const lines: string[] = [];
    for (let x = w.start(); x; x = w.next()) lines.push(formatVma(x.vma));
    w.stop();
    expect(lines.length).toBe(kernel.task(pid).mm!.vmaCount);
    expect(lines[0]).toBe(mapsBefore[0]); // the executable's first segment does not move
  });
});

describe('host source: options', () => {
  it('reads only the given pids, without threads, files or maps when asked', () => {
    const { kernel: k, report: r } = readHostWithReport({ pids: [pid], threads: false, files: false, vmas: false, ksyms: false, slabs: false });
    expect(r.counts.processes).toBe(1);
    expect(k.taskCount).toBe(1);
    const me = k.task(pid);
    expect(me.mm).toBeNull();
    expect(me.files).toBeNull();
    expect(k.ksyms.count).toBe(0);
  });

  it('counts a pid that does not exist as vanished', () => {
    const { kernel: k, report: r } = readHostWithReport({ pids: [pid, 0x3ffffff], ksyms: false, slabs: false });
    expect(r.vanished).toEqual([0x3ffffff]);
    expect(k.findTask(pid)).toBeDefined();
  });
});
