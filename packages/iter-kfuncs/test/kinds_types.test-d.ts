import { describe, expectTypeOf, it } from 'vitest';
import type { Cgroup, KmemCache, Task, Vma } from '@bpf-iter/core';
import {
  bpf_iter_css_next,
  bpf_iter_task_new,
  bpf_iter_task_next,
  bpf_iter_task_vma_next,
  bpfForEach,
  iterCss,
  iterCssTask,
  iterKmemCache,
  iterTask,
  iterTaskVma,
  type BpfIter,
} from '../src/index.js';

describe('kernel kinds: element and argument types', () => {
  it('elements are the model objects', () => {
    for (const t of bpfForEach(iterTask, null, 0)) expectTypeOf(t).toEqualTypeOf<Task>();
    expectTypeOf(bpf_iter_task_vma_next).returns.toEqualTypeOf<Vma | null>();
    expectTypeOf(bpf_iter_css_next).returns.toEqualTypeOf<Cgroup | null>();
    expectTypeOf(iterCssTask.next).returns.toEqualTypeOf<Task | null>();
    expectTypeOf(iterKmemCache.next).returns.toEqualTypeOf<KmemCache | null>();
    expectTypeOf(iterTaskVma.alloc()).toEqualTypeOf<BpfIter<'task_vma', Vma>>();
  });

  it('arguments are checked: task__nullable accepts null, css needs a start', () => {
    const it = iterTask.alloc();
    bpf_iter_task_new(it, null, 0);
    // @ts-expect-error flags are required
    bpf_iter_task_new(it, null);
    // @ts-expect-error a css state into the task kfuncs
    bpf_iter_task_next(iterCss.alloc());
    // @ts-expect-error css takes a start cgroup, not null
    bpfForEach(iterCss, null, 2);
    // @ts-expect-error kmem_cache takes no arguments
    bpfForEach(iterKmemCache, 1);
  });
});
