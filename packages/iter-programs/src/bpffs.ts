/**
 * An in-memory bpffs mounted at `/sys/fs/bpf` (kernel/bpf/inode.c):
 * directories, pinned links (`BPF_OBJ_PIN`), `BPF_OBJ_GET`, and iterator
 * files whose every `open()` is a new session (reference §8).
 *
 * Path rules (as the kernel applies them):
 * - pin/mkdir outside the mount → EPERM (parent is not a bpffs directory);
 * - missing parent directory → ENOENT; parent not a directory → ENOTDIR;
 * - existing path → EEXIST;
 * - a component containing `.` → EPERM: `bpf_lookup()` rejects dots
 *   ("reserved for future extensions"; bpftool documents the same rule);
 * - a component longer than 255 bytes → ENAMETOOLONG;
 * - `.`, `..` and repeated slashes resolve like the kernel's path walk: the
 *   component before a `..` must exist and be a directory (ENOENT/ENOTDIR),
 *   so `/sys/fs/bpf/a/../b` is `/sys/fs/bpf/b` only when `a` is a directory.
 */
import { posix } from 'node:path';
import { fail } from '@bpf-iter/core';
import { BPF_FS_MOUNT } from './constants.js';
import { fdTable } from './fd_table.js';
import { attachIter, BpfIterLink, BpfLinkFd } from './link.js';
import { loadProgram, isProgramSpec, type BpfProgramSpec } from './program.js';
import type { IterFd, IterReadOptions } from './iter_fd.js';

interface DirNode {
  kind: 'dir';
  children: Map<string, Node>;
}
interface LinkNode {
  kind: 'link';
  link: BpfLinkFd;
}
type Node = DirNode | LinkNode;

/** A persisted pin (what a CLI state file stores). */
export interface PinnedLinkState {
  path: string;
  kind: 'link';
  target: string;
  /** The program: name, section, where it comes from, and its `prog_tag` when pinned. */
  prog: { name: string; sec: string; origin?: { module: string; export?: string }; tag?: string };
  /** `union bpf_iter_link_info` bytes as hex (32 chars). */
  link_info: string;
  /** Global data of the program at pin time (JSON-safe values). */
  globals?: { bss?: Record<string, unknown>; data?: Record<string, unknown>; rodata?: Record<string, unknown> };
}
/** Serialised bpffs: directories and pinned iterator links. */
export interface BpffsState {
  version: 1;
  mount: string;
  dirs: string[];
  pins: PinnedLinkState[];
}

function jsonSafe(o: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)));
}
function fromJsonSafe(o: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!o) return {};
  return JSON.parse(JSON.stringify(o), (_k, v) => (v && typeof v === 'object' && typeof v.$bigint === 'string' ? BigInt(v.$bigint) : v));
}

/** An in-memory bpffs. */
export class BpfFs {
  private readonly root: DirNode = { kind: 'dir', children: new Map() };

  constructor(readonly mount: string = BPF_FS_MOUNT) {}

  /**
   * The canonical form of an absolute path, walked like the kernel's
   * `link_path_walk()`: empty and `.` components dropped; `..` steps back
   * over a component that must exist as a directory when it is on this
   * bpffs (ENOENT if missing, ENOTDIR if a pin). Components outside the
   * mount are the host's and are taken as given. EINVAL for a relative path.
   */
  realpath(path: string): string {
    if (typeof path !== 'string' || !path.startsWith('/')) fail('EINVAL', `path must be absolute: ${String(path)}`);
    const out: string[] = [];
    for (const c of path.split('/')) {
      if (c === '' || c === '.') continue;
      if (c !== '..') {
        out.push(c);
        continue;
      }
      if (out.length === 0) continue; // `/..` is `/`
      const below = this.relParts('/' + out.join('/'));
      if (below && below.length > 0) {
        const n = this.walk(below, path);
        if (n.kind !== 'dir') fail('ENOTDIR', `not a directory on the way to ${path}`);
      }
      out.pop();
    }
    return '/' + out.join('/');
  }

  /** Components of a canonical path below the mount ([] for the mount); null if outside. */
  private relParts(p: string): string[] | null {
    if (p === this.mount) return [];
    if (!p.startsWith(this.mount + '/')) return null;
    return p.slice(this.mount.length + 1).split('/');
  }

  /** Splits a path into components below the mount; null if outside. */
  private rel(path: string): string[] | null {
    const p = this.realpath(path);
    if (p === this.mount) return [];
    if (!p.startsWith(this.mount + '/')) return null;
    const parts = p.slice(this.mount.length + 1).split('/');
    for (const c of parts) {
      if (Buffer.byteLength(c) > 255) fail('ENAMETOOLONG', `path component too long: ${c.slice(0, 32)}…`);
      if (c.includes('.')) fail('EPERM', `bpffs names may not contain '.': ${c}`);
    }
    return parts;
  }

