/**
 * The robustness suite's random world: a small kernel model, random
 * mutations (fork, exit, open, close, mmap, munmap, map update/delete) and
 * the identity of every object an iterator may report, so that a walk can
 * be checked against "every survivor exactly once, nothing twice".
 */
import fc from 'fast-check';
import { BPF_MAP_TYPE_HASH, FilesStruct, Kernel, MmStruct, PAGE_SIZE, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, type BpfMap, type Task } from '@bpf-iter/core';
import { vmaLayout } from '@bpf-iter/core/internal';

/** Seed of every property in the suite (reproducible runs; change it to explore). */
export const SEED = 20240607;

/** Initial shape of one process. */
export interface ProcShape {
  fds: number;
  vmas: number;
}

/** One mutation; indices are taken modulo the live population when applied. */
export type Op =
  | { k: 'fork'; p: number }
  | { k: 'exit'; p: number }
  | { k: 'open'; p: number }
  | { k: 'close'; p: number; fd: number }
  | { k: 'mmap'; p: number; page: number; pages: number }
  | { k: 'munmap'; p: number; page: number; pages: number }
  | { k: 'update'; key: number }
  | { k: 'delete'; key: number };

const proc = fc.nat({ max: 15 });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('fork' as const), p: proc }),
  fc.record({ k: fc.constant('exit' as const), p: proc }),
  fc.record({ k: fc.constant('open' as const), p: proc }),
  fc.record({ k: fc.constant('close' as const), p: proc, fd: fc.nat({ max: 8 }) }),
  fc.record({ k: fc.constant('mmap' as const), p: proc, page: fc.nat({ max: 24 }), pages: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('munmap' as const), p: proc, page: fc.nat({ max: 24 }), pages: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('update' as const), key: fc.nat({ max: 31 }) }),
  fc.record({ k: fc.constant('delete' as const), key: fc.nat({ max: 31 }) }),
);

export const shapeArb = fc.array(fc.record({ fds: fc.nat({ max: 6 }), vmas: fc.nat({ max: 6 }) }), { minLength: 1, maxLength: 6 });

/** Read sizes 1..64 KiB, biased to small ones (many read boundaries, many resumes). */
export const readSizeArb = fc.oneof(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 65536 }));

/** A mutation scheduled before the `at`-th read (or the `at`-th `next`). */
export const scheduleArb = fc.array(fc.record({ at: fc.nat({ max: 40 }), op: opArb }), { maxLength: 30 });

const VMA_BASE = 0x10000000;

/** The random world: kernel, its processes, a hash map, and the ranges touched by mmap/munmap. */
export class World {
  readonly kernel = new Kernel();
  readonly map: BpfMap;
  /** Processes created by the world (dead ones included). */
  readonly procs: Task[] = [];
  /** `pid:start-end` address ranges changed by mmap/munmap since {@link resetTouched}. */
  touched: { pid: number; start: number; end: number }[] = [];
  deletes = 0;

  /** Identities a lazy table or address space will have once read (what its reader installs). */
  private readonly pending = new Map<object, string[]>();

  /**
   * @param lazy build each process's fd table, address space and file fields
   *   as a lazy source does (read on first access, like `openHost`): walks and
   *   mutations then meet tables that fill in while they run
   */
  constructor(shape: readonly ProcShape[], keys = 12, lazy = false) {
    const k = this.kernel;
    this.map = k.createMap({ map_type: BPF_MAP_TYPE_HASH, name: 'robust', key_size: 4, value_size: 4, max_entries: 64 });
    for (let i = 0; i < keys; i++) this.map.update(u32(i * 2), u32(i));
    for (const s of shape) {
      if (lazy) {
        this.procs.push(this.lazyProc(s));
        continue;
      }
      const t = k.createTask({ comm: 'robust', mm: k.newMm() });
      for (let i = 0; i < s.fds; i++) k.open(t, `/tmp/r${i}`);
      for (let i = 0; i < s.vmas; i++) k.mmap(t, { addr: VMA_BASE + i * 3 * PAGE_SIZE, length: PAGE_SIZE * (1 + (i % 2)) });
      this.procs.push(t);
    }
  }

  /** A process of `s`'s shape whose table, VMAs and files' flags are read on first access. */
  private lazyProc(s: ProcShape): Task {
    const k = this.kernel;
    const inos = Array.from({ length: s.fds }, () => k.allocIno());
    const rows = Array.from({ length: s.vmas }, (_, i) => ({
      start: VMA_BASE + i * 3 * PAGE_SIZE,
      end: VMA_BASE + i * 3 * PAGE_SIZE + PAGE_SIZE * (1 + (i % 2)),
      flags: VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE,
    }));
    const fields = { f_op: () => k.fops('ext4_file_operations'), info: () => ({ f_flags: 2, f_pos: 0 }) };
    // Listed on first access, each file made when a walk looks its fd up (as openHost's tables).
    const files = new FilesStruct([], [], {
      list: (fs) => {
        this.pending.delete(fs);
        return { fds: Int32Array.from(inos, (_, i) => i), file: (i) => k.createFile(`/tmp/r${i}`, { inode: { i_ino: inos[i]! }, fields }) };
      },
    });
    const mm = new MmStruct(vmaLayout([]), null, (m) => {
      this.pending.delete(m);
      return vmaLayout(rows);
    });
    const t = k.createTask({ comm: 'robust', files, mm });
    this.pending.set(files, inos.map((ino, fd) => `${t.pid} ${fd} ${ino}`));
    this.pending.set(mm, rows.map((r) => vmaId(t.pid, r.start, r.end)));
    return t;
  }

