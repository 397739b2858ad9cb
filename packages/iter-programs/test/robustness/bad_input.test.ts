/**
 * Robustness: fuzzed and hostile input. Every failure is a typed BpfError
 * (or, for helpers, a negative errno) with the kernel's errno (reference
 * §2, §3, §6), and leaves nothing half-done: the fd table, bpffs and the
 * outstanding reference count are as before.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { BpfError, ERRNO, Kernel, refStats } from '@bpf-iter/core';
import {
  attachIter,
  bpf_iter_reg_target,
  bpf_seq_printf,
  BPF_SEQ_PRINTF,
  bpffs,
  loadProgram,
  SEC,
  taskReg,
  type BpfProgFd,
  fdTable,
} from '../../src/internal.js';
import { objs, rig, unregister } from '../fixtures.js';
import { SEED } from './world.js';

const RUNS = 100;

/** The errno name of a thrown BpfError, or 'ok'; anything else is rethrown (a test failure). */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof BpfError) return e.errno;
    throw e;
  }
}

function stateOf(): string {
  return JSON.stringify({ fds: fdTable.list(), refs: refStats.outstanding, pins: JSON.stringify(bpffs.serialize()) });
}

// ------------------------------------------------------------------ printf

const ISSPACE = ' \t\n\v\f\r';
const isPunct = (c: string | undefined) => c !== undefined && /^[!-/:-@[-`{-~]$/.test(c);
const endsString = (c: string | undefined) => c === undefined || ISSPACE.includes(c) || isPunct(c);

/**
 * A reference validator written from §6.3 (`bpf_bprintf_prepare`): true
 * when `fmt` with `nargs` arguments is accepted. ASCII only (bytes >= 0x80
 * are version dependent).
 */
export function refValid(fmt: string, nargs: number): boolean {
  let used = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    const code = ch.charCodeAt(0);
    if (!(code >= 0x20 && code <= 0x7e) && !ISSPACE.includes(ch)) return false;
    if (ch !== '%') continue;
    if (fmt[i + 1] === '%') {
      i++;
      continue;
    }
    if (used >= nargs) return false;
    used++;
    i++;
    while (fmt[i] !== undefined && '0+- '.includes(fmt[i]!)) i++;
    if (fmt[i] !== undefined && fmt[i]! >= '1' && fmt[i]! <= '9') {
      i++;
      while (fmt[i] !== undefined && fmt[i]! >= '0' && fmt[i]! <= '9') i++;
    }
    const c = fmt[i];
    if (c === 'p') {
      const n = fmt[i + 1];
      if (n === undefined || ISSPACE.includes(n) || isPunct(n)) continue;
      if (n === 'K' || n === 'x' || n === 's' || n === 'S' || n === 'B') {
        i++;
        continue;
      }
      if ((n === 'k' || n === 'u') && fmt[i + 2] === 's') {
        i += 2;
        if (!endsString(fmt[i + 1])) return false;
        continue;
      }
      if ((n === 'i' || n === 'I') && (fmt[i + 2] === '4' || fmt[i + 2] === '6')) {
        i += 2;
        continue;
      }
      return false;
    }
    if (c === 'c') continue;
    if (c === 's') {
      if (!endsString(fmt[i + 1])) return false;
      continue;
    }
    if (c === 'l') {
      i++;
      if (fmt[i] === 'l') i++;
    }
    if (fmt[i] === undefined || !'diuxX'.includes(fmt[i]!)) return false;
  }
  return true;
}

const fmtChar = fc.constantFrom(...'%%%%dddiuxXlllcspkuiI46KSBx0+- 19.*#hza\x01\n\t%'.split(''), 'abc', ' ', '\n');
const fmtArb = fc.array(fmtChar, { maxLength: 14 }).map((a) => a.join(''));

describe('bpf_seq_printf fuzzing', () => {
  test(`formats from the format alphabet: 0 or a negative errno, matching a §6.3 validator (${RUNS * 5} cases)`, () => {
    let current: { fmt: string; args: bigint[] } = { fmt: '', args: [] };
    let ret: unknown = null;
    const r = rig(objs(1), (ctx) => {
      if (ctx.item) ret = bpf_seq_printf(ctx.meta.seq, current.fmt, current.args);
      return 0;
    });
    try {
      fc.assert(
        fc.property(fmtArb, fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 13 }), (fmt, args) => {
          current = { fmt, args };
          ret = null;
          const fd = r.open();
          try {
            fd.readAll();
          } finally {
            fd.close();
          }
          expect(typeof ret).toBe('number');
          const n = ret as number;
          expect(n === 0 || [-ERRNO.EINVAL, -ERRNO.ENOSPC, -ERRNO.EOVERFLOW].includes(n), `${JSON.stringify(fmt)} → ${n}`).toBe(true);
          // More than 12 arguments is -EINVAL (§6.2 rule 1) before the format is read.
          const expectOk = args.length <= 12 && refValid(fmt, args.length);
          expect(n === 0 || n === -ERRNO.ENOSPC, `${JSON.stringify(fmt)} with ${args.length} args → ${n}`).toBe(expectOk);
        }),
        { seed: SEED, numRuns: RUNS * 5 },
      );
    } finally {
      r.link.close();
      unregister(r.target);
    }
  });

  test('raw form: bad data_len, NULL data, missing NUL → -EINVAL, never a throw', () => {
    const seen: number[] = [];
    const r = rig(objs(1), (ctx) => {
      if (!ctx.item) return 0;
      const seq = ctx.meta.seq;
      seen.push(bpf_seq_printf(seq, '%d\n', 4, new BigUint64Array([1n]), 12));
      seen.push(bpf_seq_printf(seq, '%d\n', 4, new BigUint64Array(13), 104));
      seen.push(bpf_seq_printf(seq, '%d\n', 4, null, 8));
      seen.push(bpf_seq_printf(seq, new TextEncoder().encode('abc'), 3, null, 0));
      seen.push(bpf_seq_printf(seq, 'ok\n', 4, null, 0));
      return 0;
    });
    const fd = r.open();
    expect(fd.readAll().toString()).toBe('ok\n');
    fd.close();
    r.link.close();
    unregister(r.target);
    expect(seen).toEqual([-22, -22, -22, -22, 0]);
  });
});

// ------------------------------------------------------------------ link info

describe('link info fuzzing', () => {
  const allowed = new Set(['ok', 'EINVAL', 'E2BIG', 'EFAULT', 'EBADF', 'ENOENT', 'EACCES']);
  for (const target of ['task', 'task_file', 'task_vma', 'bpf_map_elem', 'cgroup', 'tcp']) {
    test(`${target}: random union bytes (0..64) and lengths → success or an allowed errno, nothing left behind (${RUNS} cases)`, () => {
      const k = new Kernel();
      const prog = loadProgram(
        SEC(`iter/${target}`, function fuzz(_ctx: any) {
          return 0;
        }),
        { kernel: k },
      );
      try {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.nat({ max: 80 })), fc.boolean(), (bytes, len, nullInfo) => {
            const before = stateOf();
            const refcnt = prog.refcnt;
            const opts = nullInfo ? { kernel: k, linkInfo: null, linkInfoLen: len ?? 0 } : { kernel: k, linkInfo: bytes, ...(len === null ? {} : { linkInfoLen: len }) };
            let link: ReturnType<typeof attachIter> | null = null;
            const o = outcome(() => (link = attachIter(prog, opts)));
            expect(allowed.has(o), `${target}: ${o}`).toBe(true);
            if (link) (link as { close(): void }).close();
            expect(prog.refcnt).toBe(refcnt);
            expect(stateOf()).toBe(before);
          }),
          { seed: SEED, numRuns: RUNS },
        );
      } finally {
        prog.put();
      }
    });
  }

  test('lengths past PAGE_SIZE → E2BIG; length beyond the bytes given → EFAULT; one of pointer/length zero → EINVAL', () => {
    const k = new Kernel();
    const prog = loadProgram(SEC('iter/task', function t(_ctx: any) { return 0; }), { kernel: k });
    expect(outcome(() => attachIter(prog, { kernel: k, linkInfo: new Uint8Array(8192), linkInfoLen: 8192 }))).toBe('E2BIG');
    expect(outcome(() => attachIter(prog, { kernel: k, linkInfo: new Uint8Array(8), linkInfoLen: 16 }))).toBe('EFAULT');
    expect(outcome(() => attachIter(prog, { kernel: k, linkInfo: new Uint8Array(16), linkInfoLen: 0 }))).toBe('EINVAL');
    expect(outcome(() => attachIter(prog, { kernel: k, linkInfo: null, linkInfoLen: 16 }))).toBe('EINVAL');
    expect(outcome(() => attachIter(prog, { kernel: k, linkInfo: new Uint8Array(24).fill(1, 16), linkInfoLen: 24 }))).toBe('E2BIG');
    prog.put();
  });
});

// ------------------------------------------------------------------ read sizes

describe('read sizes', () => {
  test('0 reads nothing; negative, NaN, fractional, Infinity, non-numbers → EINVAL; huge is clamped; the stream is unchanged by the failures', () => {
    const r = rig(objs(50), (ctx) => {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, 'object %d\n', ctx.item.i);
      return 0;
    });
    const expected = Array.from({ length: 50 }, (_, i) => `object ${i}\n`).join('');
    const fd = r.open();
    const got: Buffer[] = [];
    const bad = [-1, -65536, Number.NaN, 1.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '10' as unknown as number, undefined as unknown as number, null as unknown as number];
    for (let i = 0; ; i++) {
      for (const b of bad) if (b !== undefined) expect(outcome(() => fd.read(b))).toBe('EINVAL');
      expect(fd.read(0).length).toBe(0);
      const b = fd.read(i % 2 ? 7 : 2 ** 40);
      if (b.length === 0) break;
      got.push(b);
    }
    expect(Buffer.concat(got).toString()).toBe(expected);
    fd.close();
    expect(outcome(() => fd.read(1))).toBe('EBADF');
    expect(outcome(() => fd.close())).toBe('EBADF');
    r.link.close();
    unregister(r.target);
  });
});

// ------------------------------------------------------------------ programs

describe('programs that misbehave', () => {
  test('a program returning 2, -1, NaN, a string, undefined → EINVAL on read; the fd stays usable to close; nothing leaks', () => {
    for (const bad of [2, -1, Number.NaN, 'x', undefined, 0.5, 1n]) {
      const before = stateOf();
      const r = rig(objs(3), (ctx) => (ctx.item ? (bad as number) : 0));
      const fd = r.open();
      expect(outcome(() => fd.read(4096))).toBe('EINVAL');
      fd.close();
      r.link.close();
      unregister(r.target);
      expect(stateOf()).toBe(before);
    }
  });

  test('a program that throws: the read fails with a typed error or the thrown one, and closing releases everything', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'a', mm: k.newMm() });
    k.open(t, '/x');
    k.open(t, '/y');
    const before = stateOf();
    const prog = loadProgram(
      SEC('iter/task_file', function thrower(ctx: any) {
        if (ctx.fd === 1) throw new Error('boom');
        return 0;
      }),
      { kernel: k },
    );
    const link = attachIter(prog, { kernel: k });
    prog.put();
    const fd = link.open();
    expect(() => fd.read(4096)).toThrow();
    fd.close();
    link.close();
    expect(stateOf()).toBe(before);
  });

  test('a program returning 1 forever: every read EAGAIN, no progress, no leak (§2.4)', () => {
    const before = stateOf();
    const r = rig(objs(2), (ctx) => (ctx.item ? 1 : 0));
    const fd = r.open();
    for (let i = 0; i < 5; i++) expect(outcome(() => fd.read(64))).toBe('EAGAIN');
    fd.close();
    r.link.close();
    unregister(r.target);
    expect(stateOf()).toBe(before);
  });
});

// ------------------------------------------------------------------ registration, bpffs

describe('targets and pins', () => {
  test('registering a target twice → EEXIST, the first registration still works', () => {
    expect(outcome(() => bpf_iter_reg_target(taskReg))).toBe('EEXIST');
    const k = new Kernel();
    k.createTask({ comm: 'a' });
    const prog: BpfProgFd = loadProgram(SEC('iter/task', function t(ctx: any) { if (ctx.task) BPF_SEQ_PRINTF(ctx.meta.seq, '%d\n', ctx.task.pid); return 0; }), { kernel: k });
    const link = attachIter(prog, { kernel: k });
    prog.put();
    const fd = link.open();
    expect(fd.readAll().toString()).toBe('1\n');
    fd.close();
    link.close();
  });

  test('pins over existing paths → EEXIST; in missing directories → ENOENT; outside bpffs → EPERM/ENOENT; nothing half-done', () => {
    const k = new Kernel();
    const prog = loadProgram(SEC('iter/task', function t(_ctx: any) { return 0; }), { kernel: k });
    const link = attachIter(prog, { kernel: k });
    prog.put();
    const dir = `/sys/fs/bpf/robust_${process.pid}`;
    bpffs.mkdir(dir);
    bpffs.pin(link, `${dir}/a`);
    const before = stateOf();
    const refcnt = link.refcnt;
    expect(outcome(() => bpffs.pin(link, `${dir}/a`))).toBe('EEXIST');
    expect(outcome(() => bpffs.pin(link, `${dir}/missing/b`))).toBe('ENOENT');
    expect(outcome(() => bpffs.pin(link, `${dir}`))).toBe('EEXIST');
    expect(['EPERM', 'ENOENT']).toContain(outcome(() => bpffs.pin(link, '/tmp/not-bpffs')));
    expect(outcome(() => bpffs.pin(link, 'relative'))).toBe('EINVAL');
    expect(link.refcnt).toBe(refcnt);
    expect(stateOf()).toBe(before);
    bpffs.unlink(`${dir}/a`);
    bpffs.rmdir(dir);
    link.close();
  });
});
