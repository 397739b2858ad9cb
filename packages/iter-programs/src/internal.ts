/**
 * `@bpf-iter/iter-programs/internal`: everything in `@bpf-iter/iter-programs`
 * plus the plumbing its CLI, `@bpf-iter/metrics` and the tests share (the run
 * context, the seq_file engine's internals, model ids, the fd table, format
 * helpers). Not a public API: it changes without notice. Same module
 * instances as the public entry.
 *
 * @packageDocumentation
 */
// Everything public (the libbpf facade names, the `libbpf` namespace, core's object API), then the plumbing.
export * from './index.js';
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
export { getpid, gettid } from './libbpf.js';
export * from './targets/index.js';
export * from './procfs/format.js';
export * from './procfs/proc_maps.js';
export * from './procfs/net.js';
export * from './procfs/kallsyms.js';
