/**
 * Example-based tests of the walkers against the reference's observable
 * behaviours (§4.5, §5 item 2, 3 and 8, §7.5.3–§7.5.6).
 */
import { describe, expect, test } from 'vitest';
import {
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_SELF_ONLY,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  CSS_TASK_ITER_PROCS,
  CssTaskWalker,
  IdrWalker,
  SockWalker,
  Socket,
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  SOCK_STREAM,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  Ipv6Route,
  Kernel,
  KmemCache,
  MapElemWalker,
  PAGE_SIZE,
  TaskFileWalker,
  TaskListWalker,
  TaskVmaWalker,
  TaskWalker,
  VM_EXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
  VmaWalker,
  cgroupWalkNext,
  ipv6RouteWalker,
  kmemCacheWalker,
  ksymWalker,
  refStats,
  syntheticKernel,
  type Cgroup,
  type Task,
  type TaskIterType,
  type Vma,
  type Walker,
} from '@bpf-iter/core';
import { MmStruct, vmaLayout } from '@bpf-iter/core/internal';

function drain<T>(w: Walker<T>): T[] {
  const out: T[] = [];
  for (let x = w.start(); x; x = w.next()) out.push(x);
  w.stop();
  return out;
}

function spec(k: Kernel, type: TaskIterType, pid = 0) {
  return { ns: k.initPidNs, type, pid };
}

/** A process with `threads` tasks in all, and fds 0..fds-1. */
function proc(k: Kernel, threads = 1, fds = 0): Task[] {
  const leader = k.createTask({ comm: 'p', mm: k.newMm() });
  for (let i = 0; i < fds; i++) k.open(leader, `/f${i}`);
  const out = [leader];
  for (let i = 1; i < threads; i++) out.push(k.clone(leader));
  return out;
}

describe('TaskWalker (task target, §4.1, §4.2, §4.5)', () => {
  test('ALL visits every thread in strictly increasing tid order, zombies included', () => {
    const k = new Kernel();
    const a = proc(k, 3);
    const b = proc(k, 1);
    const c = proc(k, 2);
    k.exit(b[0]!, { zombie: true });
    const gone = proc(k, 1);
    k.exit(gone[0]!);
    const tids = drain(new TaskWalker(k, spec(k, 'ALL'))).map((t) => t.pid);
    expect(tids).toEqual([...a, ...b, ...c].map((t) => t.pid).sort((x, y) => x - y));
    expect(tids).not.toContain(0); // the idle task has no pid number
  });

  test('TGID on a 3-thread process: 3 tasks, leader first; TID on a non-leader thread: 1', () => {
    const k = new Kernel();
    proc(k, 2);
    const [l, t1, t2] = proc(k, 3);
    proc(k, 2);
    expect(drain(new TaskWalker(k, spec(k, 'TGID', l!.pid)))).toEqual([l, t1, t2]);
    expect(drain(new TaskWalker(k, spec(k, 'TID', t2!.pid)))).toEqual([t2]);
    expect(drain(new TaskWalker(k, spec(k, 'TID', l!.pid)))).toEqual([l]);
  });

  test('a non-leader thread id as the TGID filter yields nothing (§4.5 item 4)', () => {
    const k = new Kernel();
    const [, t1] = proc(k, 3);
    expect(drain(new TaskWalker(k, spec(k, 'TGID', t1!.pid)))).toEqual([]);
  });

  test('a non-existent tid or pid yields nothing (§4.5 item 9)', () => {
    const k = new Kernel();
    proc(k, 2);
    expect(drain(new TaskWalker(k, spec(k, 'TID', 4242)))).toEqual([]);
    expect(drain(new TaskWalker(k, spec(k, 'TGID', 4242)))).toEqual([]);
  });

  test('resume after a pause shows the unshown task again; if it vanished, ALL goes on and TID/TGID end', () => {
    const k = new Kernel();
    const [a] = proc(k);
    const [b] = proc(k);
    const [c] = proc(k);
    const w = new TaskWalker(k, spec(k, 'ALL'));
    expect(w.start()).toBe(a);
    expect(w.next()).toBe(b);
    w.stop(); // b fetched, not shown
    expect(w.start()).toBe(b);
    w.stop();
    k.exit(b!);
    expect(w.start()).toBe(c);
    expect(w.next()).toBeNull();
    w.stop();

    const [l, t1, t2] = proc(k, 3);
    const g = new TaskWalker(k, spec(k, 'TGID', l!.pid));
    expect(g.start()).toBe(l);
    expect(g.next()).toBe(t1);
    g.stop();
    k.exit(t1!);
    expect(g.start()).toBeNull(); // the thread-list walk cannot continue
    g.stop();
    expect(t2!.dead).toBe(false);
  });

  test('refcounts: a walker holds exactly the task it last returned', () => {
    const k = new Kernel();
    proc(k, 2);
    const before = refStats.outstanding;
    const w = new TaskWalker(k, spec(k, 'ALL'));
    const t = w.start()!;
    expect(refStats.outstanding).toBe(before + 1);
    expect(t.refcnt).toBe(2);
    w.next();
    expect(refStats.outstanding).toBe(before + 1);
    expect(t.refcnt).toBe(1);
    w.stop();
    expect(refStats.outstanding).toBe(before);
  });
});

