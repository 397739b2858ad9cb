/**
 * The CLI on the real kernel, for BPF objects (`.bpf.o`, or `.bpf.c`
 * compiled on the fly): `bpf-iter run OBJ` and `bpf-iter iter pin OBJ PATH`.
 * The object's first `SEC("iter/...")` program (or `--prog`) is the only one
 * loaded; `--set` writes globals before load; the link parameters go to the
 * kernel as `union bpf_iter_link_info` (bpftool cannot pass them).
 */
import { closeSync, openSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CGROUP_ORDER_NAMES, cgroup2MountPoint, fail, openObject, type BpfObject, type BpfObjectProgram } from '@bpf-iter/core';
import { mapFdById, objGet, pidfdOpen } from '@bpf-iter/core/internal';
import type { BpfIterLinkInfoInit } from '../link_info.js';
import { attachKernelIterLink, type KernelIterLink } from '../kernel_iter.js';
import { applySets } from './sets.js';
import { streamIter, type CliIo } from './stream.js';

/** The options `run` and `iter pin` take for objects. */
export interface ObjectOptions {
  pid?: number;
  tid?: number;
  pidFd?: number;
  map?: number;
  cgroup?: string;
  order?: string;
  kernel?: string;
  set?: string[];
  prog?: string;
  json?: boolean;
  family?: number;
}

/** Opens `file`, picks the program (others are not loaded), applies `--set`, loads. */
export function openCliObject(io: CliIo, file: string, o: ObjectOptions): { obj: BpfObject; prog: BpfObjectProgram } {
  if (o.kernel !== undefined && o.kernel !== 'bpf') fail('EINVAL', `a BPF object runs on the real kernel: --kernel ${o.kernel} applies to program modules`);
  if (o.json || o.family !== undefined) fail('EINVAL', '--json and --family apply to targets, not BPF objects');
  const obj = openObject(resolve(io.cwd ?? process.cwd(), file));
  try {
    const prog = o.prog === undefined ? obj.firstIterProgram() : obj.program(o.prog);
    if (prog.target === null) fail('EINVAL', `prog '${prog.name}': section '${prog.section}' is not an iter/ program`);
    for (const p of obj.programs) if (p !== prog) p.autoload = false;
    applySets({ bss: obj.bss, data: obj.data }, o.set ?? []);
    obj.load();
    return { obj, prog };
  } catch (e) {
    obj.close();
    throw e;
  }
}

/** How `map MAP` names a map: `id N`, `pinned PATH`, or `name NAME` (a map of the object). */
export type MapRef = { id: number } | { pinned: string } | { name: string };

/** Parses bpftool's `map { id N | pinned PATH | name NAME }` words. EINVAL otherwise. */
export function parseMapRef(words: readonly string[]): MapRef | null {
  if (words.length === 0) return null;
  const [kw, how, v, ...rest] = words;
  if (kw !== 'map' || v === undefined || rest.length) fail('EINVAL', `expected 'map { id N | pinned PATH | name NAME }', got '${words.join(' ')}'`);
  if (how === 'id') {
    if (!/^\d+$/.test(v)) fail('EINVAL', `map id must be a number, not '${v}'`);
    return { id: Number(v) };
  }
  if (how === 'pinned') return { pinned: v };
  if (how === 'name') return { name: v };
  fail('EINVAL', `map ${how}: expected id, pinned or name`);
}

/**
 * `--cgroup PATH` as the kernel takes it: `/` is the root of the default
 * (v2) hierarchy, cgroup id 1, which needs no mount; another path is a
 * directory of the cgroup2 mount (absolute, or relative to the mount), passed
 * as an fd. ENOENT when there is no cgroup2 mount to find it in.
 */
function cgroupTarget(p: string): { cgroup_id: bigint } | { dir: string } {
  if (p === '/' || p === '') return { cgroup_id: 1n };
  const mnt = cgroup2MountPoint();
  if (mnt && (p === mnt || p.startsWith(mnt + '/'))) return { dir: p };
  if (!mnt) fail('ENOENT', `cgroup ${p}: no cgroup2 hierarchy is mounted here (only / can be named: the root, cgroup id 1)`);
  return { dir: join(mnt, isAbsolute(p) ? p.slice(1) : p) };
}