  private walk(parts: string[], path: string): Node {
    let n: Node = this.root;
    for (const c of parts) {
      if (n.kind !== 'dir') fail('ENOTDIR', `not a directory on the way to ${path}`);
      const next: Node | undefined = n.children.get(c);
      if (!next) fail('ENOENT', `no such file or directory: ${path}`);
      n = next;
    }
    return n;
  }

  private lookup(path: string): Node {
    const parts = this.rel(path);
    if (parts === null) fail('ENOENT', `not on bpffs (${this.mount}): ${path}`);
    return this.walk(parts, path);
  }

  /** For creating `path`: its parent directory and last name. */
  private createSlot(path: string): { dir: DirNode; name: string } {
    const parts = this.rel(path);
    if (parts === null) fail('EPERM', `not a bpffs directory: ${posix.dirname(path)}`);
    if (parts.length === 0) fail('EEXIST', `${path} exists`);
    const dir = this.walk(parts.slice(0, -1), path);
    if (dir.kind !== 'dir') fail('ENOTDIR', `not a directory: ${posix.dirname(path)}`);
    const name = parts[parts.length - 1]!;
    if (dir.children.has(name)) fail('EEXIST', `${path} exists`);
    return { dir, name };
  }

  /** `mkdir(path)`; `recursive` creates missing parents (like `mkdir -p`, no EEXIST). */
  mkdir(path: string, opts: { recursive?: boolean } = {}): void {
    if (opts.recursive) {
      const parts = this.rel(path);
      if (parts === null) fail('EPERM', `not on bpffs: ${path}`);
      let d = this.root;
      for (const c of parts) {
        let n = d.children.get(c);
        if (!n) {
          n = { kind: 'dir', children: new Map() };
          d.children.set(c, n);
        }
        if (n.kind !== 'dir') fail('ENOTDIR', `not a directory: ${c}`);
        d = n;
      }
      return;
    }
    const { dir, name } = this.createSlot(path);
    dir.children.set(name, { kind: 'dir', children: new Map() });
  }

  /** `BPF_OBJ_PIN` of a link (object or link fd): the pin takes a link reference. */
  pin(link: BpfLinkFd | number, path: string): void {
    const l = typeof link === 'number' ? fdTable.get(link) : link;
    if (!(l instanceof BpfLinkFd)) fail('EINVAL', 'only links can be pinned here');
    if (l.released) fail('EBADF', 'link was released');
    const { dir, name } = this.createSlot(path);
    l.get();
    dir.children.set(name, { kind: 'link', link: l });
  }

  /**
   * `BPF_OBJ_GET`: the pinned link, with a new reference the caller owns
   * (call `close()` on it). ENOENT missing; EISDIR for a directory.
   */
  get(path: string): BpfLinkFd {
    const n = this.lookup(path);
    if (n.kind === 'dir') fail('EISDIR', `${path} is a directory`);
    return n.link.get();
  }

  /** `bpf_obj_get(path)`: a new link fd. */
  getFd(path: string): number {
    return fdTable.install(this.get(path));
  }

  /**
   * `open(path, O_RDONLY)` of a pinned iterator: a new session exactly like
   * `BPF_ITER_CREATE`, with the link's program as of now. EISDIR for a
   * directory; a pinned non-iterator link cannot be read (the kernel's
   * `bpffs_obj_open` returns EIO, which this model reports as EINVAL).
   */
  open(path: string): IterFd {
    const n = this.lookup(path);
    if (n.kind === 'dir') fail('EISDIR', `${path} is a directory`);
    if (!(n.link instanceof BpfIterLink)) fail('EINVAL', `${path}: not an iterator link (kernel: EIO)`);
    return n.link.open();
  }

  /** `cat path`: a new session read to EOF, as bytes. */
  catBytes(path: string, opts: IterReadOptions = {}): Buffer {
    const fd = this.open(path);
    try {
      return fd.readAll({ chunkSize: 128 * 1024, ...opts });
    } finally {
      fd.closeQuietly();
    }
  }
  /** `cat path` decoded as UTF-8. */
  cat(path: string, opts: IterReadOptions = {}): string {
    return this.catBytes(path, opts).toString('utf8');
  }

  /** `unlink(path)` / `rm`: drops the pin's reference. ENOENT missing; EISDIR for directories. Open sessions keep working. */
  rm(path: string): void {
    const parts = this.rel(path);
    if (parts === null || parts.length === 0) fail(parts === null ? 'ENOENT' : 'EISDIR', `cannot remove ${path}`);
    const dir = this.walk(parts.slice(0, -1), path);
    if (dir.kind !== 'dir') fail('ENOTDIR', `not a directory: ${posix.dirname(path)}`);
    const name = parts[parts.length - 1]!;
    const n = dir.children.get(name);
    if (!n) fail('ENOENT', `no such file: ${path}`);
    if (n.kind === 'dir') fail('EISDIR', `${path} is a directory`);
    dir.children.delete(name);
    n.link.put();
  }
  /** Alias of {@link rm}. */
  unlink(path: string): void {
    this.rm(path);
  }