describe('TaskFileWalker (task_file, §4.3)', () => {
  test('fds {0,1,2,5} come as 0,1,2,5, attributed to the leader only though other threads exist', () => {
    const k = new Kernel();
    const [l, t1] = proc(k, 3, 6);
    k.close(l!, 3);
    k.close(l!, 4);
    const all = drain(new TaskFileWalker(k, spec(k, 'ALL')));
    expect(all.map((x) => [x.task.pid, x.fd])).toEqual([0, 1, 2, 5].map((fd) => [l!.pid, fd]));
    const tgid = drain(new TaskFileWalker(k, spec(k, 'TGID', l!.pid)));
    expect(tgid.map((x) => [x.task.pid, x.fd])).toEqual([0, 1, 2, 5].map((fd) => [l!.pid, fd]));
    expect(all[3]!.file).toBe(l!.files!.fd[5]);
    // TID mode does not apply the shared-table skip.
    const tid = drain(new TaskFileWalker(k, spec(k, 'TID', t1!.pid)));
    expect(tid.map((x) => [x.task.pid, x.fd])).toEqual([0, 1, 2, 5].map((fd) => [t1!.pid, fd]));
  });

  test('a thread with a private fd table is visited separately', () => {
    const k = new Kernel();
    const [l] = proc(k, 2, 2);
    const priv = k.clone(l!, { privateFiles: true });
    k.open(priv, '/private');
    const got = drain(new TaskFileWalker(k, spec(k, 'ALL'))).map((x) => [x.task.pid, x.fd, x.file.path]);
    expect(got).toEqual([
      [l!.pid, 0, '/f0'],
      [l!.pid, 1, '/f1'],
      [priv.pid, 0, '/f0'],
      [priv.pid, 1, '/f1'],
      [priv.pid, 2, '/private'],
    ]);
    const tgid = drain(new TaskFileWalker(k, spec(k, 'TGID', l!.pid))).map((x) => x.task.pid);
    expect(tgid).toEqual([l!.pid, l!.pid, priv.pid, priv.pid, priv.pid]);
  });

  test('tasks without a file table are skipped', () => {
    const k = new Kernel();
    k.createTask({ comm: 'kthread', files: null, mm: null });
    const [l] = proc(k, 1, 1);
    expect(drain(new TaskFileWalker(k, spec(k, 'ALL'))).map((x) => x.task)).toEqual([l]);
  });

  test('a read ending between fd 1 and fd 2 resumes at fd 2, or at the next open fd if fd 2 was closed (§4.5 item 6)', () => {
    const k = new Kernel();
    const [l] = proc(k, 1, 5);
    const [m] = proc(k, 1, 1);
    const w = new TaskFileWalker(k, spec(k, 'ALL'));
    expect(w.start()!.fd).toBe(0);
    expect(w.next()!.fd).toBe(1);
    expect(w.next()!.fd).toBe(2); // fetched, not shown: the read ends
    w.stop();
    expect(w.start()!.fd).toBe(2);
    w.stop();
    k.close(l!, 2);
    k.close(l!, 3);
    const x = w.start()!;
    expect([x.task, x.fd]).toEqual([l, 4]);
    const y = w.next()!;
    expect([y.task, y.fd]).toEqual([m, 0]);
    expect(w.next()).toBeNull();
    w.stop();
  });

  test('resume when the task vanished starts the next task at fd 0', () => {
    const k = new Kernel();
    const [l] = proc(k, 1, 4);
    const [m] = proc(k, 1, 3);
    const w = new TaskFileWalker(k, spec(k, 'ALL'));
    w.start();
    w.next();
    expect(w.next()!.fd).toBe(2);
    w.stop();
    k.exit(l!);
    const x = w.start()!;
    expect([x.task, x.fd]).toEqual([m, 0]);
    w.stop();
  });
});

