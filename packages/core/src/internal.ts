/**
 * `@bpf-iter/core/internal`: everything in `@bpf-iter/core` plus the
 * plumbing the other bpf-iter packages (the CLI, the iterator programs, the
 * tests) share — raw libbpf wrappers, walker internals, source internals.
 * Not a public API: it changes without notice. Same module instances as the
 * public entry.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './uapi.js';
export * from './refcount.js';
export * from './rculist.js';
export * from './idr.js';
export * from './kernel.js';
export * from './model/bpf.js';
export * from './model/cgroup.js';
export * from './model/dmabuf.js';
export * from './model/file.js';
export * from './model/files_struct.js';
export * from './model/kmem_cache.js';
export * from './model/ksym.js';
export * from './model/mm.js';
export * from './model/net.js';
export * from './model/pid_namespace.js';
export * from './model/route.js';
export * from './model/socket.js';
export * from './model/sock_table.js';
export * from './model/task.js';
export * from './walkers/walker.js';
export * from './walkers/task.js';
export * from './walkers/task_file.js';
export * from './walkers/task_vma.js';
export * from './walkers/idr.js';
export * from './walkers/bpf_map_elem.js';
export * from './walkers/map_sock.js';
export * from './walkers/sock.js';
export * from './walkers/cgroup.js';
export * from './walkers/list.js';
export * from './sources/synthetic.js';
export * from './sources/host.js';
export * from './sources/bpf.js';
export * from './context.js';
export * from './libbpf/index.js';
export * from './snapshot/index.js';