/**
 * Attaches `prog` with the link parameters: `--pid`/`--tid`/`--pid-fd`
 * (task targets), `--map`/`map MAP` (map targets), `--cgroup`/`--order`.
 * fds opened for the link info are closed after attach (the kernel holds
 * its own references).
 */
export function attachObjectProgram(obj: BpfObject, prog: BpfObjectProgram, o: ObjectOptions, mapRef: MapRef | null = null): KernelIterLink {
  const fds: number[] = [];
  try {
    const li: BpfIterLinkInfoInit = {};
    const task = [o.pid, o.tid, o.pidFd].filter((x) => x !== undefined).length;
    if (task > 1) fail('EINVAL', '--pid, --tid and --pid-fd are exclusive');
    if (o.tid !== undefined) li.task = { tid: o.tid };
    if (o.pid !== undefined) li.task = { pid: o.pid };
    if (o.pidFd !== undefined) {
      const fd = pidfdOpen(o.pidFd);
      fds.push(fd);
      li.task = { pid_fd: fd };
    }
    if (o.map !== undefined && mapRef) fail('EINVAL', '--map and map MAP are exclusive');
    const ref: MapRef | null = o.map !== undefined ? { id: o.map } : mapRef;
    if (ref) {
      let fd: number;
      if ('id' in ref) fds.push((fd = mapFdById(ref.id)));
      else if ('pinned' in ref) fds.push((fd = objGet(ref.pinned)));
      else fd = obj.map(ref.name).fd; // the object's own fd: closed with the object
      li.map = { map_fd: fd };
    }
    if (o.cgroup !== undefined || o.order !== undefined) {
      if (li.task || li.map) fail('EINVAL', '--cgroup/--order are for the cgroup target, not with task or map parameters');
      let order = 0;
      if (o.order !== undefined) {
        order = CGROUP_ORDER_NAMES.indexOf(o.order as (typeof CGROUP_ORDER_NAMES)[number]);
        if (order < 0) fail('EINVAL', `--order must be one of ${CGROUP_ORDER_NAMES.slice(1).join(', ')}`);
      }
      const c: { order: number; cgroup_fd?: number; cgroup_id?: bigint } = { order };
      if (o.cgroup !== undefined) {
        const t = cgroupTarget(o.cgroup);
        if ('cgroup_id' in t) c.cgroup_id = t.cgroup_id;
        else {
          let fd: number;
          try {
            fd = openSync(t.dir, 'r');
          } catch (e) {
            fail(((e as NodeJS.ErrnoException).code as 'ENOENT') ?? 'ENOENT', `cgroup ${t.dir}: ${(e as Error).message}`);
          }
          fds.push(fd);
          c.cgroup_fd = fd;
        }
      }
      li.cgroup = c;
    }
    return attachKernelIterLink(prog, Object.keys(li).length ? { linkInfo: li } : {});
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** `bpf-iter run OBJ.bpf.{o,c}`: load, attach, stream what the program writes. */
export async function runObjectCommand(io: CliIo, file: string, o: ObjectOptions): Promise<void> {
  const { obj, prog } = openCliObject(io, file, o);
  try {
    const link = attachObjectProgram(obj, prog, o);
    try {
      await streamIter(io, link.open());
    } finally {
      link.close();
    }
  } finally {
    obj.close();
  }
}

/**
 * `bpf-iter iter pin OBJ PATH [map MAP]`: a real pin on the real bpffs; a
 * plain `cat PATH` reads a fresh session, `rm PATH` removes it.
 */
export function iterPinCommand(io: CliIo, file: string, path: string, mapWords: readonly string[], o: ObjectOptions): void {
  const { obj, prog } = openCliObject(io, file, o);
  try {
    const link = attachObjectProgram(obj, prog, o, parseMapRef(mapWords));
    try {
      link.pin(resolve(io.cwd ?? process.cwd(), path));
    } finally {
      link.close();
    }
  } finally {
    obj.close();
  }
}
