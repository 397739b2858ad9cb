/**
 * A BPF program using the kernel's open-coded iterators (task, css,
 * css_task, task_vma, kmem_cache), ported line by line from C to
 * TypeScript. Each C line is the comment above its TypeScript counterpart.
 * (`examples/open-coded-iterators.ts` covers num, bits and custom kinds.)
 *
 *   npx tsx --conditions=@bpf-iter/source examples/open-coded-task.ts
 *
 * It runs on core's embedded default kernel (a synthetic machine) unless a
 * kernel is passed to {@link iterKernelKinds}.
 */
import { withKernel, type Cgroup, type Kernel, type KmemCache, type Task, type Vma } from '@bpf-iter/core';
import {
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  CSS_TASK_ITER_PROCS,
  bpf_iter_task_destroy,
  bpf_iter_task_new,
  bpf_iter_task_next,
  bpfForEach,
  currentKernel,
  iterCss,
  iterCssTask,
  iterKmemCache,
  iterTask,
  iterTaskVma,
} from '@bpf-iter/iter-kfuncs';
import { isMain } from './main.js';

/** What the program computed (the BPF program would write these to a map or the ring buffer). */
export interface KernelKindsResult {
  nrProcs: number;
  nrThreads: number;
  initThreads: number;
  cgroups: { path: string; procs: number }[];
  initVmas: number;
  initMappedBytes: number;
  biggestCache: string;
}

/**
 * The program body. `print` plays `bpf_printk`. Runs against `kernel`, else
 * the ambient kernel (core's embedded default when nothing is configured).
 */
export function iterKernelKinds(print: (line: string) => void = console.log, kernel?: Kernel): KernelKindsResult {
  if (kernel) return withKernel(kernel, () => iterKernelKinds(print));
  const k = currentKernel();

  // SEC("syscall")
  // int iter_kernel_kinds(void *ctx)
  // {
  //         struct task_struct *pos, *init = NULL;
  //         struct cgroup_subsys_state *root_css = &root_cgroup->self, *pos_css;
  //         struct vm_area_struct *vma;
  //         struct kmem_cache *s, *biggest = NULL;
  //         int nr = 0, nr_threads = 0, init_threads = 0;
  let init: Task | null = null;
  const rootCss: Cgroup = k.cgroupRoot;
  let biggest: KmemCache | null = null;
  let nr = 0;
  let nrThreads = 0;
  let initThreads = 0;
  const cgroups: KernelKindsResult['cgroups'] = [];

  //         bpf_rcu_read_lock();   /* task and css are KF_RCU_PROTECTED */
  //         bpf_for_each(task, pos, NULL, BPF_TASK_ITER_ALL_PROCS) {
  for (const pos of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
    //                 if (pos->pid == pos->tgid)
    //                         nr++;
    if (pos.pid === pos.tgid) nr++;
    //                 if (pos->pid == 1)
    //                         init = pos;
    if (pos.pid === 1) init = pos;
    //         }
  }

  //         bpf_for_each(task, pos, NULL, BPF_TASK_ITER_ALL_THREADS)
  //                 nr_threads++;
  for (const _pos of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) nrThreads++;

  //         /* bpf_for_each expanded: the kfunc trio called directly */
  //         if (init) {
  if (init) {
    //                 struct bpf_iter_task it;
    const it = iterTask.alloc();
    //                 bpf_iter_task_new(&it, init, BPF_TASK_ITER_PROC_THREADS);
    bpf_iter_task_new(it, init, BPF_TASK_ITER_PROC_THREADS);
    //                 while ((pos = bpf_iter_task_next(&it)))
    //                         init_threads++;
    while (bpf_iter_task_next(it) !== null) initThreads++;
    //                 bpf_iter_task_destroy(&it);
    bpf_iter_task_destroy(it);
    //         }
  }
  //         bpf_printk("processes %d threads %d (init: %d)", nr, nr_threads, init_threads);
  print(`processes ${nr} threads ${nrThreads} (init: ${initThreads})`);

  //         bpf_for_each(css, pos_css, root_css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
  for (const posCss of bpfForEach(iterCss, rootCss, BPF_CGROUP_ITER_DESCENDANTS_PRE)) {
    //                 int procs = 0;
    let procs = 0;
    //                 bpf_for_each(css_task, pos, pos_css, CSS_TASK_ITER_PROCS)
    //                         procs++;
    for (const _pos of bpfForEach(iterCssTask, posCss, CSS_TASK_ITER_PROCS)) procs++;
    //                 bpf_printk("%*s%s: %d processes", 2 * level, "", cgroup_path, procs);
    print(`${'  '.repeat(posCss.level)}${posCss.path}: ${procs} processes`);
    cgroups.push({ path: posCss.path, procs });
    //         }
  }
  //         bpf_rcu_read_unlock();

  //         if (init) {
  //                 u64 bytes = 0; int vmas = 0;
  let bytes = 0;
  let vmas = 0;
  if (init) {
    //                 bpf_for_each(task_vma, vma, init, 0) {
    for (const vma of bpfForEach(iterTaskVma, init, 0)) {
      //                         vmas++;
      //                         bytes += vma->vm_end - vma->vm_start;
      vmas++;
      bytes += vma.vm_end - vma.vm_start;
      //                 }
    }
    //                 bpf_printk("init: %d vmas, %llu bytes mapped", vmas, bytes);
    print(`init: ${vmas} vmas, ${bytes} bytes mapped`);
    //         }
  }

  //         bpf_for_each(kmem_cache, s) {   /* KF_SLEEPABLE: a sleepable program */
  for (const s of bpfForEach(iterKmemCache)) {
    //                 if (!biggest || s->size > biggest->size)
    //                         biggest = s;
    if (!biggest || s.size > biggest.size) biggest = s;
    //         }
  }
  //         bpf_printk("biggest slab object: %s", biggest ? biggest->name : "-");
  print(`biggest slab object: ${biggest ? biggest.name : '-'}`);
  //         return 0;
  // }
  return { nrProcs: nr, nrThreads, initThreads, cgroups, initVmas: vmas, initMappedBytes: bytes, biggestCache: biggest?.name ?? '-' };
}

/** A line of `/proc/PID/maps`-like output for a VMA (used by the tour below). */
export function vmaLine(v: Vma): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return `${hex(v.vm_start)}-${hex(v.vm_end)} ${v.vm_file?.path ?? v.name ?? ''}`;
}

// Run as a script: print the program's output on the embedded default kernel.
if (isMain(import.meta.url)) {
  iterKernelKinds();
  const init = currentKernel().findTask(1);
  if (init) {
    console.log('first VMAs of init:');
    for (const v of bpfForEach(iterTaskVma, init, 0)) {
      console.log(`  ${vmaLine(v)}`);
      if (v.vm_file === null) break; // stop after the executable's segments and the heap
    }
  }
}