  /** Live processes of the world. */
  live(): Task[] {
    return this.procs.filter((t) => !t.dead);
  }

  resetTouched(): void {
    this.touched = [];
    this.deletes = 0;
  }

  /** Applies `op` if it makes sense in the current state (e.g. close only an open fd). */
  apply(op: Op): void {
    const k = this.kernel;
    const live = this.live();
    const t = live.length ? live[('p' in op ? op.p : 0) % live.length]! : null;
    switch (op.k) {
      case 'fork':
        if (t) this.procs.push(k.fork(t));
        break;
      case 'exit':
        // Keep one process so that there is something to iterate.
        if (t && live.length > 1) k.exit(t);
        break;
      case 'open':
        if (t?.files) k.open(t, '/tmp/new');
        break;
      case 'close':
        if (t?.files?.fd[op.fd]) k.close(t, op.fd);
        break;
      case 'mmap':
      case 'munmap': {
        if (!t?.mm) break;
        const start = VMA_BASE + op.page * PAGE_SIZE;
        const end = start + op.pages * PAGE_SIZE;
        if (op.k === 'mmap') k.mmap(t, { addr: start, length: end - start });
        else k.munmap(t, start, end - start);
        this.touched.push({ pid: t.pid, start, end });
        break;
      }
      case 'update':
        this.map.update(u32(op.key), u32(op.key + 1000));
        break;
      case 'delete':
        if (this.mapKeys().includes(op.key)) {
          this.map.delete(u32(op.key));
          this.deletes++;
        }
        break;
    }
  }

  /** Identities of every live thread (`pid`). */
  tasks(): Set<string> {
    const out = new Set<string>();
    for (let p = this.kernel.processes.head; p; p = p.next)
      for (let t = p.value.signal.threads.head; t; t = t.next) if (t.value.pid !== 0) out.add(`${t.value.pid}`);
    return out;
  }

  /** Identities of every open file of every process (`pid fd ino`). */
  files(): Set<string> {
    const out = new Set<string>();
    for (const t of this.live()) {
      // Without reading a lazy table (the walk must be the one to read it).
      const ids = t.files && this.pending.get(t.files);
      if (ids) for (const id of ids) out.add(id);
      else t.files?.fd.forEach((f, fd) => f && out.add(`${t.pid} ${fd} ${f.f_inode.i_ino}`));
    }
    return out;
  }

  /** Identities of every VMA of every process (`pid start end`, hex). */
  vmas(): Set<string> {
    const out = new Set<string>();
    for (const t of this.live()) {
      const ids = t.mm && this.pending.get(t.mm);
      if (ids) for (const id of ids) out.add(id);
      else for (const v of t.mm?.vmas() ?? []) out.add(vmaId(t.pid, v.vm_start, v.vm_end));
    }
    return out;
  }

  /** Keys of the hash map. */
  mapKeys(): number[] {
    const out: number[] = [];
    for (let key = 0; key < 32; key++) {
      try {
        this.map.lookup(u32(key));
        out.push(key);
      } catch {
        /* ENOENT: not in the map */
      }
    }
    return out;
  }

  /** True when a VMA identity overlaps a range changed since {@link resetTouched}. */
  vmaTouched(id: string): boolean {
    const [pid, s, e] = id.split(' ');
    const start = parseInt(s!, 16);
    const end = parseInt(e!, 16);
    return this.touched.some((r) => `${r.pid}` === pid && r.start < end && r.end > start);
  }
}

export function vmaId(pid: number, start: number, end: number): string {
  return `${pid} ${start.toString(16)} ${end.toString(16)}`;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/**
 * Checks a walk: `seen` (in order) against the identities alive at its
 * start and at its end. Survivors (in both, and not `excluded`) must be
 * seen exactly once; nothing may be seen twice. Returns an error text or null.
 */
export function checkWalk(seen: readonly string[], before: Set<string>, after: Set<string>, excluded: (id: string) => boolean = () => false): string | null {
  const count = new Map<string, number>();
  for (const s of seen) count.set(s, (count.get(s) ?? 0) + 1);
  for (const [id, n] of count) if (n > 1) return `${id} seen ${n} times`;
  for (const id of before) if (after.has(id) && !excluded(id) && !count.has(id)) return `survivor ${id} skipped`;
  return null;
}
