/**
 * `--kernel` to a {@link Kernel}, built once per process: the host source
 * (lazy), the synthetic kernels, and through {@link KernelReaders} the bpf
 * source and saved snapshots. The readers are given by `common.ts`'s
 * `kernelCache()`, so `cat TARGET` on the host or a synthetic kernel (its own
 * bundle, scripts/build-bin.mjs) loads neither the bpf source nor the
 * snapshot reader.
 */
import { defaultKernel, fail, openHost, syntheticKernel, type BpfSourceOptions, type HostOptions, type Kernel } from '@bpf-iter/core';
import type { KernelSpec } from './kernel_spec.js';
import { withStatus } from './progress.js';
import type { CliIo } from './stream.js';

/** Which kinds of objects a target walks, so `--kernel host|bpf` reads only those. */
export interface TargetNeeds {
  /** The bpf source has no program for what this target walks (`--kernel bpf` refuses it, naming the reason). */
  noBpf?: string;
  threads?: boolean;
  files?: boolean;
  vmas?: boolean;
  sockets?: boolean;
  routes?: boolean;
  ksyms?: boolean;
  slabs?: boolean;
  cgroups?: boolean;
  bpfObjects?: boolean;
}

export const TARGET_NEEDS: Record<string, TargetNeeds> = {
  task: { threads: true },
  task_file: { threads: true, files: true },
  task_vma: { threads: true, vmas: true },
  tcp: { sockets: true },
  udp: { sockets: true },
  unix: { sockets: true },
  netlink: { sockets: true },
  ipv6_route: { routes: true },
  ksym: { ksyms: true },
  kmem_cache: { slabs: true },
  cgroup: { threads: true, cgroups: true },
  bpf_map: { bpfObjects: true },
  bpf_prog: { bpfObjects: true },
  bpf_link: { bpfObjects: true },
  bpf_map_elem: { bpfObjects: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their elements" },
  bpf_sk_storage_map: { bpfObjects: true, sockets: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their sockets" },
  sockmap: { bpfObjects: true, sockets: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their sockets" },
  dmabuf: { noBpf: 'the bpf source runs no dmabuf iterator yet (the host source reads debugfs dma_buf/bufinfo)' },
};

/**
 * Only the kinds a target walks are read from the host (and, the host source
 * being lazy, only as the walk reaches them); unknown targets read everything.
 * Files and VMAs get the real addresses of their `file_operations` (kallsyms).
 */
export function hostOptionsFor(target: string | undefined): HostOptions {
  const n = target === undefined ? undefined : TARGET_NEEDS[target];
  if (!n) return {};
  const files = !!n.files;
  const vmas = !!n.vmas;
  return {
    threads: !!n.threads,
    files,
    fdinfo: files,
    vmas,
    sockets: !!n.sockets,
    routes: !!n.routes,
    ksyms: !!n.ksyms,
    realFops: files || vmas,
    slabs: !!n.slabs,
    cgroups: !!n.cgroups,
  };
}

/** Only what a target walks is read through the kernel's own iterators for `--kernel bpf`. */
export function bpfOptionsFor(target: string | undefined): BpfSourceOptions {
  const n = target === undefined ? undefined : TARGET_NEEDS[target];
  if (!n) return {};
  return { files: !!n.files, vmas: !!n.vmas, sockets: !!n.sockets, routes: !!n.routes, ksyms: !!n.ksyms, bpfObjects: !!n.bpfObjects, cgroups: !!n.cgroups, slabs: !!n.slabs };
}

/** How `--kernel bpf` and `--kernel snapshot:FILE` are read (`common.ts`'s `kernelCache()` gives both). */
export interface KernelReaders {
  /** The running kernel through the bpf source, for a target (`readBpfFor`). */
  bpf(target: string | undefined): Kernel;
  /** A saved snapshot (`loadKernelSync`). */
  snapshot(path: string): Kernel;
}

/** Kernels built in this process, so pins of one kernel share it (and its ids). */
export class KernelCache {
  private readonly cache = new Map<string, Kernel>();
  /** `io`: where a live kernel read shows its status line (a terminal stderr only). */
  constructor(
    private readonly io?: CliIo,
    /** Without readers, `bpf` and `snapshot:` kernels are EOPNOTSUPP (the caller routes them to a cache with readers). */
    private readonly readers?: KernelReaders,
  ) {}
  /**
   * The kernel of a spec; `host` is read once per process per target set,
   * with `host` options on top of what the target needs.
   */
  get(spec: KernelSpec, target?: string, host: HostOptions = {}): Kernel {
    const key = spec === 'host' || spec === 'bpf' ? `${spec}/${target ?? '*'}/${JSON.stringify(host)}` : spec;
    let k = this.cache.get(key);
    if (!k) {
      const io = this.io;
      const status = <T>(text: string, fn: () => T): T => (io ? withStatus(io, text, fn) : fn());
      // The host source is lazy (read as the walk reaches each kind): nothing long to show here.
      if (spec === 'host') k = openHost({ ...hostOptionsFor(target), ...host });
      else if (spec === 'bpf' || spec.startsWith('snapshot:')) {
        const r = this.readers ?? fail('EOPNOTSUPP', `--kernel ${spec}: this command's kernel cache has no bpf or snapshot reader`);
        if (spec === 'bpf') k = status('reading the running kernel through BPF iterators (the first run builds them)…', () => r.bpf(target));
        else k = status('loading the snapshot…', () => r.snapshot(spec.slice('snapshot:'.length)));
      }
      else {
        const seed = Number(spec.slice('synthetic:'.length));
        // The default kernel is shared with library code in this process.
        k = seed === 1 ? defaultKernel() : syntheticKernel({ seed });
      }
      this.cache.set(key, k);
    }
    return k;
  }
}

