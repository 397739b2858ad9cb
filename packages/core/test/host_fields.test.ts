/**
 * The host model against the kernel's own view, field by field, for the
 * fields /proc can tell: the running kernel's BPF iterators (the bpf
 * source's programs, see bpf_fixture.ts) on objects present in both reads,
 * and the fixture's objects (a sleeping python child with an mmap'ed file
 * and sockets, this process's files) exactly.
 *
 * Skipped, with the reason in the suite title and a warning, where BPF is
 * impossible (not root, no BTF, no clang/bpftool/libbpf-dev, no bpffs).
 */
import {
  bpfRecords,
  buildBpfPrograms,
  O_CLOEXEC,
  PF_KTHREAD,
  readHost,
  TASK_FREEZABLE,
  TASK_FROZEN,
  TASK_INTERRUPTIBLE,
  TASK_STATE_ALL,
  TASK_WAKEKILL,
  __TASK_STOPPED,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  type Kernel,
  type Task,
} from '@bpf-iter/core';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { connect, createServer, type Socket as NetSocket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, startFixture, suiteTitle, type Fixture } from './bpf_fixture.js';

const avail = availability('host fields');

describe.skipIf(!avail.ok)(suiteTitle('host model vs the kernel: every field /proc can tell', avail), () => {
  let fx: Fixture;
  let host: Kernel;

  beforeAll(async () => {
    buildBpfPrograms();
    fx = await startFixture();
    host = readHost({ ksyms: false, slabs: false, routes: false });
  }, 120_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('unix: sk_state is the kernel TCP_* number (not /proc’s SS_*) on the test’s sockets: listeners and a connected pair', async () => {
    // The test's own sockets, by inode: other processes' sockets connect and close between the reads.
    const path = join(fx.dir, 'pair.sock');
    const accepted: NetSocket[] = [];
    const srv = createServer((c) => accepted.push(c));
    await new Promise<void>((r) => srv.listen(path, r));
    const client = connect(path);
    await new Promise<void>((r) => client.once('connect', r));
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
    try {
      const sockIno = (s: NetSocket): number => Number(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${(s as unknown as { _handle: { fd: number } })._handle.fd}`))![1]);
      const listenerIno = (p: string, h: Kernel): number => h.sockets('unix').find((sk) => sk.path === p && sk.skc_state === TCP_LISTEN)!.ino;
      const k = new Map(bpfRecords('unix').map((r) => [r.ino, r.state]));
      const now = readHost({ pids: [process.pid], vmas: false, ksyms: false, slabs: false, routes: false, cgroups: false });
      const s = new Map(now.sockets('unix').map((sk) => [sk.ino, sk.skc_state]));
      const want = new Map([
        [fx.child.unix.ino, TCP_LISTEN],
        [listenerIno(fx.self.unixPath, now), TCP_LISTEN],
        [listenerIno(path, now), TCP_LISTEN],
        [sockIno(client), TCP_ESTABLISHED],
        [sockIno(accepted[0]!), TCP_ESTABLISHED],
      ]);
      expect(want.size).toBe(5);
      for (const [ino, state] of want) {
        expect(k.get(ino), `kernel ${ino}`).toBe(state);
        expect(s.get(ino), `host ${ino}`).toBe(state);
      }
    } finally {
      client.destroy();
      for (const c of accepted) c.destroy();
      await new Promise((r) => srv.close(r));
    }
  });

  it('task_file: f_flags equal the kernel file->f_flags on the fixture’s files (no O_CLOEXEC anywhere); close-on-exec is in the fd table', () => {
    // The kernel never keeps O_CLOEXEC in f_flags (the kernel's records alone: no race with other processes).
    const recs = bpfRecords('task_file').filter((r) => r.tgid === r.pid);
    expect(recs.length).toBeGreaterThan(5);
    expect(recs.filter((r) => r.f_flags & O_CLOEXEC)).toEqual([]);
    // This process's files the fixture opened (O_RDWR|O_CREAT, the fd held open): exactly the kernel's f_flags.
    // Other fds of any process may close and be reused with other flags between the reads: not compared.
    const mine = bpfRecords('task_file', { pid: process.pid }).filter((r) => r.tgid === r.pid);
    const selfFd = host.task(process.pid).files!.fd;
    for (const f of fx.self.files) {
      const k = mine.find((r) => r.fd === f.fd);
      expect(k, `fd ${f.fd}`).toBeDefined();
      expect(selfFd[f.fd]!.f_flags, `fd ${f.fd}`).toBe(k!.f_flags);
    }
    // The child: every fd exactly; python opens its files and sockets close-on-exec (PEP 446), not stdin/out/err.
    const cpid = fx.child.pid;
    const kc = bpfRecords('task_file', { pid: cpid }).map((r) => `${r.fd} ${r.f_flags}`);
    const files = host.task(cpid).files!;
    const sc = files.fd.flatMap((f, i) => (f ? [`${i} ${f.f_flags}`] : []));
    expect(sc).toEqual(kc);
    for (const o of [fx.child.tcp, fx.child.udp, fx.child.unix, fx.child.netlink, { fd: fx.child.fileFd }]) expect(files.close_on_exec.has(o.fd), `fd ${o.fd}`).toBe(true);
    for (const fd of [0, 1, 2]) expect(files.close_on_exec.has(fd)).toBe(false);
    // fdinfo's flags = f_flags | (close_on_exec ? O_CLOEXEC : 0), for every fd of the child.
    for (let fd = 0; fd < files.fd.length; fd++) {
      if (!files.fd[fd]) continue;
      const info = readFileSync(`/proc/${cpid}/fdinfo/${fd}`, 'utf8');
      const flags = parseInt(/^flags:\s*(\d+)/m.exec(info)![1]!, 8);
      expect(flags, `fd ${fd}`).toBe(files.fd[fd]!.f_flags | (files.close_on_exec.has(fd) ? O_CLOEXEC : 0));
    }
  });

  it('task_vma: vm_flags equal the kernel vma->vm_flags on every VMA of the held-still child, read alone and in a whole-machine read', () => {
    const hostVmas = (k: Kernel, tgid: number): Map<number, number> => {
      const m = new Map<number, number>();
      const mm = k.task(tgid).mm;
      for (const v of mm?.vmas() ?? []) m.set(v.vm_start, v.vm_flags);
      return m;
    };
    const cpid = fx.child.pid;
    // The child may still be settling into its read() (a buffer mapped) after it reported:
    // read it on both sides again until two reads agree on its address ranges.
    const line = (start: number, flags: number): string => `${start.toString(16)} ${flags.toString(16)}`;
    let kc = bpfRecords('task_vma', { pid: cpid });
    let child = readHost({ pids: [cpid], files: false, sockets: false, ksyms: false, slabs: false, routes: false, cgroups: false });
    for (let i = 0; i < 3 && kc.map((r) => r.start).join() !== [...hostVmas(child, cpid).keys()].join(); i++) {
      kc = bpfRecords('task_vma', { pid: cpid });
      child = readHost({ pids: [cpid], files: false, sockets: false, ksyms: false, slabs: false, routes: false, cgroups: false });
    }
    const sc = hostVmas(child, cpid);
    expect(kc.length).toBeGreaterThan(5);
    expect(kc.map((r) => line(r.start, r.flags))).toEqual([...sc].map(([a, f]) => line(a, f)));
    for (const v of child.task(cpid).mm!.vmas()) expect(v.vm_flags_unknown, v.vm_start.toString(16)).toBe(0);
    // The mmap'ed file (MAP_SHARED, read-write): VM_SHARED and VM_MAYSHARE, which maps' letters cannot both tell.
    const m = kc.find((r) => r.ino === fx.child.mapped.ino)!;
    expect(m.flags & 0x8b).toBe(0x8b);
    // The whole-machine read (every process, the code path the system-wide snapshot takes) on the
    // same held-still child: exactly the kernel's VMAs too. Other processes are not compared: their
    // page protections change between the reads (mprotect by JITs), which says nothing about us.
    const whole = readHost({ files: false, sockets: false, ksyms: false, slabs: false, routes: false, cgroups: false });
    expect(whole.processes.toArray().length).toBeGreaterThan(2);
    expect([...hostVmas(whole, cpid)].map(([a, f]) => line(a, f))).toEqual(kc.map((r) => line(r.start, r.flags)));
  });

  it('task: comm is task->comm (TASK_COMM_LEN) on every kernel thread (kworkers included) and the child, exactly', () => {
    // Two kernel reads around one host read: a thread whose comm is the same in both kernel reads
    // held still across the host read (a kernel thread's task->comm is set when it is created; a
    // kworker that exits and whose pid is reused shows a different task in the second read).
    // User threads other than the child's are not compared: any of them may rename itself (prctl).
    const k1 = new Map(bpfRecords('task').map((r) => [r.pid, r]));
    const now = readHost({ files: false, sockets: false, vmas: false, ksyms: false, slabs: false, routes: false, cgroups: false });
    const k2 = new Map(bpfRecords('task').map((r) => [r.pid, r]));
    const s = new Map<number, string>();
    for (const p of now.processes.toArray()) for (const t of p.signal.threads.toArray()) s.set(t.pid, t.comm);
    const held = [...k1.values()].filter((r) => k2.get(r.pid)?.comm === r.comm && s.has(r.pid));
    const kthreads = held.filter((r) => r.flags & PF_KTHREAD);
    expect(kthreads.length).toBeGreaterThan(5);
    const compared = [...kthreads, ...held.filter((r) => r.tgid === fx.child.pid)];
    expect(compared.some((r) => r.pid === fx.child.pid)).toBe(true);
    const differ = compared.filter((r) => r.comm !== s.get(r.pid)).map((r) => `${r.pid} kernel '${r.comm}' host '${s.get(r.pid)}'`);
    expect(differ, differ.slice(0, 5).join('; ')).toEqual([]);
    for (const c of s.values()) expect(Buffer.byteLength(c, 'latin1')).toBeLessThanOrEqual(15);
    // /proc prints more than task->comm for these (full kthread names, workqueue descriptors): the host shows task->comm.
    const longer = kthreads.filter((r) => readFileSync(`/proc/${r.pid}/comm`, 'latin1').trim() !== r.comm);
    expect(longer.length).toBeGreaterThan(0);
  });

  it('task: __state agrees with the kernel task->__state on every bit the host knows, on tasks held still; the rest (TASK_FREEZABLE...) is marked unknown', async () => {
    // Held still: the child sleeping in read() (S) and a process the test stopped (T). Every other
    // task may run or sleep between the reads, so only the host's own marking is checked on them.
    const stopped = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      stopped.kill('SIGSTOP');
      while (!/\) T /.test(readFileSync(`/proc/${stopped.pid}/stat`, 'latin1'))) await new Promise((r) => setTimeout(r, 5));
      const recs = bpfRecords('task').filter((r) => !r.exit_state);
      const now = readHost({ files: false, sockets: false, vmas: false, ksyms: false, slabs: false, routes: false, cgroups: false });
      const s = new Map<number, Task>();
      for (const p of now.processes.toArray()) for (const t of p.signal.threads.toArray()) if (t.pid) s.set(t.pid, t); // not the idle task
      const k = new Map(recs.map((r) => [r.pid, r.state]));
      for (const [pid, want] of [
        [fx.child.pid, TASK_INTERRUPTIBLE],
        [stopped.pid!, __TASK_STOPPED],
      ] as const) {
        const t = s.get(pid)!;
        const known = TASK_STATE_ALL & ~t.__state_unknown;
        expect(k.get(pid)! & want, `kernel ${pid}`).toBe(want);
        expect(t.__state & known, `host ${pid}`).toBe(k.get(pid)! & known);
        expect(t.__state & want, `host ${pid}`).toBe(want);
      }
      // Bits a letter cannot show are unknown on the host, never silently 0: TASK_FREEZABLE sleepers are common.
      for (const t of s.values()) expect(t.__state_unknown & (TASK_FREEZABLE | TASK_FROZEN | TASK_WAKEKILL)).toBe(TASK_FREEZABLE | TASK_FROZEN | TASK_WAKEKILL);
      const freezable = recs.filter((r) => r.state & TASK_FREEZABLE && s.has(r.pid));
      for (const r of freezable) expect(s.get(r.pid)!.__state & TASK_FREEZABLE).toBe(0);
    } finally {
      stopped.kill('SIGKILL');
    }
  });
});
