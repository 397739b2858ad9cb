/**
 * The generic seq_file engine of iterator fds: `struct seq_file` + the
 * `struct bpf_iter_priv_data` it carries, and `bpf_seq_read()` of
 * kernel/bpf/bpf_iter.c implemented literally (reference §2.2).
 */
import { BpfError, fail } from '@bpf-iter/core';
import { MAX_ITER_OBJECTS, SEQ_BUF_SIZE } from './constants.js';
import { neg } from './errno.js';
import { ERR_PTR, IS_ERR, IS_ERR_OR_NULL, PTR_ERR, type ErrPtr } from './ptr.js';
import type { BpfIterAuxInfo, BpfIterTargetInfo, LoffT, SeqOperations } from './registry.js';
import type { BpfIterMeta, BpfProgFd } from './program.js';
import { currentSeq, enterRun, leaveRun } from './run_ctx.js';

let sessionCounter = 0n;

/** `atomic64_inc_return(&session_id)`: the next session id (first is 1n). */
export function nextSessionId(): bigint {
  return ++sessionCounter;
}

/**
 * `struct seq_file` of an iterator fd plus the iterator's private data
 * (`session_id`, `seq_num`, `done_stop`, program). Targets see it as
 * `seq` in their seq ops and reach their state through `seq.private`.
 */
/**
 * Brand of seq files, shared through the global symbol registry: a program
 * module that loaded its own copy of this package (a CommonJS `.ts` run by
 * `bpf-iter run`, say) still recognises the seq file the CLI hands it.
 */
const SEQ_FILE = Symbol.for('bpf-iter.seq_file');

/** True for a {@link SeqFile} of any copy of this package. */
export function isSeqFile(x: unknown): x is SeqFile {
  return typeof x === 'object' && x !== null && (x as { [SEQ_FILE]?: unknown })[SEQ_FILE] === true;
}

export class SeqFile<P = any> {
  /** @internal see {@link isSeqFile}. */
  readonly [SEQ_FILE] = true;
  /** The seq buffer, allocated on the first read (`PAGE_SIZE << 3`). */
  buf: Buffer | null = null;
  /** Buffer size (0 until allocated). */
  size = 0;
  /** Bytes held in `buf` and not yet copied out. */
  count = 0;
  /** Offset in `buf` of the next byte to copy out. */
  from = 0;
  /** `loff_t index`: the seq position, advanced by the target's `next`. */
  readonly pos: LoffT = { value: 0 };
  /** The target's seq ops. */
  readonly op: SeqOperations<any, P>;
  /** The target's per-session private state (`seq->private` target part). */
  readonly private: P;
  /** Fixed for the fd's lifetime. */
  readonly session_id: bigint;
  /** Index of the current object (u64, see §2.5). */
  seq_num = 0n;
  /** Set once the end call ran without overflowing. */
  done_stop = false;
  /** The program this session runs (a reference is held). */
  readonly prog: BpfProgFd;
  readonly target: BpfIterTargetInfo;
  /** The link's aux info (what `attach_target` filled). */
  readonly aux: BpfIterAuxInfo;
  /** @internal offset of the bytes the last read returned. */
  copyStart = 0;
  /** @internal read mutex. */
  locked = false;

  /** @internal use `bpf_iter_create` / `BpfIterLink.open()`. */
  constructor(prog: BpfProgFd, target: BpfIterTargetInfo, aux: BpfIterAuxInfo, priv: P) {
    this.prog = prog;
    this.target = target;
    this.aux = aux;
    this.op = target.reg.seq_info.seq_ops;
    this.private = priv;
    this.session_id = nextSessionId();
  }

  /** `seq->index`. */
  get index(): number {
    return this.pos.value;
  }
}

/** `seq_has_overflowed(m)`: `count == size`. */
export function seq_has_overflowed(m: SeqFile): boolean {
  return m.count === m.size;
}

/** `seq_set_overflow(m)`: marks the buffer overflowed. */
export function seq_set_overflow(m: SeqFile): void {
  m.count = m.size;
}

/**
 * `seq_write(m, data, len)`: appends if `count + len < size`, else marks
 * overflow. Returns 0 or -1 (kernel convention).
 */
export function seq_write(m: SeqFile, data: Uint8Array, len = data.length): number {
  if (m.buf && m.count + len < m.size) {
    m.buf.set(len === data.length ? data : data.subarray(0, len), m.count);
    m.count += len;
    return 0;
  }
  seq_set_overflow(m);
  return -1;
}

/**
 * Fast path: appends a "binary" string (each char code is one byte,
 * 0..255). Same `count + len < size` rule as {@link seq_write}.
 */
export function seq_write_latin1(m: SeqFile, s: string): number {
  const len = s.length;
  if (m.buf && m.count + len < m.size) {
    if (len > 0) m.count += (m.buf as unknown as Latin1Writer).latin1Write(s, m.count, len);
    return 0;
  }
  seq_set_overflow(m);
  return -1;
}

