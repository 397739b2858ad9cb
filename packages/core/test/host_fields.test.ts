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
  TCP_LISTEN,
  type Kernel,
  type Task,
} from '@bpf-iter/core';
import { readFileSync } from 'node:fs';
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

  it('unix: sk_state is the kernel TCP_* number (not /proc’s SS_*) on every socket seen by both', () => {
    const k = new Map(bpfRecords('unix').map((r) => [r.ino, r.state]));
    const s = new Map(host.sockets('unix').map((sk) => [sk.ino, sk.skc_state]));
    const both = [...k.keys()].filter((i) => s.has(i));
    expect(both.length).toBeGreaterThan(2);
    // A socket may connect or close between the reads: a handful at most.
    const differ = both.filter((i) => k.get(i) !== s.get(i)).map((i) => [i, k.get(i), s.get(i)]);
    expect(differ.length, JSON.stringify(differ.slice(0, 5))).toBeLessThanOrEqual(Math.max(1, both.length / 50));
    expect(k.get(fx.child.unix.ino)).toBe(TCP_LISTEN);
    expect(s.get(fx.child.unix.ino)).toBe(TCP_LISTEN);
  });

  it('task_file: f_flags equal the kernel file->f_flags (no O_CLOEXEC); close-on-exec is in the fd table', () => {
    const recs = bpfRecords('task_file').filter((r) => r.tgid !== process.pid && r.tgid === r.pid);
    const k = new Map(recs.map((r) => [`${r.tgid} ${r.fd}`, r.f_flags]));
    const s = new Map<string, number>();
    for (const p of host.processes.toArray()) {
      const fd = p.files?.fd ?? [];
      for (let i = 0; i < fd.length; i++) if (fd[i]) s.set(`${p.tgid} ${i}`, fd[i]!.f_flags);
    }
    const both = [...k.keys()].filter((key) => s.has(key));
    expect(both.length).toBeGreaterThan(5);
    // The kernel never keeps O_CLOEXEC in f_flags.
    expect(recs.filter((r) => r.f_flags & O_CLOEXEC)).toEqual([]);
    const differ = both.filter((key) => k.get(key) !== s.get(key)).map((key) => [key, k.get(key)!.toString(8), s.get(key)!.toString(8)]);
    expect(differ.length, JSON.stringify(differ.slice(0, 5))).toBeLessThanOrEqual(Math.max(1, both.length / 100));
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

  it('task_vma: vm_flags equal the kernel vma->vm_flags on every VMA of the child, and system-wide on VMAs seen by both', () => {
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
    // Every other process (this one's V8 heap moves between reads).
    const all = bpfRecords('task_vma').filter((r) => r.tgid !== process.pid && r.tgid !== cpid);
    let both = 0;
    const differ: string[] = [];
    const byTgid = new Map<number, Map<number, number>>();
    for (const r of all) {
      let h = byTgid.get(r.tgid);
      if (!h) byTgid.set(r.tgid, (h = host.processes.toArray().some((t) => t.tgid === r.tgid) ? hostVmas(host, r.tgid) : new Map()));
      const f = h.get(r.start);
      if (f === undefined) continue;
      both++;
      if (f !== r.flags) differ.push(`${r.tgid} ${r.start.toString(16)} kernel ${r.flags.toString(16)} host ${f.toString(16)}`);
    }
    expect(both).toBeGreaterThan(kc.length);
    expect(differ.length, differ.slice(0, 5).join('; ')).toBeLessThanOrEqual(Math.max(2, both / 100));
  });

  it('task: comm is task->comm (TASK_COMM_LEN) for every thread seen by both, kernel threads and kworkers included', () => {
    const recs = bpfRecords('task');
    const s = new Map<number, string>();
    for (const p of host.processes.toArray()) for (const t of p.signal.threads.toArray()) s.set(t.pid, t.comm);
    const both = recs.filter((r) => s.has(r.pid));
    const kthreads = both.filter((r) => r.flags & PF_KTHREAD);
    expect(kthreads.length).toBeGreaterThan(5);
    // A thread may rename itself (prctl PR_SET_NAME) or a kworker change its workqueue between the reads.
    const differ = both.filter((r) => r.comm !== s.get(r.pid)).map((r) => `${r.pid} kernel '${r.comm}' host '${s.get(r.pid)}'`);
    expect(differ.length, differ.slice(0, 5).join('; ')).toBeLessThanOrEqual(Math.max(1, both.length / 100));
    for (const r of both) expect(Buffer.byteLength(s.get(r.pid)!, 'latin1')).toBeLessThanOrEqual(15);
    // /proc prints more than task->comm for these (full kthread names, workqueue descriptors).
    const longer = kthreads.filter((r) => readFileSync(`/proc/${r.pid}/comm`, 'latin1').trim() !== r.comm);
    expect(longer.length).toBeGreaterThan(0);
    for (const r of longer) if (!differ.some((d) => d.startsWith(`${r.pid} `))) expect(s.get(r.pid)).toBe(r.comm);
  });

  it('task: __state agrees with the kernel task->__state on every bit the host knows; the rest (TASK_FREEZABLE...) is marked unknown', () => {
    const recs = bpfRecords('task').filter((r) => !r.exit_state);
    const s = new Map<number, Task>();
    for (const p of host.processes.toArray()) for (const t of p.signal.threads.toArray()) if (t.pid) s.set(t.pid, t); // not the idle task
    const both = recs.filter((r) => s.has(r.pid));
    // Tasks run and sleep between the reads: a running task may have been asleep in the other read.
    const differ = both.filter((r) => {
      const t = s.get(r.pid)!;
      const known = TASK_STATE_ALL & ~t.__state_unknown;
      return (r.state & known) !== (t.__state & known);
    });
    expect(differ.length, differ.slice(0, 5).map((r) => `${r.pid} kernel ${r.state.toString(16)} host ${s.get(r.pid)!.__state.toString(16)}`).join('; ')).toBeLessThanOrEqual(Math.max(3, both.length / 10));
    // Bits a letter cannot show are unknown on the host, never silently 0: TASK_FREEZABLE sleepers are common.
    for (const t of s.values()) expect(t.__state_unknown & (TASK_FREEZABLE | TASK_FROZEN | TASK_WAKEKILL)).toBe(TASK_FREEZABLE | TASK_FROZEN | TASK_WAKEKILL);
    const freezable = both.filter((r) => r.state & TASK_FREEZABLE);
    for (const r of freezable) expect(s.get(r.pid)!.__state & TASK_FREEZABLE).toBe(0);
    // The child sleeps in read(): TASK_INTERRUPTIBLE on both sides.
    expect(s.get(fx.child.pid)!.__state).toBe(TASK_INTERRUPTIBLE);
    expect(recs.find((r) => r.pid === fx.child.pid)!.state & TASK_INTERRUPTIBLE).toBe(TASK_INTERRUPTIBLE);
  });
});
