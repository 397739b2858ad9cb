/**
 * `@bpf-iter/iter-programs/internal`: everything in `@bpf-iter/iter-programs`
 * plus the plumbing its CLI, `@bpf-iter/metrics` and the tests share (the run
 * context, the seq_file engine's internals, model ids, the fd table, format
 * helpers). Not a public API: it changes without notice. Same module
 * instances as the public entry.
 *
 * @packageDocumentation
 */
export { BpfError, ERRNO, errnoName, fail, isErrno, type ErrnoName } from '@bpf-iter/core';
export * from './constants.js';
export * from './errno.js';
export * from './ptr.js';
export * from './ids.js';
export * from './fd_table.js';
export * from './registry.js';
export * from './link_info.js';
export * from './program.js';
export * from './run_ctx.js';
export * from './seq_file.js';
export * from './helpers/bprintf.js';
export * from './helpers/func_proto.js';
export * from './helpers/seq_printf.js';
export * from './helpers/seq_write.js';
export * from './helpers/seq_printf_btf.js';
export * from './helpers/d_path.js';
export * from './helpers/sockopt.js';
export * from './helpers/map.js';
export * from './helpers/snprintf.js';
export * from './helpers/loop.js';
export * from './helpers/task.js';
export * from './helpers/sk_storage.js';
export * from './helpers/probe_read.js';
export * from './helpers/ktime.js';
export * from './helpers/prandom.js';
export * from './helpers/trace_printk.js';
export * from './helpers/for_each_map_elem.js';
export * from './helpers/spin_lock.js';
export * from './helpers/task_storage.js';
export * from './btf.js';
export * from './link.js';
export * from './iter_fd.js';
export * from './kernel_iter.js';
export { openObject, BpfObject, BpfObjectProgram, BpfObjectMap, type OpenObjectOptions, type KernelLinkInfo, type GlobalValue, type GlobalVar } from '@bpf-iter/core';
export * from './bpffs.js';
export * as libbpf from './libbpf.js';
export {
  LIBBPF_OPTS,
  bpf_iter_link_info,
  bpf_program,
  bpf_link,
  bpf_program__attach_iter,
  bpf_program__fd,
  bpf_program__name,
  bpf_link__fd,
  bpf_link__destroy,
  bpf_link__pin,
  bpf_link__unpin,
  bpf_link__update_program,
  bpf_link__kernel,
  bpf_obj_pin,
  bpf_obj_get,
  bpf_prog_load,
  defineSkeleton,
  openAndLoad,
  getpid,
  gettid,
  type bpf_iter_attach_opts,
  type Skeleton,
  type SkeletonOps,
} from './libbpf.js';
export * from './targets/index.js';
export * from './procfs/format.js';
export * from './procfs/proc_maps.js';
export * from './procfs/net.js';
export * from './procfs/kallsyms.js';
