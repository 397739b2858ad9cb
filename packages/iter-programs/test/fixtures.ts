/** Test-only targets over plain arrays. */
import {
  bpf_iter_show,
  bpf_iter_reg_target,
  bpf_iter_unreg_target,
  findTarget,
  type BpfIterReg,
  type BpfIterAuxInfo,
  type SeqFile,
} from '../src/index.js';

export interface ArrayPriv<T> {
  items: readonly T[];
}

let uniq = 0;
/** A unique target name. */
export function tname(base = 't'): string {
  return `${base}_${++uniq}`;
}

/**
 * A target iterating `items()` (evaluated per session) with ctx
 * `{ meta, item }`; `item` is null in the end call.
 */
export function arrayTarget<T extends object>(
  target: string,
  items: (aux: BpfIterAuxInfo) => readonly T[],
  extra: Partial<BpfIterReg<T, ArrayPriv<T>>> & { log?: string[] } = {},
): BpfIterReg<T, ArrayPriv<T>> {
  const log = extra.log;
  const reg: BpfIterReg<T, ArrayPriv<T>> = {
    target,
    ctx_arg_info: [{ offset: 8, field: 'item', reg_type: 'PTR_TO_BTF_ID_OR_NULL' }],
    seq_info: {
      seq_priv: () => ({ items: [] }),
      init_seq_private(priv, aux) {
        priv.items = items(aux);
        log?.push('init');
        return 0;
      },
      fini_seq_private() {
        log?.push('fini');
      },
      seq_ops: {
        start(seq: SeqFile<ArrayPriv<T>>, pos) {
          log?.push(`start(${pos.value})`);
          return seq.private.items[pos.value] ?? null;
        },
        next(seq: SeqFile<ArrayPriv<T>>, _v, pos) {
          pos.value++;
          return seq.private.items[pos.value] ?? null;
        },
        stop(seq, v) {
          log?.push(v === null ? 'stop(NULL)' : 'stop(obj)');
          if (v === null) bpf_iter_show(seq, { item: null }, true);
        },
        show(seq, v) {
          return bpf_iter_show(seq, { item: v }, false);
        },
      },
    },
    ...extra,
  };
  delete (reg as { log?: unknown }).log;
  return reg;
}

/** Registers a fresh array target and returns its name. */
export function registerArray<T extends object>(items: readonly T[] | ((aux: BpfIterAuxInfo) => readonly T[]), extra: Partial<BpfIterReg<T, ArrayPriv<T>>> & { log?: string[] } = {}): string {
  const name = tname('arr');
  bpf_iter_reg_target(arrayTarget(name, typeof items === 'function' ? items : () => items, extra));
  return name;
}

export function unregister(name: string): void {
  if (findTarget(name)) bpf_iter_unreg_target(name);
}

/** n objects `{ i }`. */
export function objs(n: number): { i: number }[] {
  return Array.from({ length: n }, (_, i) => ({ i }));
}

import { attachIter, loadProgram, SEC, type BpfIterLink, type BpfProgFd, type IterFd } from '../src/index.js';

/** A loaded program + link over an array target. */
export interface Rig<T> {
  target: string;
  prog: BpfProgFd;
  link: BpfIterLink;
  open(): IterFd;
  items: readonly T[];
}

/** Registers an array target over `items`, loads `body` on it and attaches. */
export function rig<T extends object>(
  items: readonly T[],
  body: (ctx: { meta: { seq: SeqFile; session_id: bigint; seq_num: bigint }; item: T | null }) => number,
  extra: Partial<BpfIterReg<T, ArrayPriv<T>>> & { log?: string[] } = {},
): Rig<T> {
  const target = registerArray(items, extra);
  const prog = loadProgram(SEC(`iter/${target}`, function body_(ctx: any) {
    return body(ctx);
  }));
  const link = attachIter(prog);
  prog.put();
  return { target, prog, link, items, open: () => link.open() };
}

/** Reads an fd until EOF with a fixed size; returns the concatenated bytes. */
export function drain(fd: IterFd, size: number): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const b = fd.read(size);
    if (b.length === 0) break;
    parts.push(b);
  }
  return Buffer.concat(parts);
}