/**
 * Appends a string as UTF-8 with the same `count + len < size` rule. One
 * native length check instead of scanning for non-ASCII characters.
 */
export function seq_write_utf8(m: SeqFile, s: string): number {
  const len = s.length;
  // Fast path: ASCII strings have as many bytes as characters; utf8Write reports the bytes written.
  if (m.buf && m.count + len * 3 < m.size) {
    if (len > 0) m.count += (m.buf as unknown as Latin1Writer).utf8Write(s, m.count);
    return 0;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  if (m.buf && m.count + bytes < m.size) {
    if (bytes > 0) m.count += (m.buf as unknown as Latin1Writer).utf8Write(s, m.count, bytes);
    return 0;
  }
  seq_set_overflow(m);
  return -1;
}

interface Latin1Writer {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length?: number): number;
}

// --- bpf_iter_priv_data accessors (kernel/bpf/bpf_iter.c) ---------------

function isIterSeq(seq: unknown): seq is SeqFile {
  return isSeqFile(seq);
}

/**
 * `bpf_iter_get_info(meta, in_stop)`: fills `meta.session_id` and
 * `meta.seq_num` from the session and returns its program, or null when
 * `in_stop` and the end call already ran (`done_stop`), or when `meta.seq`
 * is not an iterator seq file.
 */
export function bpf_iter_get_info(meta: { seq: SeqFile; session_id?: bigint; seq_num?: bigint }, in_stop: boolean): BpfProgFd | null {
  const seq = meta.seq;
  if (!isIterSeq(seq)) return null;
  if (in_stop && seq.done_stop) return null;
  meta.session_id = seq.session_id;
  meta.seq_num = seq.seq_num;
  return seq.prog;
}

function bpf_iter_inc_seq_num(seq: SeqFile): void {
  seq.seq_num = seq.seq_num === 0xffff_ffff_ffff_ffffn ? 0n : seq.seq_num + 1n;
}
function bpf_iter_dec_seq_num(seq: SeqFile): void {
  seq.seq_num = seq.seq_num === 0n ? 0xffff_ffff_ffff_ffffn : seq.seq_num - 1n;
}
function bpf_iter_done_stop(seq: SeqFile): void {
  seq.done_stop = true;
}

/**
 * `bpf_iter_run_prog(prog, ctx)`: runs the program on a ctx
 * (`{ meta, ...fields }`), which is frozen first (the ctx is read-only).
 * Returns 0 when the program returned 0 and `-EAGAIN` when it returned 1
 * ("retry the same object"). Any other return value (including
 * `undefined`) is a program the verifier would have rejected; it throws a
 * {@link BpfError} EINVAL, which fails the `read()`.
 */
export function bpf_iter_run_prog(prog: BpfProgFd, ctx: { meta: BpfIterMeta | { seq: SeqFile } }): number {
  Object.freeze(ctx.meta);
  Object.freeze(ctx);
  const prevSeq = currentSeq();
  const prev = enterRun(prog, ctx.meta.seq);
  let ret: unknown;
  try {
    ret = prog.run(ctx);
  } finally {
    leaveRun(prev, prevSeq);
  }
  if (ret === 0) return 0;
  if (ret === 1) return neg('EAGAIN');
  throw new BpfError(
    'EINVAL',
    `prog '${prog.name}' returned ${typeof ret === 'number' ? ret : String(ret)}: at program exit the register R0 has value ${String(ret)} should have been in [0, 1]`,
  );
}

/**
 * A target's show/stop: builds `{ meta, ...fields }`, fetches the program
 * with {@link bpf_iter_get_info} and runs it, with `seq_num` lowered by
 * `seqNumAdjust` (socket targets skip their header token: their first
 * socket sees 0, and an empty walk's end call sees 2^64-1). `fields` must be
 * a fresh object (it becomes the ctx and is frozen). Returns 0 when there is
 * nothing to run (end call already done).
 *
 * ```ts
 * show: (seq, task) => bpf_iter_show(seq, { task }, false),
 * stop: (seq, v) => { if (v === null) bpf_iter_show(seq, { task: null }, true); },
 * ```
 */
export function bpf_iter_show(seq: SeqFile, fields: { meta?: BpfIterMeta; [field: string]: unknown }, in_stop: boolean, seqNumAdjust = 0): number {
  const meta: { seq: SeqFile; session_id: bigint; seq_num: bigint } = { seq, session_id: 0n, seq_num: 0n };
  const prog = bpf_iter_get_info(meta, in_stop);
  if (!prog) return 0;
  if (seqNumAdjust) meta.seq_num = BigInt.asUintN(64, meta.seq_num - BigInt(seqNumAdjust));
  fields.meta = meta;
  return bpf_iter_run_prog(prog, fields as { meta: BpfIterMeta });
}

