/**
 * @packageDocumentation
 * The kernel model behind bpf-iter: tasks, files, VMAs, sockets, routes,
 * kernel symbols, BPF maps/programs/links, cgroups and pid namespaces, with
 * object lifetimes and live mutation; the walkers (resumable cursor-based
 * traversals) that both the open-coded iterators and the iterator programs
 * use; and the sources that fill the model (synthetic, this host).
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
export {
  MmStruct,
  PGOFF_ANON,
  PGOFF_STACK,
  VM_EXEC,
  VM_FLAGS_ALL,
  VM_GROWSDOWN,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Vma,
  type VmaLayout,
  vmFlagSet,
} from './model/mm.js';
export {
  NetConfig,
  sk_fullsock,
  sk_is_inet,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SOCK_RCVBUF_LOCK,
  SOCK_SNDBUF_LOCK,
  SOCK_TXREHASH_DEFAULT,
  type SockOpts,
  TCP_CA_NAME_MAX,
  TCP_MSS_DEFAULT,
  tcpUnconnected,
} from './model/net.js';
export * from './model/pid_namespace.js';
export * from './model/route.js';
export * from './model/socket.js';
export * from './model/sock_table.js';
export {
  __TASK_FREEZABLE_UNSAFE,
  __TASK_STOPPED,
  __TASK_TRACED,
  PF_KTHREAD,
  PF_WQ_WORKER,
  Task,
  TASK_DEAD,
  TASK_FREEZABLE,
  TASK_FROZEN,
  TASK_INTERRUPTIBLE,
  TASK_NEW,
  TASK_NOLOAD,
  TASK_PARKED,
  TASK_RTLOCK_WAIT,
  TASK_RUNNING,
  TASK_STATE_ALL,
  TASK_STATE_OF,
  TASK_UNINTERRUPTIBLE,
  TASK_WAKEKILL,
  TASK_WAKING,
  type TaskCredLoader,
  type TaskState,
  ThreadGroup,
} from './model/task.js';
export * from './walkers/walker.js';
export {
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  type TaskCursor,
  type TaskIterSpec,
  type TaskIterType,
  TaskListWalker,
  TaskWalker,
} from './walkers/task.js';
export * from './walkers/task_file.js';
export * from './walkers/task_vma.js';
export * from './walkers/idr.js';
export * from './walkers/bpf_map_elem.js';
export * from './walkers/map_sock.js';
export {
  type SockEntry,
  SockWalker,
} from './walkers/sock.js';
export {
  CGROUP_ORDER_NAMES,
  cgroupWalkNext,
  CSS_TASK_ITER_PROCS,
  CSS_TASK_ITER_THREADED,
  CssTaskWalker,
  CssWalker,
} from './walkers/cgroup.js';
export * from './walkers/list.js';
export * from './sources/synthetic.js';
export * from './sources/host.js';
export {
  BPF_SOURCE_TARGETS,
  type BpfAvailability,
  bpfAvailable,
  type BpfCgroupRec,
  type BpfInetRec,
  type BpfIterParams,
  type BpfKmemCacheRec,
  type BpfKsymRec,
  type BpfLinkRec,
  type BpfMapRec,
  type BpfNetlinkRec,
  type BpfProgRec,
  type BpfRecordOf,
  bpfRecords,
  type BpfReport,
  type BpfRouteRec,
  type BpfSourceOptions,
  type BpfSourceTarget,
  type BpfTaskFileRec,
  type BpfTaskRec,
  type BpfTaskVmaRec,
  type BpfUnixRec,
  buildBpfPrograms,
  parseBpfRecords,
  readBpf,
  readBpfWithReport,
  releaseBpfSource,
  runBpfIter,
  runBpfIters,
  bpfTargetVariant,
  verifierReason,
  VMA_KIND,
} from './sources/bpf.js';
export {
  asTask,
  currentKernel,
  currentPidNs,
  currentTask,
  setDefaultKernel,
  withKernel,
} from './context.js';
export {
  BpfObject,
  BpfObjectMap,
  BpfObjectProgram,
  type BpfObjectState,
  Btf,
  BTF_KIND,
  type BtfType,
  cgroup2MountPoint,
  type GlobalValue,
  type GlobalVar,
  KernelLink,
  type KernelLinkInfo,
  type KernelObjectKind,
  openObject,
  type OpenObjectOptions,
} from './libbpf/index.js';

// ---- kernel snapshots (saveKernel / loadKernel, redaction, diff) ----
export * from './snapshot/index.js';
