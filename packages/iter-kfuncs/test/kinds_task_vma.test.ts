import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel, PF_KTHREAD, type Task, type Vma } from '@bpf-iter/core';
import {
  bpf_iter_task_vma_destroy,
  bpf_iter_task_vma_new,
  bpf_iter_task_vma_next,
  bpfForEach,
  iterStats,
  iterTaskVma,
  liveIterators,
} from '../src/index.js';
import { checkIterContract } from '../src/testing.js';

const ENOENT = -2;

/** A process with VMAs A [0x10000,0x13000), B [0x20000,0x21000), C [0x30000,0x32000). */
function vmKernel() {
  const k = new Kernel();
  const p = k.createTask({ pid: 10, comm: 'p', mm: k.newMm() });
  k.mmap(p, { addr: 0x10000, length: 0x3000 });
  k.mmap(p, { addr: 0x20000, length: 0x1000 });
  k.mmap(p, { addr: 0x30000, length: 0x2000 });
  const thread = k.createTask({ pid: 11, comm: 'p', group: p });
  const kthread = k.createTask({ pid: 2, comm: 'kthreadd', mm: null, flags: PF_KTHREAD });
  const nomm = k.createTask({ pid: 20, comm: 'nomm', mm: null });
  return { k, p, thread, kthread, nomm };
}

const starts = (vs: Iterable<Vma>) => [...vs].map((v) => v.vm_start);

function trio(task: Task, addr: number): { ret: number; starts: number[] } {
  const it = iterTaskVma.alloc();
  const ret = bpf_iter_task_vma_new(it, task, addr);
  const out: number[] = [];
  for (let v = bpf_iter_task_vma_next(it); v !== null; v = bpf_iter_task_vma_next(it)) out.push(v.vm_start);
  expect(bpf_iter_task_vma_next(it)).toBeNull();
  bpf_iter_task_vma_destroy(it);
  return { ret, starts: out };
}

