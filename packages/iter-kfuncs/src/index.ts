/**
 * `@bpf-iter/iter-kfuncs`: open-coded BPF iterators
 * (`bpf_iter_<type>_{new,next,destroy}`) with libbpf-style loops, async
 * iteration. RxJS observables are on `@bpf-iter/iter-kfuncs/rx` (rxjs is a
 * peer dependency), the iterator contract checker on
 * `@bpf-iter/iter-kfuncs/testing` (with fast-check).
 *
 * @packageDocumentation
 */
import './polyfill.js';

export * from './flags.js';
export { btf, resolveType, skipModifiers, typeToString, type BtfType, type TypeSpec, type TypeTable } from './btf.js';
export type { IterContext } from './kernel-context.js';
/** Re-exported from `@bpf-iter/core`: the ambient kernel for iterators that need one. */
export { currentKernel, setDefaultKernel, withKernel } from '@bpf-iter/core';
export { BpfIter, bpfProgram } from './state.js';
export {
  BPF_ITER_FUNC_PREFIX,
  bindKernel,
  checkIterKfunc,
  getIterKind,
  iterStats,
  listIterKinds,
  liveIterators,
  register_btf_kfunc_id_set,
  registerIterKind,
  unregisterIterKind,
  type IterKind,
  type IterKindSpec,
  type IterStats,
  type KfuncDesc,
  type KfuncIdSet,
  type KfuncParam,
  type RegisteredKfunc,
} from './registry.js';
export * from './kinds/num.js';
export * from './kinds/bits.js';
export * from './kinds/task.js';
export * from './kinds/task_vma.js';
export * from './kinds/css.js';
export * from './kinds/css_task.js';
export * from './kinds/kmem_cache.js';
export * from './kinds/dmabuf.js';
/** Re-exported from `@bpf-iter/core`: the flags of the kernel kinds' constructors. */
export {
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  BPF_CGROUP_ITER_ORDER_UNSPEC,
  BPF_CGROUP_ITER_SELF_ONLY,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  CSS_TASK_ITER_PROCS,
  CSS_TASK_ITER_THREADED,
} from '@bpf-iter/core';
export {
  BpfAsyncLoopIterator,
  BpfLoop,
  BpfLoopIterator,
  bpfFor,
  bpfForEach,
  bpfForEachAsync,
  bpfRepeat,
} from './loops.js';