  /** `rmdir(path)`: ENOTEMPTY / ENOTDIR / ENOENT. */
  rmdir(path: string): void {
    const parts = this.rel(path);
    if (parts === null) fail('ENOENT', `not on bpffs: ${path}`);
    if (parts.length === 0) fail('EBUSY', 'cannot remove the mount point');
    const dir = this.walk(parts.slice(0, -1), path) as DirNode;
    const name = parts[parts.length - 1]!;
    const n = dir.children.get(name);
    if (!n) fail('ENOENT', `no such directory: ${path}`);
    if (n.kind !== 'dir') fail('ENOTDIR', `${path} is not a directory`);
    if (n.children.size) fail('ENOTEMPTY', `${path} is not empty`);
    dir.children.delete(name);
  }

  /** Directory listing (sorted names). */
  ls(path: string = this.mount): string[] {
    const n = this.lookup(path);
    if (n.kind !== 'dir') fail('ENOTDIR', `${path} is not a directory`);
    return [...n.children.keys()].sort();
  }

  /** True when `path` exists. */
  exists(path: string): boolean {
    try {
      this.lookup(path);
      return true;
    } catch {
      return false;
    }
  }

  /** Kind of the node at `path`: `'dir'`, `'link'`, or null. */
  stat(path: string): { kind: 'dir' | 'link'; link?: BpfLinkFd } | null {
    try {
      const n = this.lookup(path);
      return n.kind === 'dir' ? { kind: 'dir' } : { kind: 'link', link: n.link };
    } catch {
      return null;
    }
  }

  /** Serialises directories and pinned iterator links (for a CLI state file). */
  serialize(): BpffsState {
    const dirs: string[] = [];
    const pins: PinnedLinkState[] = [];
    const visit = (d: DirNode, prefix: string) => {
      for (const [name, n] of [...d.children].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const p = `${prefix}/${name}`;
        if (n.kind === 'dir') {
          dirs.push(p);
          visit(n, p);
        } else if (n.link instanceof BpfIterLink) {
          const prog = n.link.prog;
          pins.push({
            path: p,
            kind: 'link',
            target: n.link.target,
            prog: { name: prog.name, sec: prog.sec, ...(prog.spec.origin ? { origin: prog.spec.origin } : {}), tag: prog.tag },
            link_info: n.link.linfo.toHex(),
            globals: { bss: jsonSafe(prog.globals.bss), data: jsonSafe(prog.globals.data), rodata: jsonSafe(prog.globals.rodata) },
          });
        }
      }
    };
    visit(this.root, this.mount);
    return { version: 1, mount: this.mount, dirs, pins };
  }

  /**
   * Recreates a serialised state. `resolve` returns the program spec of a
   * pin (default: `import(origin.module)` and take `origin.export` or the
   * export whose name matches). Each pin gets a freshly loaded program
   * (with the saved globals) and link.
   */
  async restore(state: BpffsState, resolve?: (pin: PinnedLinkState) => Promise<BpfProgramSpec> | BpfProgramSpec): Promise<void> {
    if (state.version !== 1) fail('EINVAL', `unknown bpffs state version ${String(state.version)}`);
    for (const d of state.dirs) this.mkdir(d, { recursive: true });
    for (const pin of state.pins) {
      const spec = resolve ? await resolve(pin) : await defaultResolve(pin);
      const prog = loadProgram(spec, {
        globals: { bss: fromJsonSafe(pin.globals?.bss), data: fromJsonSafe(pin.globals?.data), rodata: fromJsonSafe(pin.globals?.rodata) },
      });
      try {
        const link = attachIter(prog, { linkInfo: Buffer.from(pin.link_info, 'hex'), linkInfoLen: 16 });
        try {
          this.mkdir(posix.dirname(pin.path), { recursive: true });
          this.pin(link, pin.path);
        } finally {
          link.close();
        }
      } finally {
        prog.put();
      }
    }
  }
}

async function defaultResolve(pin: PinnedLinkState): Promise<BpfProgramSpec> {
  const origin = pin.prog.origin;
  if (!origin) fail('ENOENT', `pin ${pin.path}: program ${pin.prog.name} has no origin module`);
  const mod = (await import(origin.module)) as Record<string, unknown>;
  const cand = origin.export ? mod[origin.export] : Object.values(mod).find((v) => isProgramSpec(v) && v.name === pin.prog.name);
  if (!isProgramSpec(cand)) fail('ENOENT', `pin ${pin.path}: program ${pin.prog.name} not found in ${origin.module}`);
  return cand;
}

/** The process-wide bpffs. */
export const bpffs = new BpfFs();