describe('TaskVmaWalker (task_vma, §4.4)', () => {
  function abc(k: Kernel): { t: Task; A: number; B: number; C: number } {
    const [t] = proc(k);
    const A = k.mmap(t!, { addr: 0x10000, length: PAGE_SIZE });
    const B = k.mmap(t!, { addr: 0x20000, length: 2 * PAGE_SIZE });
    const C = k.mmap(t!, { addr: 0x30000, length: PAGE_SIZE });
    return { t: t!, A, B, C };
  }

  test('A<B<C read with a tiny buffer (a pause after every VMA) shows A, B, C once each, in order', () => {
    const k = new Kernel();
    const { t, A, B, C } = abc(k);
    const w = new TaskVmaWalker(k, spec(k, 'TID', t.pid));
    const seen: number[] = [];
    let x = w.start();
    while (x) {
      // Each read: the fetched VMA does not fit, stop, and the next read starts again.
      w.stop();
      x = w.start()!;
      seen.push(x.vma.vm_start);
      x = w.next();
    }
    w.stop();
    expect(seen).toEqual([A, B, C]);
  });

  test('VMA B unmapped while paused after A: the next read shows C (§4.5 item 8)', () => {
    const k = new Kernel();
    const { t, A, B, C } = abc(k);
    const w = new TaskVmaWalker(k, spec(k, 'ALL'));
    expect(w.start()!.vma.vm_start).toBe(A);
    expect(w.next()!.vma.vm_start).toBe(B); // fetched, not shown
    w.stop();
    k.munmap(t, B, 2 * PAGE_SIZE);
    expect(w.start()!.vma.vm_start).toBe(C);
    expect(w.next()).toBeNull();
    w.stop();
  });

  test('resume shows the VMA now containing prev_vm_end - 1, even with different bounds', () => {
    const k = new Kernel();
    const { t, B, C } = abc(k);
    const w = new TaskVmaWalker(k, spec(k, 'ALL'));
    w.start();
    expect(w.next()!.vma.vm_start).toBe(B); // fetched, not shown
    w.stop();
    // B is replaced by a mapping covering [B - 1 page, B + 3 pages).
    k.munmap(t, B, 2 * PAGE_SIZE);
    const R = k.mmap(t, { addr: B - PAGE_SIZE, length: 3 * PAGE_SIZE });
    const x = w.start()!;
    expect([x.vma.vm_start, x.vma.vm_end]).toEqual([R, R + 3 * PAGE_SIZE]);
    expect(w.next()!.vma.vm_start).toBe(C);
    w.stop();
  });

  test('when the unshown VMA lost its last page, the walk goes on above it', () => {
    const k = new Kernel();
    const { t, B, C } = abc(k);
    const w = new TaskVmaWalker(k, spec(k, 'ALL'));
    w.start();
    w.next();
    w.stop();
    k.munmap(t, B + PAGE_SIZE, PAGE_SIZE);
    expect(w.start()!.vma.vm_start).toBe(C);
    w.stop();
  });

  test('kernel threads (no mm) are skipped; TID on one yields nothing', () => {
    const k = new Kernel();
    const kt = k.createTask({ comm: 'kworker', files: null, mm: null });
    const { t, A } = abc(k);
    const all = drain(new TaskVmaWalker(k, spec(k, 'ALL')));
    expect(all.map((x) => x.task)).toEqual([t, t, t]);
    expect(all[0]!.vma.vm_start).toBe(A);
    expect(drain(new TaskVmaWalker(k, spec(k, 'TID', kt.pid)))).toEqual([]);
  });

  test('threads sharing the leader’s file table are skipped in ALL/TGID, not in TID', () => {
    const k = new Kernel();
    const { t } = abc(k);
    const th = k.clone(t);
    expect(drain(new TaskVmaWalker(k, spec(k, 'ALL'))).map((x) => x.task)).toEqual([t, t, t]);
    expect(drain(new TaskVmaWalker(k, spec(k, 'TGID', t.pid))).map((x) => x.task)).toEqual([t, t, t]);
    expect(drain(new TaskVmaWalker(k, spec(k, 'TID', th.pid))).map((x) => x.task)).toEqual([th, th, th]);
  });
});

