/**
 * The fd kinds besides programs, links and iterators that link parameters
 * name — a map (`map_fd`), a cgroup directory (`cgroup_fd`), a process
 * (`pid_fd`) — and the syscalls that open them. Each holds a reference on
 * its object for as long as the fd is open.
 */
import { currentKernel, currentPidNs, type BpfMap, type Cgroup, type Kernel } from '@bpf-iter/core';
import { neg } from './errno.js';
import { fdTable, type FdObject } from './fd_table.js';

/** An fd holding one reference on a reference-counted kernel object, dropped at close. */
abstract class RefFd<T extends { get(): unknown; put(): void }> implements FdObject {
  abstract readonly fdKind: string;
  constructor(protected readonly obj: T) {
    obj.get();
  }
  fdRelease(): void {
    this.obj.put();
  }
}

/** An fd that refers to a kernel-model BPF map (what `BPF_MAP_CREATE` / `bpf_map_get_fd_by_id` return). */
export class MapFd extends RefFd<BpfMap> {
  readonly fdKind = 'map';
  get map(): BpfMap {
    return this.obj;
  }
}

/** An fd for a cgroup directory (what `open("/sys/fs/cgroup/...", O_RDONLY)` gives), for the cgroup target's `cgroup_fd`. */
export class CgroupFd extends RefFd<Cgroup> {
  readonly fdKind = 'cgroup';
  get cgroup(): Cgroup {
    return this.obj;
  }
}

/** An fd that refers to a process (`pidfd_open`), for the task targets' `pid_fd` parameter. */
export class PidFd implements FdObject {
  readonly fdKind = 'pidfd';
  constructor(
    readonly kernel: Kernel,
    /** The process id in the opener's namespace. */
    readonly pid: number,
  ) {}
  fdRelease(): void {}
}

/** `bpf_map_get_fd_by_id(id)`: an fd for the map with that id, or -ENOENT. */
export function bpf_map_get_fd_by_id(id: number, kernel: Kernel = currentKernel()): number {
  const map = kernel.maps.get(id);
  if (!map || map.dead) return neg('ENOENT');
  return fdTable.install(new MapFd(map));
}

/** Installs an fd for a map object (like the fd `bpf_map_create` returns). */
export function mapFd(map: BpfMap): number {
  return fdTable.install(new MapFd(map));
}

/** Opens a cgroup by path (`/` is the root) and returns an fd, or -ENOENT. */
export function cgroup_open(path: string, kernel: Kernel = currentKernel()): number {
  const cg = kernel.cgroupByPath(path);
  if (!cg) return neg('ENOENT');
  return fdTable.install(new CgroupFd(cg));
}

/** `pidfd_open(pid)`: an fd for the task targets' `pid_fd` link parameter. */
export function pidfd_open(pid: number, kernel: Kernel = currentKernel()): number {
  const ns = currentPidNs(kernel);
  const t = ns.pids.get(pid);
  if (!t || !t.isLeader) return neg('ESRCH');
  return fdTable.install(new PidFd(kernel, pid));
}
