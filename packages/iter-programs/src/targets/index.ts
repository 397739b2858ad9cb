/**
 * The built-in iterator targets, one file each (seq ops + ctx +
 * registration + default dumper), registered on import.
 */
import { findTarget, bpf_iter_reg_target, type BpfIterReg } from '../registry.js';
import type { BpfProgramSpec } from '../program.js';
import { bpfLinkReg, dumpBpfLink } from './bpf_link.js';
import { bpfMapReg, dumpBpfMap } from './bpf_map.js';
import { bpfMapElemReg, dumpBpfMapElem } from './bpf_map_elem.js';
import { bpfSkStorageMapReg, dumpBpfSkStorageMap } from './bpf_sk_storage_map.js';
import { dmabufReg, dumpDmabuf } from './dmabuf.js';
import { dumpSockmap, sockmapReg } from './sockmap.js';
import { bpfProgReg, dumpBpfProg } from './bpf_prog.js';
import { cgroupReg, dumpCgroup } from './cgroup.js';
import { dumpIpv6Route, ipv6RouteReg } from './ipv6_route.js';
import { dumpKmemCache, kmemCacheReg } from './kmem_cache.js';
import { dumpKsym, ksymReg } from './ksym.js';
import { dumpNetlink, netlinkReg } from './netlink.js';
import { dumpTask, taskReg } from './task.js';
import { dumpTaskFile, taskFileReg } from './task_file.js';
import { dumpTaskVma, taskVmaReg } from './task_vma.js';
import { dumpTcp, tcpReg } from './tcp.js';
import { dumpUdp, udpReg } from './udp.js';
import { dumpUnix, unixReg } from './unix.js';

/**
 * Every built-in target's registration, apart from the dumpers: what
 * registering and listing the targets (`bpf-iter targets`) use, so a
 * bundle that only lists them leaves the dumpers and the helpers they call
 * (printf, sockopt) out (scripts/build-bin.mjs).
 */
const BUILTIN_REGS: readonly BpfIterReg[] = [
  taskReg,
  taskFileReg,
  taskVmaReg,
  tcpReg,
  udpReg,
  unixReg,
  netlinkReg,
  ipv6RouteReg,
  ksymReg,
  bpfMapReg,
  bpfMapElemReg,
  bpfProgReg,
  bpfLinkReg,
  cgroupReg,
  kmemCacheReg,
  bpfSkStorageMapReg,
  sockmapReg,
  dmabufReg,
];

/** Every built-in target with its default dumper program (registration order). */
export const BUILTIN_TARGETS: readonly { reg: BpfIterReg; dump: BpfProgramSpec }[] = [
  { reg: taskReg, dump: dumpTask },
  { reg: taskFileReg, dump: dumpTaskFile },
  { reg: taskVmaReg, dump: dumpTaskVma },
  { reg: tcpReg, dump: dumpTcp },
  { reg: udpReg, dump: dumpUdp },
  { reg: unixReg, dump: dumpUnix },
  { reg: netlinkReg, dump: dumpNetlink },
  { reg: ipv6RouteReg, dump: dumpIpv6Route },
  { reg: ksymReg, dump: dumpKsym },
  { reg: bpfMapReg, dump: dumpBpfMap },
  { reg: bpfMapElemReg, dump: dumpBpfMapElem },
  { reg: bpfProgReg, dump: dumpBpfProg },
  { reg: bpfLinkReg, dump: dumpBpfLink },
  { reg: cgroupReg, dump: dumpCgroup },
  { reg: kmemCacheReg, dump: dumpKmemCache },
  { reg: bpfSkStorageMapReg, dump: dumpBpfSkStorageMap },
  { reg: sockmapReg, dump: dumpSockmap },
  { reg: dmabufReg, dump: dumpDmabuf },
];

/** Registers every built-in target not registered yet (idempotent). */
export function registerBuiltinTargets(): void {
  for (const reg of BUILTIN_REGS) if (!findTarget(reg.target)) bpf_iter_reg_target(reg);
}

/** The default dumper of a built-in target (what `bpf-iter cat TARGET` runs). */
export function defaultDumper(target: string): BpfProgramSpec | undefined {
  return BUILTIN_TARGETS.find((t) => t.reg.target === target)?.dump;
}

registerBuiltinTargets();

export * from './session.js';
export * from './seq_ops.js';
export * from './task_params.js';
export * from './map_params.js';
export * from '../fds.js';
export { SEQ_START_TOKEN, SEQ_SKIP } from './sock_target.js';
export type { BpfIterTaskCtx } from './task.js';
export type { BpfIterTaskFileCtx } from './task_file.js';
export type { BpfIterTaskVmaCtx } from './task_vma.js';
export type { BpfIterTcpCtx, TcpDumpGlobals } from './tcp.js';
export type { BpfIterUdpCtx, UdpDumpGlobals } from './udp.js';
export type { BpfIterUnixCtx } from './unix.js';
export type { BpfIterNetlinkCtx } from './netlink.js';
export type { BpfIterIpv6RouteCtx } from './ipv6_route.js';
export type { BpfIterKsymCtx } from './ksym.js';
export type { BpfIterBpfMapCtx } from './bpf_map.js';
export type { BpfIterBpfMapElemCtx } from './bpf_map_elem.js';
export type { BpfIterBpfProgCtx } from './bpf_prog.js';
export type { BpfIterBpfLinkCtx } from './bpf_link.js';
export type { BpfIterCgroupCtx } from './cgroup.js';
export type { BpfIterKmemCacheCtx } from './kmem_cache.js';
export type { BpfIterBpfSkStorageMapCtx } from './bpf_sk_storage_map.js';
export type { BpfIterSockmapCtx } from './sockmap.js';
export type { BpfIterDmabufCtx } from './dmabuf.js';
export { taskReg, dumpTask } from './task.js';
export { taskFileReg, dumpTaskFile } from './task_file.js';
export { taskVmaReg, dumpTaskVma } from './task_vma.js';
export { tcpReg, dumpTcp } from './tcp.js';
export { udpReg, dumpUdp } from './udp.js';
export { unixReg, dumpUnix } from './unix.js';
export { netlinkReg, dumpNetlink } from './netlink.js';
export { ipv6RouteReg, dumpIpv6Route } from './ipv6_route.js';
export { ksymReg, dumpKsym } from './ksym.js';
export { bpfMapReg, dumpBpfMap } from './bpf_map.js';
export { bpfMapElemReg, dumpBpfMapElem } from './bpf_map_elem.js';
export { bpfProgReg, dumpBpfProg } from './bpf_prog.js';
export { bpfLinkReg, dumpBpfLink } from './bpf_link.js';
export { cgroupReg, dumpCgroup } from './cgroup.js';
export { kmemCacheReg, dumpKmemCache } from './kmem_cache.js';
export { bpfSkStorageMapReg, dumpBpfSkStorageMap } from './bpf_sk_storage_map.js';
export { sockmapReg, dumpSockmap } from './sockmap.js';
export { dmabufReg, dumpDmabuf } from './dmabuf.js';