describe('TaskListWalker (open-coded task iterator, §7.5.3)', () => {
  function collect(w: TaskListWalker): Task[] {
    const out: Task[] = [];
    for (let t = w.next(); t; t = w.next()) out.push(t);
    return out;
  }

  test('ALL_PROCS starts at the idle task (pid 0) and follows creation order, not pid order', () => {
    const k = new Kernel();
    const late = k.createTask({ comm: 'late', pid: 50 });
    const early = k.createTask({ comm: 'early', pid: 10 });
    k.clone(late);
    const w = new TaskListWalker(k, BPF_TASK_ITER_ALL_PROCS, null);
    const got = collect(w);
    expect(got.map((t) => t.pid)).toEqual([0, 50, 10]);
    expect(got[0]).toBe(k.initTask);
    expect(got[2]).toBe(early);
    expect(w.next()).toBeNull(); // stays NULL
  });

  test('ALL_THREADS: each process leader first, then its threads, before the next process', () => {
    const k = new Kernel();
    const [a, a1, a2] = proc(k, 3);
    const [b, b1] = proc(k, 2);
    expect(collect(new TaskListWalker(k, BPF_TASK_ITER_ALL_THREADS, null))).toEqual([k.initTask, a, a1, a2, b, b1]);
  });

  test('PROC_THREADS from a non-leader thread skips the threads before it', () => {
    const k = new Kernel();
    const [a, a1, a2, a3] = proc(k, 4);
    expect(collect(new TaskListWalker(k, BPF_TASK_ITER_PROC_THREADS, a))).toEqual([a, a1, a2, a3]);
    expect(collect(new TaskListWalker(k, BPF_TASK_ITER_PROC_THREADS, a2!))).toEqual([a2, a3]);
  });

  test('a process that exits while the walker stands on it does not stop the walk', () => {
    const k = new Kernel();
    const [a] = proc(k);
    const [b] = proc(k);
    const [c] = proc(k);
    const w = new TaskListWalker(k, BPF_TASK_ITER_ALL_PROCS, null);
    expect(w.next()).toBe(k.initTask);
    expect(w.next()).toBe(a);
    // The walker stands on a's (now removed) list node and moves on to the live ones after it;
    // like the kernel's, it has already picked b as its next position.
    k.exit(a!);
    k.exit(c!);
    const d = proc(k)[0]!;
    expect(w.next()).toBe(b);
    expect(w.next()).toBe(d);
    expect(w.next()).toBeNull();
  });
});

