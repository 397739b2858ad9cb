/**
 * @packageDocumentation
 * `@bpf-iter/iter-programs`: the BPF iterator program type over a modelled
 * kernel — target registry, programs, `bpf_seq_*` helpers, the seq_file
 * read engine, links, iterator fds, bpffs and a libbpf-named facade. RxJS
 * views of iterator fds are on `@bpf-iter/iter-programs/rx`.
 */
export { BpfError, ERRNO, errnoName, fail, isErrno, type ErrnoName } from '@bpf-iter/core';
export * from './constants.js';
export {
  cstr,
  ERR_PTR,
  ErrPtr,
  IS_ERR,
  IS_ERR_OR_NULL,
  kaddr,
  PTR_ERR,
  uaddr,
  USER_SPACE_LIMIT,
} from './ptr.js';
export {
  type FdObject,
} from './fd_table.js';
export {
  bpf_iter_reg_target,
  bpf_iter_unreg_target,
  type BpfCtxArgAux,
  type BpfFuncProto,
  type BpfIterAuxInfo,
  type BpfIterReg,
  type BpfIterSeqInfo,
  type BpfIterTargetInfo,
  type BpfLinkInfoIter,
  type BpfRegType,
  type FdinfoSeq,
  findTarget,
  findTargetByBtfId,
  listTargets,
  type LoffT,
  type SeqOperations,
} from './registry.js';
export {
  BpfIterLinkInfo,
  type BpfIterLinkInfoInit,
} from './link_info.js';
export * from './program.js';
export {
  type RunCtx,
} from './run_ctx.js';
export {
  bpf_iter_get_info,
  bpf_iter_run_prog,
  bpf_iter_show,
  bpf_seq_read,
  isSeqFile,
  seq_has_overflowed,
  seq_set_overflow,
  seq_write,
  seq_write_latin1,
  seq_write_utf8,
  SeqFile,
} from './seq_file.js';
export {
  type CompiledFormat,
  type KallsymsResolver,
  ksprintf,
  type PrintfArg,
} from './helpers/bprintf.js';
export {
  BPF_FUNC_IDS,
  bpf_iter_func_proto,
  callHelper,
  type ProgLike,
} from './helpers/func_proto.js';
export {
  bpf_seq_printf,
  BPF_SEQ_PRINTF,
} from './helpers/seq_printf.js';
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
export {
  bpf_core_type_id_kernel,
  btf_add_type,
  type BtfMember,
  type BtfRegistry,
  type BtfType,
} from './btf.js';
export {
  attachIter,
  type AttachIterOptions,
  BPF_F_REPLACE,
  bpf_iter_create,
  bpf_iter_new_session,
  bpf_link_create,
  bpf_link_get_info_by_fd,
  BPF_LINK_TYPE_ITER,
  bpf_link_update,
  BPF_TRACE_ITER,
  BpfIterLink,
  BpfLinkFd,
  type BpfLinkCreateOpts,
  type BpfLinkInfo,
} from './link.js';
export {
  DEFAULT_READ_SIZE,
  IterFd,
  IterFdBase,
  type IterReadOptions,
  type SessionSource,
} from './iter_fd.js';
export {
  isKernelProgram,
  KernelIterFd,
  KernelIterLink,
} from './kernel_iter.js';
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
  type bpf_iter_attach_opts,
  type Skeleton,
  type SkeletonOps,
} from './libbpf.js';
export {
  bpf_map_get_fd_by_id,
  type BpfIterBpfLinkCtx,
  type BpfIterBpfMapCtx,
  type BpfIterBpfMapElemCtx,
  type BpfIterBpfProgCtx,
  type BpfIterBpfSkStorageMapCtx,
  type BpfIterCgroupCtx,
  type BpfIterDmabufCtx,
  type BpfIterIpv6RouteCtx,
  type BpfIterKmemCacheCtx,
  type BpfIterKsymCtx,
  type BpfIterNetlinkCtx,
  type BpfIterSockmapCtx,
  type BpfIterTaskCtx,
  type BpfIterTaskFileCtx,
  type BpfIterTaskVmaCtx,
  type BpfIterTcpCtx,
  type BpfIterUdpCtx,
  type BpfIterUnixCtx,
  bpfLinkReg,
  bpfMapElemReg,
  bpfMapReg,
  bpfProgReg,
  bpfSkStorageMapReg,
  BUILTIN_TARGETS,
  cgroup_open,
  CgroupFd,
  cgroupReg,
  defaultDumper,
  dmabufReg,
  dumpBpfLink,
  dumpBpfMap,
  dumpBpfMapElem,
  dumpBpfProg,
  dumpBpfSkStorageMap,
  dumpCgroup,
  dumpDmabuf,
  dumpIpv6Route,
  dumpKmemCache,
  dumpKsym,
  dumpNetlink,
  dumpSockmap,
  dumpTask,
  dumpTaskFile,
  dumpTaskVma,
  dumpTcp,
  dumpUdp,
  dumpUnix,
  ipv6RouteReg,
  kmemCacheReg,
  ksymReg,
  mapFd,
  MapFd,
  netlinkReg,
  PidFd,
  pidfd_open,
  SEQ_SKIP,
  SEQ_START_TOKEN,
  sockmapReg,
  type TaskAux,
  taskFileReg,
  taskReg,
  taskTargetReg,
  taskVmaReg,
  type TcpDumpGlobals,
  tcpReg,
  type UdpDumpGlobals,
  udpReg,
  unixReg,
  type WalkerPriv,
} from './targets/index.js';
export {
  hex,
  HEX,
  pi6,
  px,
} from './procfs/format.js';
export * from './procfs/proc_maps.js';
export * from './procfs/net.js';
export * from './procfs/kallsyms.js';