describe('bpf_iter_task_vma (§7.5.4)', () => {
  it('yields the VMAs ascending from address 0', () => {
    const { p } = vmKernel();
    expect(trio(p, 0)).toEqual({ ret: 0, starts: [0x10000, 0x20000, 0x30000] });
    expect(iterTaskVma.stateSize).toBe(8);
    expect(iterTaskVma.kfuncs.new.params.map((x) => x.name)).toEqual(['it', 'task', 'addr']);
  });

  it('from an address inside a VMA it starts with that VMA; otherwise with the next one above (end > addr)', () => {
    const { p } = vmKernel();
    expect(trio(p, 0x20800).starts).toEqual([0x20000, 0x30000]);
    expect(trio(p, 0x12fff).starts).toEqual([0x10000, 0x20000, 0x30000]);
    expect(trio(p, 0x13000).starts).toEqual([0x20000, 0x30000]); // A's end is not above addr
    expect(trio(p, 0x18000).starts).toEqual([0x20000, 0x30000]);
    expect(trio(p, 0x32000)).toEqual({ ret: 0, starts: [] });
  });

  it('a thread sees its process address space', () => {
    const { thread } = vmKernel();
    expect(trio(thread, 0).starts).toEqual([0x10000, 0x20000, 0x30000]);
  });

  it('-ENOENT for a kernel thread or a task without an mm (including an exited task); the iterator is empty', () => {
    const { k, p, kthread, nomm } = vmKernel();
    expect(trio(kthread, 0)).toEqual({ ret: ENOENT, starts: [] });
    expect(trio(nomm, 0)).toEqual({ ret: ENOENT, starts: [] });
    // A kernel thread borrowing an mm (use_mm) is still refused.
    const borrowing = k.createTask({ pid: 3, comm: 'kworker', mm: k.newMm(), flags: PF_KTHREAD });
    expect(trio(borrowing, 0)).toEqual({ ret: ENOENT, starts: [] });
    k.exit(p);
    expect(trio(p, 0)).toEqual({ ret: ENOENT, starts: [] });
  });

  it('a NULL task is rejected like the verifier does (not an errno)', () => {
    const it = iterTaskVma.alloc();
    expect(() => bpf_iter_task_vma_new(it, null as unknown as Task, 0)).toThrow(/Possibly NULL pointer passed to trusted arg1/);
    expect(it.live).toBe(false);
  });

  it('sees munmap between steps: B unmapped after A was returned → next is C', () => {
    const { k, p } = vmKernel();
    const seen: number[] = [];
    for (const v of bpfForEach(iterTaskVma, p, 0)) {
      seen.push(v.vm_start);
      if (v.vm_start === 0x10000) k.munmap(p, 0x20000, 0x1000);
    }
    expect(seen).toEqual([0x10000, 0x30000]);
  });

  it('sees an mmap above the current VMA between steps', () => {
    const { k, p } = vmKernel();
    const seen: number[] = [];
    for (const v of bpfForEach(iterTaskVma, p, 0)) {
      seen.push(v.vm_start);
      if (v.vm_start === 0x20000) k.mmap(p, { addr: 0x28000, length: 0x1000 });
    }
    expect(seen).toEqual([0x10000, 0x20000, 0x28000, 0x30000]);
  });

  it('elements are snapshots: a later change does not alter an element already returned', () => {
    const { k, p } = vmKernel();
    const it = iterTaskVma.open(p, 0);
    const a = bpf_iter_task_vma_next(it)!;
    k.munmap(p, 0x11000, 0x2000); // shrink A to one page
    expect(a).toMatchObject({ vm_start: 0x10000, vm_end: 0x13000 });
    expect(a.vm_mm).toBe(p.mm);
    expect(bpf_iter_task_vma_next(it)!.vm_start).toBe(0x20000);
    it.destroy();
  });

  it('the iterator holds the address space it took in new (mmget): the task exiting mid-walk does not end the walk', () => {
    const { k, p } = vmKernel();
    const mm = p.mm!;
    const seen: number[] = [];
    for (const v of bpfForEach(iterTaskVma, p, 0)) {
      seen.push(v.vm_start);
      if (v.vm_start === 0x10000) k.exit(p);
      expect(v.vm_mm).toBe(mm);
    }
    expect(p.mm).toBeNull();
    expect(seen).toEqual([0x10000, 0x20000, 0x30000]);
  });

  it('the reference on the address space is taken once in new and dropped once in destroy (end, break, throw, trio)', () => {
    const { p, thread } = vmKernel();
    const mm = p.mm!;
    const users = mm.users;
    for (const v of bpfForEach(iterTaskVma, p, 0)) {
      expect(v.vm_mm).toBe(mm);
      expect(mm.users).toBe(users + 1);
    }
    expect(mm.users).toBe(users);
    for (const _ of bpfForEach(iterTaskVma, thread, 0)) break;
    expect(mm.users).toBe(users);
    expect(() => {
      for (const _ of bpfForEach(iterTaskVma, p, 0x20000)) throw new Error('body');
    }).toThrow('body');
    expect(mm.users).toBe(users);
    const it = iterTaskVma.alloc();
    expect(bpf_iter_task_vma_new(it, p, 0)).toBe(0);
    const inner = iterTaskVma.open(thread, 0);
    expect(mm.users).toBe(users + 2);
    bpf_iter_task_vma_destroy(inner);
    bpf_iter_task_vma_destroy(it);
    expect(mm.users).toBe(users);
    // A failed new (-ENOENT) takes nothing; its destroy drops nothing.
    const { nomm } = vmKernel();
    const failed = iterTaskVma.alloc();
    expect(bpf_iter_task_vma_new(failed, nomm, 0)).toBe(ENOENT);
    bpf_iter_task_vma_destroy(failed);
    expect(mm.users).toBe(users);
    expect(liveIterators(iterTaskVma)).toBe(0);
  });

  it('checkIterContract with an oracle: VMAs with end > addr, ascending; -ENOENT without an mm', () => {
    const { p, thread, kthread, nomm } = vmKernel();
    checkIterContract(iterTaskVma, fc.tuple(fc.constantFrom(p, thread, kthread, nomm), fc.integer({ min: 0, max: 0x40000 })), {
      oracle: (task: Task, addr: number) =>
        !task.mm || task.flags & PF_KTHREAD
          ? { ret: ENOENT, elements: [] }
          : { ret: 0, elements: task.mm.vmas().filter((v) => v.vm_end > addr) },
      equals: (a, b) => a.vm_start === b.vm_start && a.vm_end === b.vm_end && a.vm_flags === b.vm_flags,
      fc: { numRuns: 80 },
    });
    expect(liveIterators(iterTaskVma)).toBe(0);
  });

  it('destroy runs exactly once on break and throw', () => {
    const { p } = vmKernel();
    const s0 = iterStats(iterTaskVma);
    for (const v of bpfForEach(iterTaskVma, p, 0)) if (v) break;
    expect(() => {
      for (const v of bpfForEach(iterTaskVma, p, 0)) if (v.vm_start === 0x20000) throw new Error('body');
    }).toThrow('body');
    const s = iterStats(iterTaskVma);
    expect(s.destroyed - s0.destroyed).toBe(2);
    expect(liveIterators(iterTaskVma)).toBe(0);
    expect(starts(bpfForEach(iterTaskVma, p, 0x20000))).toEqual([0x20000, 0x30000]);
  });
});