describe('VmaWalker (open-coded task_vma, §7.5.4)', () => {
  test('from an address inside a VMA it starts with that VMA; from a gap with the next one', () => {
    const k = new Kernel();
    const [t] = proc(k);
    const A = k.mmap(t!, { addr: 0x10000, length: 2 * PAGE_SIZE });
    const B = k.mmap(t!, { addr: 0x20000, length: PAGE_SIZE });
    const list = (addr: number): number[] => {
      const w = new VmaWalker(t!.mm, addr);
      const out: number[] = [];
      for (let v = w.next(); v; v = w.next()) out.push(v.vm_start);
      expect(w.next()).toBeNull();
      return out;
    };
    expect(list(0)).toEqual([A, B]);
    expect(list(A + PAGE_SIZE + 5)).toEqual([A, B]);
    expect(list(A + 2 * PAGE_SIZE)).toEqual([B]);
    expect(list(B + PAGE_SIZE)).toEqual([]);
  });

  test('a task without mm yields nothing', () => {
    const k = new Kernel();
    const kt = k.createTask({ comm: 'kworker', files: null, mm: null });
    expect(new VmaWalker(kt.mm, 0).next()).toBeNull();
  });

  test('an address space without VMAs: null from address 0 (the walk without a search) and from any address, forever', () => {
    const k = new Kernel();
    const [t] = proc(k);
    for (const addr of [0, 0x10000]) {
      const w = new VmaWalker(t!.mm, addr);
      expect(w.start()).toBeNull();
      expect(w.next()).toBeNull();
      // A mapping made after the end is not seen: NULL stays NULL.
      const A = k.mmap(t!, { addr: 0x40000 + addr, length: PAGE_SIZE });
      expect(w.next()).toBeNull();
      expect(w.start()).toBeNull();
      k.munmap(t!, A, PAGE_SIZE);
    }
  });

  test('start() is the VMA the walker stands on: the first before any step, then the last one returned; null after the end', () => {
    const k = new Kernel();
    const [t] = proc(k);
    const A = k.mmap(t!, { addr: 0x10000, length: PAGE_SIZE });
    const B = k.mmap(t!, { addr: 0x20000, length: PAGE_SIZE });
    const w = new VmaWalker(t!.mm, 0);
    expect(w.start()!.vm_start).toBe(A);
    expect(w.start()!.vm_start).toBe(A); // no step
    expect(w.next()!.vm_start).toBe(B);
    expect(w.start()!.vm_start).toBe(B);
    // B unmapped under the walker: start() still shows the snapshot it stands on, next() finds nothing above.
    k.munmap(t!, B, PAGE_SIZE);
    expect(w.start()).toMatchObject({ vm_start: B, vm_end: B + PAGE_SIZE });
    expect(w.next()).toBeNull();
    expect(w.start()).toBeNull();
  });

  test('walks the address space it was given: the task exiting between steps neither ends nor switches the walk', () => {
    const k = new Kernel();
    const [t, th] = proc(k, 2);
    k.mmap(t!, { addr: 0x10000, length: PAGE_SIZE });
    k.mmap(t!, { addr: 0x20000, length: PAGE_SIZE });
    const mm = th!.mm!;
    const w = new VmaWalker(mm, 0);
    expect(w.next()!.vm_start).toBe(0x10000);
    k.exit(th!);
    expect(th!.mm).toBeNull();
    const B = w.next()!;
    expect(B.vm_start).toBe(0x20000);
    expect(B.vm_mm).toBe(mm);
    expect(w.next()).toBeNull();
  });
});

