/**
 * Every open-coded iterator kind walks a replayed snapshot exactly as it
 * walks the kernel it was saved from (synthetic seeds, and this host: one
 * in-memory kernel saved and walked, so nothing races).
 */
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_TASK_ITER_ALL_THREADS,
  CSS_TASK_ITER_PROCS,
  CSS_TASK_ITER_THREADED,
  loadKernel,
  readHost,
  saveKernel,
  syntheticKernel,
  type Kernel,
} from '@bpf-iter/core';
import { bpfFor, bpfForEach, iterCss, iterCssTask, iterDmabuf, iterKmemCache, iterTask, iterTaskVma, withKernel } from '../src/index.js';

const hex = (v: bigint | number | null) => (v === null ? null : v.toString(16));

/** What each kind yields over `k`, element by element, as text. */
function walkKinds(k: Kernel): Record<string, string[]> {
  return withKernel(k, () => {
    const out: Record<string, string[]> = { task: [], task_vma: [], css: [], css_task: [], kmem_cache: [], dmabuf: [], num: [] };
    for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) {
      out.task!.push(JSON.stringify([t.pid, t.tgid, t.comm, t.state, t.__state, t.__state_unknown, t.real_parent?.pid, t.uid, t.gid, t.flags, t.prio, t.start_time, t.sum_exec_runtime, t.vpid, k.taskStack(t)?.map(hex) ?? null]));
      if (t.isLeader && t.mm)
        for (const v of bpfForEach(iterTaskVma, t, 0))
          out.task_vma!.push(JSON.stringify([t.pid, hex(v.vm_start), hex(v.vm_end), v.vm_flags, v.vm_flags_unknown, v.vm_pgoff, v.vm_file?.path ?? null, v.vm_file?.f_op.name ?? null, v.vm_file?.f_op.unknown ?? null, v.name]));
    }
    for (const c of bpfForEach(iterCss, k.cgroupRoot, BPF_CGROUP_ITER_DESCENDANTS_PRE)) {
      out.css!.push(JSON.stringify([c.id, c.path, c.level, c.dead]));
      for (const flags of [CSS_TASK_ITER_PROCS, CSS_TASK_ITER_THREADED]) for (const t of bpfForEach(iterCssTask, c, flags)) out.css_task!.push(`${c.id} ${flags} ${t.pid}`);
    }
    for (const c of bpfForEach(iterKmemCache)) out.kmem_cache!.push(JSON.stringify([c.name, c.object_size, c.size, c.align, c.active_objs, c.num_objs, c.objs_per_slab, c.pages_per_slab]));
    try {
      for (const b of bpfForEach(iterDmabuf)) out.dmabuf!.push(JSON.stringify([b.size, b.exp_name, b.ino, b.name, b.f_flags, b.f_mode, b.file_count]));
    } catch (e) {
      out.dmabuf!.push(`ERROR ${(e as Error).message}`);
    }
    for (const i of bpfFor(0, 3)) out.num!.push(String(i));
    return out;
  });
}

/** Saves to memory and loads back (the stream API). */
async function replay(k: Kernel): Promise<Kernel> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await saveKernel(k, sink);
  return loadKernel(Readable.from([Buffer.concat(parts)]));
}

describe('snapshot replay: every open-coded kind walks the same elements', () => {
  for (const seed of [1, 13, 77]) {
    it(`synthetic:${seed}`, async () => {
      const k = syntheticKernel({ seed });
      const before = walkKinds(k);
      // The walk starts at the idle task (pid 0).
      expect(before.task!.length).toBe(k.taskCount + 1);
      expect(walkKinds(await replay(k))).toEqual(before);
    });
  }

  it('this host (readHost)', async () => {
    const k = readHost();
    // A live stack changes from one read to the next: each task's first read stands (the one the snapshot keeps).
    const read = k.stackReader!;
    const stacks = new Map<object, bigint[] | null>();
    k.stackReader = (t) => (stacks.has(t) ? stacks.get(t)! : (stacks.set(t, read(t)), stacks.get(t)!));
    const replayed = await replay(k);
    const before = walkKinds(k);
    expect([...stacks.values()].some((s) => s && s.length)).toBe(true);
    expect(walkKinds(replayed)).toEqual(before);
  });
});
