/**
 * The synthetic source: deterministic from seed and sizes, exact counts when
 * sizes are given, realistic contents.
 */
import { describe, expect, test } from 'vitest';
import { PAGE_SIZE, PF_KTHREAD, TaskWalker, defaultKernel, syntheticKernel, type Kernel, type SyntheticOptions, type Task } from '@bpf-iter/core';

function tasks(k: Kernel): Task[] {
  return [...k.initPidNs.pids.entries()].map(([, t]) => t);
}

/** A digest of every task, fd and VMA. */
function digest(k: Kernel): string {
  const lines: string[] = [];
  for (const t of tasks(k)) {
    lines.push(`T ${t.pid} ${t.tgid} ${t.comm} ${t.state} ${t.start_time} ${t.uid} ${t.pidNs.level} ${t.cgroup?.path}`);
    const files = t.isLeader || t.files !== t.group_leader.files ? t.files : null;
    if (files) for (let fd = files.nextFd(0); fd >= 0; fd = files.nextFd(fd + 1)) {
      const f = files.fd[fd]!;
      lines.push(`F ${t.pid} ${fd} ${f.path} ${f.f_inode.i_ino} ${f.f_inode.i_mode} ${f.f_op.name} ${f.f_op.hex}`);
    }
    if (t.isLeader && t.mm) for (const v of t.mm.vmas()) lines.push(`V ${t.pid} ${v.vm_start} ${v.vm_end} ${v.vm_flags} ${v.vm_pgoff} ${v.name} ${v.vm_file?.path}`);
  }
  let h = 0x811c9dc5;
  const s = lines.join('\n');
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return `${lines.length}:${(h >>> 0).toString(16)}`;
}

const small: SyntheticOptions = { processes: 24, seed: 5 };

describe('determinism', () => {
  test('same seed and sizes give identical kernels; another seed a different one', () => {
    const a = digest(syntheticKernel(small));
    expect(digest(syntheticKernel(small))).toBe(a);
    expect(digest(syntheticKernel({ ...small, seed: 6 }))).not.toBe(a);
    const sized: SyntheticOptions = { seed: 9, processes: 12, threadsPerProcess: 3, filesPerProcess: 7, vmasPerProcess: 20 };
    expect(digest(syntheticKernel(sized))).toBe(digest(syntheticKernel(sized)));
    expect(digest(syntheticKernel({ ...sized, seed: 10 }))).not.toBe(digest(syntheticKernel(sized)));
  });

  test('defaultKernel() is the seed-1 kernel, built once', () => {
    expect(defaultKernel()).toBe(defaultKernel());
    expect(digest(defaultKernel())).toBe(digest(syntheticKernel({ seed: 1 })));
  });
});

describe('exact counts when sizes are given', () => {
  const cases: SyntheticOptions[] = [
    { seed: 3, processes: 10, threadsPerProcess: 2, filesPerProcess: 5, vmasPerProcess: 16, kthreads: 5, containers: 0 },
    { seed: 4, processes: 40, threadsPerProcess: 3, filesPerProcess: 9, vmasPerProcess: 30, kthreads: 7 },
    { seed: 5, processes: 10, threadsPerProcess: 1, filesPerProcess: 4, vmasPerProcess: 14, kthreads: 3, containers: 3 },
    { seed: 6, processes: 9, threadsPerProcess: 1, filesPerProcess: 3, vmasPerProcess: 40, kthreads: 1, containers: 2 },
    { seed: 7, processes: 3, threadsPerProcess: 2, filesPerProcess: 0, vmasPerProcess: 13, kthreads: 0, containers: 0 },
  ];
  test.each(cases)('%o', (o) => {
    const k = syntheticKernel(o);
    const all = tasks(k);
    const kthreads = all.filter((t) => t.flags & PF_KTHREAD);
    const user = all.filter((t) => !(t.flags & PF_KTHREAD));
    const leaders = user.filter((t) => t.isLeader);
    expect(k.taskCount).toBe(o.processes! * o.threadsPerProcess! + o.kthreads!);
    expect(all.length).toBe(k.taskCount);
    expect(kthreads.length).toBe(o.kthreads);
    expect(leaders.length).toBe(o.processes);
    for (const l of leaders) {
      expect(l.signal.nr_threads).toBe(o.threadsPerProcess);
      expect(l.files!.count).toBe(o.filesPerProcess);
      expect(l.mm!.vmaCount).toBe(o.vmasPerProcess);
      const vmas = l.mm!.vmas();
      for (let i = 0; i < vmas.length; i++) {
        const v = vmas[i]!;
        expect(v.vm_start % PAGE_SIZE).toBe(0);
        expect(v.vm_end % PAGE_SIZE).toBe(0);
        expect(v.vm_end).toBeGreaterThan(v.vm_start);
        if (i > 0) expect(v.vm_start).toBeGreaterThanOrEqual(vmas[i - 1]!.vm_end);
      }
    }
    // Threads share their leader's fd table and address space.
    for (const t of user) {
      expect(t.files).toBe(t.group_leader.files);
      expect(t.mm).toBe(t.group_leader.mm);
    }
  });

  test('the walkers see every task', () => {
    const k = syntheticKernel({ seed: 2, processes: 30, threadsPerProcess: 2, kthreads: 4 });
    const w = new TaskWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
    let n = 0;
    for (let t = w.start(); t; t = w.next()) n++;
    w.stop();
    expect(n).toBe(64);
  });
});