describe('VMA snapshots (the walkers\' elements)', () => {
  test('every field is the VMA as it was when stepped on, also after munmap/mmap split or replaced it', () => {
    const k = new Kernel();
    const [t] = proc(k);
    const f = k.createFile('/lib/x.so');
    const A = k.mmap(t!, { addr: 0x10000, length: 4 * PAGE_SIZE, file: f, offset: 2 * PAGE_SIZE, prot: VM_READ | VM_EXEC });
    const H = k.mmap(t!, { addr: 0x40000, length: 3 * PAGE_SIZE, name: '[heap]' });
    const [a, h] = [...walk(t!)];
    const aFields = { vm_start: A, vm_end: A + 4 * PAGE_SIZE, vm_flags: VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE, vm_flags_unknown: 0, vm_pgoff: 2, vm_file: f, vm_mm: t!.mm, name: null };
    const hFields = { vm_start: H, vm_end: H + 3 * PAGE_SIZE, vm_flags: VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE, vm_flags_unknown: 0, vm_pgoff: H / PAGE_SIZE, vm_file: null, vm_mm: t!.mm, name: '[heap]' };
    // Every field is a plain own data property: a spread, JSON and structuredClone give all of them.
    expect({ ...a! }).toStrictEqual(aFields);
    expect(Object.keys(h!).sort()).toEqual(Object.keys(hFields).sort());
    expect({ ...structuredClone({ ...h!, vm_mm: null }), vm_mm: t!.mm }).toStrictEqual(hFields);
    // Split both in the middle, and map over the hole: the snapshots taken before keep every field.
    k.munmap(t!, A + PAGE_SIZE, PAGE_SIZE);
    k.munmap(t!, H + PAGE_SIZE, PAGE_SIZE);
    k.mmap(t!, { addr: H + PAGE_SIZE, length: PAGE_SIZE, name: '[anon:x]', prot: VM_READ });
    expect({ ...a! }).toStrictEqual(aFields);
    expect(JSON.parse(JSON.stringify({ ...h!, vm_mm: null }))).toEqual({ ...hFields, vm_mm: null });
    expect(h!.name).toBe('[heap]');
    // After the split: the upper parts' pgoff moved by the pages cut off (__split_vma), for the file and the anonymous mapping.
    expect([...walk(t!)].map((v) => [v.vm_start, v.vm_pgoff, v.name, v.vm_flags & VM_WRITE])).toEqual([
      [A, 2, null, 0],
      [A + 2 * PAGE_SIZE, 4, null, 0],
      [H, H / PAGE_SIZE, '[heap]', VM_WRITE],
      [H + PAGE_SIZE, (H + PAGE_SIZE) / PAGE_SIZE, '[anon:x]', 0],
      [H + 2 * PAGE_SIZE, (H + 2 * PAGE_SIZE) / PAGE_SIZE, '[heap]', VM_WRITE],
    ]);
    // A spread with changes leaves the snapshot as it was.
    expect({ ...a!, vm_end: A + PAGE_SIZE }).toStrictEqual({ ...aFields, vm_end: A + PAGE_SIZE });
    expect(a!.vm_end).toBe(A + 4 * PAGE_SIZE);
  });

  test('over a layout shared by many address spaces (synthetic): the walkers\' snapshots equal the address space\'s own, biases applied', () => {
    const k = syntheticKernel({ seed: 4, processes: 6, threadsPerProcess: 1, filesPerProcess: 1, vmasPerProcess: 12, sockets: 0, containers: 0 });
    let n = 0;
    for (let p = k.processes.head; p; p = p.next) {
      const t = p.value;
      if (!t.mm) continue;
      const walked = [...walk(t)].map((v) => ({ ...v }));
      expect(walked).toStrictEqual(t.mm.vmas().map((v) => ({ ...v })));
      expect(walked.map((v) => v.vm_start)).toEqual([...walked.map((v) => v.vm_start)].sort((x, y) => x - y));
      // The stack's pgoff: (STACK_TOP_MAX - size) / PAGE_SIZE; an anonymous mapping's: its start page.
      const stack = walked.find((v) => v.name === '[stack]')!;
      expect(stack.vm_pgoff).toBe((0x7ffffffff000 - (stack.vm_end - stack.vm_start)) / PAGE_SIZE);
      const heap = walked.find((v) => v.name === '[heap]')!;
      expect(heap.vm_pgoff).toBe(heap.vm_start / PAGE_SIZE);
      n += walked.length;
    }
    expect(n).toBe(6 * 12);
  });
});

describe('MmStruct.moved (an address space at a new place in memory)', () => {
  test('reads the same VMAs, seq and users, shares the layout and biases, and a lazy one still loads once, on first use', () => {
    const k = syntheticKernel({ seed: 4, processes: 3, threadsPerProcess: 2, filesPerProcess: 1, vmasPerProcess: 9, sockets: 0, containers: 0 });
    const mm = k.findTask(1)!.mm!;
    const moved = mm.moved();
    expect(moved).not.toBe(mm);
    expect(moved.vmas().map((v) => ({ ...v, vm_mm: null }))).toStrictEqual(mm.vmas().map((v) => ({ ...v, vm_mm: null })));
    expect(moved.vmas().every((v) => v.vm_mm === moved)).toBe(true);
    expect([moved.seq, moved.users, moved.vmaLayout, moved.vmaBiasAt]).toEqual([mm.seq, mm.users, mm.vmaLayout, mm.vmaBiasAt]);

    let loads = 0;
    const rows = vmaLayout([{ start: 0x1000, end: 0x3000, flags: VM_READ }]);
    const lazy = new MmStruct(vmaLayout([]), null, () => (loads++, rows));
    const m2 = lazy.moved();
    expect([loads, m2.loaded]).toEqual([0, false]);
    expect(m2.vmas().map((v) => [v.vm_start, v.vm_end])).toEqual([[0x1000, 0x3000]]);
    expect(m2.vmas()).toHaveLength(1);
    expect([loads, m2.loaded]).toEqual([1, true]);
  });
});

/** The snapshots a VmaWalker from address 0 returns. */
function* walk(t: Task): Generator<Vma> {
  const w = new VmaWalker(t.mm, 0);
  for (let v = w.next(); v; v = w.next()) yield v;
}