/** True when the target asked for `BPF_ITER_RESCHED`. */
function bpf_iter_support_resched(seq: SeqFile): boolean {
  return ((seq.target.reg.feature ?? 0) & 1) !== 0;
}

/**
 * `bpf_seq_read(file, buf, size)`: one `read()` on an iterator fd.
 * Returns the number of bytes produced (they are at
 * `seq.buf[seq.copyStart, +n)`), or a negative errno.
 *
 * Exceptions thrown by a program (or by a helper the program was not
 * allowed to call, or a bad return value) are not kernel behaviour (the
 * verifier prevents them): the engine rolls the current object back, calls
 * the target's `stop` so start/stop stay paired, and rethrows. Output of
 * earlier objects stays buffered for the next read.
 */
export function bpf_seq_read(seq: SeqFile, size: number): number {
  if (seq.locked) fail('EBUSY', 'concurrent read on the same iterator fd (a program read its own iterator?)');
  seq.locked = true;
  const op = seq.op;
  let copied = 0;
  let err = 0;
  let num_objs = 0;
  let p: unknown = null;
  let offs = 0;
  let active = false; // between start and stop
  try {
    if (!seq.buf) {
      seq.size = SEQ_BUF_SIZE;
      seq.buf = Buffer.allocUnsafe(seq.size);
    }

    if (seq.count) {
      const n = Math.min(seq.count, size);
      seq.copyStart = seq.from;
      seq.count -= n;
      seq.from += n;
      copied = n;
      return copied;
    }

    seq.from = 0;
    active = true;
    p = op.start(seq, seq.pos);
    if (p === undefined) p = null;
    stop: {
      if (p === null) break stop;
      if (IS_ERR(p)) {
        err = PTR_ERR(p);
        active = false;
        op.stop(seq, p);
        seq.count = 0;
        return err;
      }

      offs = 0;
      err = op.show(seq, p);
      if (err > 0) {
        /* object is skipped, decrease seq_num, so next valid object can reuse the same seq_num */
        bpf_iter_dec_seq_num(seq);
        seq.count = 0;
      } else if (err < 0 || seq_has_overflowed(seq)) {
        if (!err) err = neg('E2BIG');
        active = false;
        op.stop(seq, p);
        seq.count = 0;
        return err;
      }

      const can_resched = bpf_iter_support_resched(seq);
      for (;;) {
        const pos = seq.pos.value;
        num_objs++;
        offs = seq.count;
        p = op.next(seq, p, seq.pos);
        if (p === undefined) p = null;
        if (pos === seq.pos.value) {
          // "buggy seq_file .next function did not updated position index"
          seq.pos.value++;
        }
        if (IS_ERR_OR_NULL(p)) break;

        /* got a valid next object, increase seq_num */
        bpf_iter_inc_seq_num(seq);

        if (seq.count >= size) break;

        if (num_objs >= MAX_ITER_OBJECTS) {
          if (offs === 0) {
            err = neg('EAGAIN');
            active = false;
            op.stop(seq, p);
            return err;
          }
          break;
        }

        err = op.show(seq, p);
        if (err > 0) {
          bpf_iter_dec_seq_num(seq);
          seq.count = offs;
        } else if (err < 0 || seq_has_overflowed(seq)) {
          seq.count = offs;
          if (offs === 0) {
            if (!err) err = neg('E2BIG');
            active = false;
            op.stop(seq, p);
            return err;
          }
          break;
        }
        if (can_resched) {
          /* cond_resched(): nothing observable in a single-threaded model */
        }
      }
    }
    // stop:
    offs = seq.count;
    if (IS_ERR(p)) {
      active = false;
      op.stop(seq, null);
      err = PTR_ERR(p as ErrPtr);
      return err;
    }
    /* bpf program called if !p */
    active = false;
    op.stop(seq, p);
    if (p === null) {
      if (!seq_has_overflowed(seq)) {
        bpf_iter_done_stop(seq);
      } else {
        seq.count = offs;
        if (offs === 0) {
          err = neg('E2BIG');
          return err;
        }
      }
    }

    const n = Math.min(seq.count, size);
    seq.copyStart = 0;
    copied = n;
    seq.count -= n;
    seq.from = n;
    return copied;
  } catch (e) {
    // Not a kernel path: a program threw. Roll back the current object.
    if (seq.count > offs || seq_has_overflowed(seq)) seq.count = offs;
    if (active) {
      active = false;
      try {
        // Never NULL here: that would make the target run the end call.
        op.stop(seq, IS_ERR_OR_NULL(p) ? ERR_PTR(neg('EINVAL')) : p);
      } catch {
        /* keep the original error */
      }
      if (seq.count > offs) seq.count = offs;
    }
    throw e;
  } finally {
    seq.locked = false;
  }
}