describe('realistic contents', () => {
  const k = syntheticKernel({ seed: 11, processes: 48 });

  test('a process\'s threads share one address space, counted once per task; processes have their own', () => {
    const seen = new Set<unknown>();
    for (let p = k.processes.head; p; p = p.next) {
      const mm = p.value.mm;
      if (mm === null) continue;
      expect(seen.has(mm)).toBe(false);
      seen.add(mm);
      const threads: Task[] = [];
      for (let t = p.value.signal.threads.head; t; t = t.next) threads.push(t.value);
      expect(threads.every((t) => t.mm === mm)).toBe(true);
      expect(mm.users).toBe(threads.length);
      expect(mm.vmas().every((v) => v.vm_mm === mm)).toBe(true);
    }
    expect(seen.size).toBeGreaterThan(40);
  });

  test('pid 1 is systemd, pid 2 kthreadd; kernel threads have no mm and PF_KTHREAD', () => {
    expect(k.findTask(1)!.comm).toBe('systemd');
    expect(k.findTask(1)!.mm).not.toBeNull();
    const kthreadd = k.findTask(2)!;
    expect(kthreadd.comm).toBe('kthreadd');
    const kthreads = tasks(k).filter((t) => t.flags & PF_KTHREAD);
    expect(kthreads.length).toBeGreaterThan(2);
    expect(kthreads).toContain(kthreadd);
    for (const t of kthreads) {
      expect(t.mm).toBeNull();
      if (t !== kthreadd) expect(t.real_parent).toBe(kthreadd);
    }
    for (const t of tasks(k)) if (!(t.flags & PF_KTHREAD)) expect(t.mm).not.toBeNull();
    expect(k.processes.head!.value).toBe(k.initTask);
    expect(k.initTask.pid).toBe(0);
  });

  test('user processes have [heap], [stack], [vdso] and libc mappings', () => {
    for (const t of tasks(k).filter((x) => x.isLeader && x.mm)) {
      const vmas = t.mm!.vmas();
      const names = vmas.map((v) => v.name);
      expect(names).toContain('[heap]');
      expect(names).toContain('[stack]');
      expect(names).toContain('[vdso]');
      expect(vmas.some((v) => v.vm_file?.path.endsWith('/libc.so.6'))).toBe(true);
      expect(vmas[0]!.vm_start).toBeGreaterThanOrEqual(0x550000000000);
      expect(vmas.find((v) => v.name === '[stack]')!.vm_start).toBeGreaterThanOrEqual(0x7ffc00000000);
    }
  });

  test('one f_op identity per file kind, listed in kallsyms at its address', () => {
    const byName = new Map<string, unknown>();
    let sockets = 0;
    for (const t of tasks(k)) {
      const files = t.files;
      if (!files) continue;
      for (const f of files.fd) {
        if (!f) continue;
        const seen = byName.get(f.f_op.name);
        if (seen) expect(f.f_op).toBe(seen);
        else byName.set(f.f_op.name, f.f_op);
        if (f.path.startsWith('socket:[')) {
          sockets++;
          expect(f.f_op).toBe(k.fops('socket_file_ops'));
          expect(f.private_data).toBeTruthy();
        }
      }
    }
    expect(sockets).toBeGreaterThan(0);
    expect(byName.size).toBeGreaterThan(3);
    const syms = new Map<string, bigint>();
    for (let i = 0; i < k.ksyms.count; i++) syms.set(k.ksyms.at(i)!.name, k.ksyms.at(i)!.value);
    for (const f of k.allFops()) expect(syms.get(f.name), f.name).toBe(f.addr);
    expect(k.fops('socket_file_ops').hex).toBe(k.fops('socket_file_ops').addr.toString(16));
  });

  test('a container: a pid namespace whose first task is pid 1 inside', () => {
    const inNs = tasks(k).filter((t) => t.pidNs.level === 1);
    expect(inNs.length).toBeGreaterThan(0);
    const ns = inNs[0]!.pidNs;
    const first = ns.child_reaper!;
    expect(first.pidNr(ns)).toBe(1);
    expect(first.pid).toBeGreaterThan(1);
    expect(k.findTask(1, ns)).toBe(first);
    expect(first.real_parent!.comm).toBe('containerd-shim');
    const w = new TaskWalker(k, { ns, type: 'ALL', pid: 0 });
    const got: number[] = [];
    for (let t = w.start(); t; t = w.next()) got.push(t.pidNr(ns));
    w.stop();
    expect(got[0]).toBe(1);
    expect(got.length).toBe(inNs.length);
  });
});

describe('bad sizes', () => {
  test.each([
    { processes: -1 },
    { processes: 1.5 },
    { processes: 0 },
    { threadsPerProcess: 0 },
    { filesPerProcess: -2 },
    { vmasPerProcess: Number.NaN },
    { kthreads: 2.5 },
    { seed: -1 },
  ] as SyntheticOptions[])('%o -> RangeError', (o) => {
    expect(() => syntheticKernel({ processes: 4, ...o })).toThrow(RangeError);
  });
});