describe('cgroup walks (§5.11, §5 item 8, §7.5.5)', () => {
  function tree(): { k: Kernel; root: Cgroup; A: Cgroup; A1: Cgroup; B: Cgroup } {
    const k = new Kernel();
    const root = k.cgroupRoot;
    const A = k.mkdirCgroup(root, 'A');
    const A1 = k.mkdirCgroup(A, 'A1');
    const B = k.mkdirCgroup(root, 'B');
    return { k, root, A, A1, B };
  }
  function walk(order: number, start: Cgroup): string[] {
    const out: string[] = [];
    for (let c = cgroupWalkNext(order, null, start); c; c = cgroupWalkNext(order, c, start)) {
      out.push(c.path);
      if (out.length > 100) throw new Error('loop');
    }
    return out;
  }

  test('PRE root,A,A1,B; POST A1,A,B,root; ANCESTORS_UP from A1 A1,A,root; SELF_ONLY A; CHILDREN', () => {
    const { root, A, A1 } = tree();
    expect(walk(BPF_CGROUP_ITER_DESCENDANTS_PRE, root)).toEqual(['/', '/A', '/A/A1', '/B']);
    expect(walk(BPF_CGROUP_ITER_DESCENDANTS_POST, root)).toEqual(['/A/A1', '/A', '/B', '/']);
    expect(walk(BPF_CGROUP_ITER_ANCESTORS_UP, A1)).toEqual(['/A/A1', '/A', '/']);
    expect(walk(BPF_CGROUP_ITER_SELF_ONLY, A)).toEqual(['/A']);
    expect(walk(BPF_CGROUP_ITER_CHILDREN, root)).toEqual(['/A', '/B']);
    expect(walk(BPF_CGROUP_ITER_CHILDREN, A1)).toEqual([]);
    expect(walk(BPF_CGROUP_ITER_DESCENDANTS_PRE, A)).toEqual(['/A', '/A/A1']);
    expect(walk(BPF_CGROUP_ITER_DESCENDANTS_POST, A)).toEqual(['/A/A1', '/A']);
  });

  test('a removed and released cgroup is not walked', () => {
    const { k, root, B } = tree();
    k.rmdirCgroup(B);
    expect(walk(BPF_CGROUP_ITER_DESCENDANTS_PRE, root)).toEqual(['/', '/A', '/A/A1']);
  });
});

describe('CssTaskWalker (§7.5.6)', () => {
  test('flags 0: every thread in attach order; PROCS: leaders only', () => {
    const k = new Kernel();
    const cg = k.mkdirCgroup(k.cgroupRoot, 'svc');
    const [a, a1] = proc(k, 2);
    const [b] = proc(k, 1);
    const [outside] = proc(k, 1);
    for (const t of [a!, a1!, b!]) k.attachCgroup(t, cg);
    const all = (flags: number): Task[] => {
      const w = new CssTaskWalker(cg, flags);
      const out: Task[] = [];
      for (let t = w.next(); t; t = w.next()) out.push(t);
      expect(w.next()).toBeNull();
      return out;
    };
    expect(all(0)).toEqual([a, a1, b]);
    expect(all(CSS_TASK_ITER_PROCS)).toEqual([a, b]);
    expect(all(0)).not.toContain(outside);
    const c = k.clone(a!);
    expect(c.cgroup).toBe(cg);
    expect(all(0)).toEqual([a, a1, b, c]);
  });
});

describe('MapElemWalker (bpf_map_elem, §5.2)', () => {
  const u32 = (n: number): Uint8Array => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };
  const rd = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

  test('an array of 4 yields keys 0,1,2,3 in order; value writes are visible through lookup', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 4 });
    const w = new MapElemWalker(m);
    const keys: number[] = [];
    for (let e = w.start(); e; e = w.next()) {
      keys.push(rd(e.key));
      new DataView(e.value.buffer, e.value.byteOffset, 4).setUint32(0, rd(e.key) * 10 + 7, true);
    }
    w.stop();
    expect(keys).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 4; i++) expect(rd(m.lookup(u32(i)))).toBe(i * 10 + 7);
  });

  test('a hash map: every element exactly once; a pause resumes without repeats', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 8 });
    const want = [3, 17, 99, 1000, 5, 6, 7];
    for (const x of want) m.update(u32(x), u32(x * 2));
    const w = new MapElemWalker(m);
    const got: number[] = [];
    let e = w.start();
    while (e) {
      got.push(rd(e.key));
      expect(rd(e.value)).toBe(rd(e.key) * 2);
      e = w.next();
      if (e && got.length % 2 === 0) {
        w.stop();
        e = w.start();
      }
    }
    w.stop();
    expect([...got].sort((a, b) => a - b)).toEqual([...want].sort((a, b) => a - b));
  });
});

describe('position walkers (ksym, kmem_cache, ipv6_route)', () => {
  test('ksym walks kallsyms order and resumes at the same position', () => {
    const k = new Kernel();
    k.ksyms.add('a', 'T', 0x1000n);
    k.ksyms.add('b', 'T', 0x2000n);
    k.ksyms.add('', 't', 0x3000n); // empty names are passed on
    const w = ksymWalker(k);
    expect(w.start()!.name).toBe('a');
    expect(w.next()!.name).toBe('b');
    w.stop();
    expect(w.start()!.name).toBe('b');
    const last = w.next()!;
    expect([last.name, last.pos, last.value]).toEqual(['', 2, 0x3000n]);
    expect(w.next()).toBeNull();
    w.stop();
  });

  test('kmem_cache in list order; a deletion before the position skips an entry (resume by position)', () => {
    const k = new Kernel();
    const mk = (n: string) => k.addKmemCache(new KmemCache(n, 64, 64, 8, 1, 1, 64, 1));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(mk);
    expect(drain(kmemCacheWalker(k))).toEqual([a, b, c, d]);
    const w = kmemCacheWalker(k);
    expect(w.start()).toBe(a);
    expect(w.next()).toBe(b);
    w.stop();
    k.destroyKmemCache(a!);
    expect(w.start()).toBe(c); // position 1 is now c: b is skipped, as the reference says
    w.stop();
  });

  test('ipv6_route in FIB order', () => {
    const k = new Kernel();
    const z = new Uint8Array(16);
    const r1 = k.addRoute(new Ipv6Route(z, 0, z, 0, z, 1, 1, 0, 1, 'lo'));
    const r2 = k.addRoute(new Ipv6Route(z, 64, z, 0, z, 256, 1, 0, 1, 'eth0'));
    expect(drain(ipv6RouteWalker(k))).toEqual([r1, r2]);
    k.delRoute(r1);
    expect(drain(ipv6RouteWalker(k))).toEqual([r2]);
  });
});

describe('IdrWalker (bpf_map/bpf_prog/bpf_link, §5.1)', () => {
  test('ascending ids; a map created mid-walk above the cursor appears; a destroyed one is skipped', () => {
    const k = new Kernel();
    const spec = { map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1 };
    const [a, b, c] = [k.createMap(spec), k.createMap(spec), k.createMap(spec)];
    const w = new IdrWalker(k.maps);
    expect(w.start()).toBe(a);
    k.destroyMap(b);
    const d = k.createMap(spec);
    expect(d.id).toBeGreaterThan(c.id);
    expect(w.next()).toBe(c);
    w.stop();
    expect(w.start()).toBe(c); // the unshown one again
    expect(w.next()).toBe(d);
    expect(w.next()).toBeNull();
    w.stop();
  });
});

describe('SockWalker (tcp, §5.5)', () => {
  test('listening sockets come before established ones, both families', () => {
    const k = new Kernel();
    const mk = (family: number, state: number, port: number): Socket => {
      const n = family === AF_INET6 ? 16 : 4;
      return k.addSocket(new Socket({ proto: 'tcp', skc_family: family, sk_type: SOCK_STREAM, sk_protocol: IPPROTO_TCP, skc_state: state, skc_rcv_saddr: new Uint8Array(n), skc_daddr: new Uint8Array(n), skc_num: port, ino: k.allocIno(), cookie: k.allocCookie() }));
    };
    const est = mk(AF_INET, TCP_ESTABLISHED, 40000);
    const lis = mk(AF_INET6, TCP_LISTEN, 22);
    expect(drain(new SockWalker(k, 'tcp')).map((e) => e.sk)).toEqual([lis, est]);
    expect(drain(new SockWalker(k, 'udp'))).toEqual([]);
  });
});
