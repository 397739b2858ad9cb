import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BPF_SEQ_PRINTF,
  bpf_seq_write,
  bpf_iter_show,
  bpf_iter_get_info,
  bpf_iter_run_prog,
  ERR_PTR,
  isErrno,
  MAX_ITER_OBJECTS,
  SEQ_BUF_SIZE,
  type IterFd,
} from '../src/index.js';
import { drain, objs, rig } from './fixtures.js';

function errOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
  return undefined;
}

describe('bpf_seq_read (§2)', () => {
  it('constants: 32768-byte buffer, 1,000,000 objects per read', () => {
    expect(SEQ_BUF_SIZE).toBe(32768);
    expect(MAX_ITER_OBJECTS).toBe(1_000_000);
  });

  it('1-byte reads yield the same bytes as a 64 KiB read (anon-read-one-char)', () => {
    const r = rig(objs(4), (ctx) => {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, '%c', 'abcd'.charCodeAt(ctx.item.i));
      return 0;
    });
    expect(drain(r.open(), 1).toString()).toBe('abcd');
    expect(drain(r.open(), 65536).toString()).toBe('abcd');
  });

  it('property: any sequence of read sizes yields the same byte stream', () => {
    const items = objs(600);
    const r = rig(items, (ctx) => {
      const seq = ctx.meta.seq;
      if (!ctx.item) {
        BPF_SEQ_PRINTF(seq, 'END %llu\n', ctx.meta.seq_num);
        return 0;
      }
      const i = ctx.item.i;
      BPF_SEQ_PRINTF(seq, '%5d %s\n', i, 'x'.repeat((i * 37) % 400));
      return 0;
    });
    const expected = drain(r.open(), 65536);
    expect(expected.length).toBeGreaterThan(32768 * 2);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const fd = r.open();
        const parts: Buffer[] = [];
        let k = 0;
        for (;;) {
          const b = fd.read(sizes[k++ % sizes.length]!);
          if (b.length === 0) break;
          expect(b.length).toBeLessThanOrEqual(32767);
          parts.push(b);
        }
        fd.close();
        expect(Buffer.concat(parts).equals(expected)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a single read never returns more than 32767 bytes', () => {
    const r = rig(objs(100), (ctx) => {
      if (ctx.item) bpf_seq_write(ctx.meta.seq, 'y'.repeat(1000));
      return 0;
    });
    const fd = r.open();
    expect(fd.read(1 << 20).length).toBe(32000);
    expect(fd.read(1 << 20).length).toBe(32000);
    expect(fd.read(1 << 20).length).toBe(32000);
    expect(fd.read(1 << 20).length).toBe(4000);
    expect(fd.read(1 << 20).length).toBe(0);
  });

  it('32767 bytes from one object fit; 32768 → E2BIG on this and every later read', () => {
    const ok = rig([{ n: 32767 }], (ctx) => {
      if (ctx.item) expect(bpf_seq_write(ctx.meta.seq, new Uint8Array(ctx.item.n).fill(65))).toBe(0);
      return 0;
    });
    const fd = ok.open();
    expect(fd.read(1 << 20).length).toBe(32767);
    expect(fd.read(1 << 20).length).toBe(0);

    const rets: number[] = [];
    const bad = rig([{ n: 32768 }], (ctx) => {
      if (ctx.item) rets.push(bpf_seq_write(ctx.meta.seq, new Uint8Array(ctx.item.n)));
      return 0;
    });
    const fd2 = bad.open();
    expect(errOf(() => fd2.read(1 << 20))).toBe('E2BIG');
    expect(errOf(() => fd2.read(1 << 20))).toBe('E2BIG');
    expect(errOf(() => fd2.read(10))).toBe('E2BIG');
    expect(rets).toEqual([-75, -75, -75]);
  });

  it('32767 bytes then a 1-byte write in the same object: -EOVERFLOW and E2BIG', () => {
    const rets: number[] = [];
    const r = rig([{}], (ctx) => {
      if (!ctx.item) return 0;
      rets.push(bpf_seq_write(ctx.meta.seq, new Uint8Array(32767)));
      rets.push(bpf_seq_write(ctx.meta.seq, new Uint8Array(1)));
      rets.push(BPF_SEQ_PRINTF(ctx.meta.seq, 'x'));
      return 0;
    });
    expect(errOf(() => r.open().read(65536))).toBe('E2BIG');
    expect(rets).toEqual([0, -75, -75]);
  });

  it('two objects of 32760 bytes: 32760, 32760, 0; object 2 runs twice with the same seq_num (overflow)', () => {
    const runs: [number, bigint][] = [];
    const r = rig(objs(2), (ctx) => {
      if (!ctx.item) return 0;
      runs.push([ctx.item.i, ctx.meta.seq_num]);
      bpf_seq_write(ctx.meta.seq, new Uint8Array(32768 - 8));
      return 0;
    });
    const fd = r.open();
    expect(fd.read(1 << 20).length).toBe(32760);
    expect(fd.read(1 << 20).length).toBe(32760);
    expect(fd.read(1 << 20).length).toBe(0);
    expect(runs).toEqual([
      [0, 0n],
      [1, 1n],
      [1, 1n],
    ]);
  });

  it('program returns 1 on the first object: EAGAIN, then the same object with seq_num 0', () => {
    const seen: bigint[] = [];
    let first = true;
    const r = rig(objs(2), (ctx) => {
      if (!ctx.item) return 0;
      seen.push(ctx.meta.seq_num);
      BPF_SEQ_PRINTF(ctx.meta.seq, 'o%d;', ctx.item.i);
      if (first) {
        first = false;
        return 1;
      }
      return 0;
    });
    const fd = r.open();
    expect(errOf(() => fd.read(4096))).toBe('EAGAIN');
    expect(fd.read(4096).toString()).toBe('o0;o1;');
    expect(seen).toEqual([0n, 0n, 1n]);
  });

  it('program returns 1 on the second object on its first visit (prog-ret-1): 8 + 8 bytes', () => {
    const visits: [number, bigint][] = [];
    let retried = false;
    const r = rig(objs(2), (ctx) => {
      if (!ctx.item) return 0;
      visits.push([ctx.item.i, ctx.meta.seq_num]);
      bpf_seq_write(ctx.meta.seq, `map${ctx.item.i}....`);
      if (ctx.item.i === 1 && !retried) {
        retried = true;
        return 1;
      }
      return 0;
    });
    const fd = r.open();
    expect(fd.read(4096).toString()).toBe('map0....');
    expect(fd.read(4096).toString()).toBe('map1....');
    expect(fd.read(4096).length).toBe(0);
    expect(visits).toEqual([
      [0, 0n],
      [1, 1n],
      [1, 1n],
    ]);
  });

  it('a program that always returns 1 blocks the iterator (EAGAIN forever)', () => {
    const r = rig(objs(1), () => 1);
    const fd = r.open();
    for (let i = 0; i < 3; i++) expect(errOf(() => fd.read(100))).toBe('EAGAIN');
  });

  it('seq_num runs 0,1,2,… across read boundaries; end call sees N-1 and runs once', () => {
    const seen: (bigint | string)[] = [];
    const r = rig(objs(50), (ctx) => {
      seen.push(ctx.item ? ctx.meta.seq_num : `end:${ctx.meta.seq_num}`);
      BPF_SEQ_PRINTF(ctx.meta.seq, '%llu\n', ctx.meta.seq_num);
      return 0;
    });
    const fd = r.open();
    drain(fd, 7);
    const nums = seen.filter((x) => typeof x === 'bigint');
    // Objects shown when a read stops early are retried: dedupe consecutive repeats.
    const uniq = nums.filter((x, i) => i === 0 || x !== nums[i - 1]);
    expect(uniq).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
    expect(seen.filter((x) => typeof x === 'string')).toEqual(['end:49']);
  });

  it('EOF stays EOF and never reruns the program', () => {
    let runs = 0;
    const r = rig(objs(2), (ctx) => {
      runs++;
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, 'x');
      return 0;
    });
    const fd = r.open();
    expect(fd.read(100).toString()).toBe('xx');
    expect(runs).toBe(3);
    for (let i = 0; i < 5; i++) expect(fd.read(100).length).toBe(0);
    expect(runs).toBe(3);
  });

  it('zero objects: the end call sees seq_num 0 and runs exactly once', () => {
    const seen: bigint[] = [];
    const r = rig([], (ctx) => {
      expect(ctx.item).toBeNull();
      seen.push(ctx.meta.seq_num);
      return 0;
    });
    const fd = r.open();
    expect(fd.read(10).length).toBe(0);
    expect(fd.read(10).length).toBe(0);
    expect(seen).toEqual([0n]);
  });

  it('a header-token target (tcp-like) lowering meta.seq_num makes an empty end call see 2^64-1', () => {
    const seen: bigint[] = [];
    const r = rig([], (ctx) => {
      seen.push(ctx.meta.seq_num);
      return 0;
    });
    const ops = r.link.tinfo.reg.seq_info.seq_ops as { stop: (seq: never, v: unknown) => void };
    ops.stop = (seq: never, v: unknown) => {
      if (v !== null) return;
      const meta = { seq } as { seq: never; seq_num: bigint; session_id: bigint };
      const prog = bpf_iter_get_info(meta, true);
      if (!prog) return;
      meta.seq_num = BigInt.asUintN(64, meta.seq_num - 1n); // skip SEQ_START_TOKEN
      bpf_iter_run_prog(prog, { meta, item: null } as never);
    };
    const fd = r.open();
    expect(fd.read(10).length).toBe(0);
    expect(seen).toEqual([0xffffffffffffffffn]);
  });

  it('session ids: fresh per fd, increasing; shared by all runs of one fd', () => {
    const ids: bigint[] = [];
    const r = rig(objs(3), (ctx) => {
      ids.push(ctx.meta.session_id);
      return 0;
    });
    const a = r.open();
    const b = r.open();
    expect(b.session_id).toBeGreaterThan(a.session_id);
    expect(a.session_id).toBeGreaterThan(0n);
    drain(a, 1);
    expect(new Set(ids)).toEqual(new Set([a.session_id]));
    ids.length = 0;
    drain(b, 1);
    expect(new Set(ids)).toEqual(new Set([b.session_id]));
  });

  it('1,000,001 silent objects: EAGAIN, then 0 after the end call', () => {
    const items = objs(1_000_001);
    let endCalls = 0;
    const r = rig(items, (ctx) => {
      if (!ctx.item) endCalls++;
      return 0;
    });
    const fd = r.open();
    expect(errOf(() => fd.read(4096))).toBe('EAGAIN');
    expect(endCalls).toBe(0);
    expect(fd.read(4096).length).toBe(0);
    expect(endCalls).toBe(1);
  }, 120_000);

  it('1,000,000 objects shown per read at most: buffered output is returned, the rest follows', () => {
    const items = objs(1_000_003);
    const r = rig(items, (ctx) => {
      if (ctx.item && (ctx.item.i === 0 || ctx.item.i >= 1_000_000)) BPF_SEQ_PRINTF(ctx.meta.seq, '%d;', ctx.item.i);
      return 0;
    });
    const fd = r.open();
    expect(fd.read(4096).toString()).toBe('0;');
    expect(fd.read(4096).toString()).toBe('1000000;1000001;1000002;');
    expect(fd.read(4096).length).toBe(0);
  }, 120_000);

  it('lseek → ESPIPE, pread → ESPIPE, write → EBADF; a new fd re-iterates from the start', () => {
    const r = rig(objs(2), (ctx) => {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, '%d', ctx.item.i);
      return 0;
    });
    const fd = r.open();
    expect(fd.read(1).toString()).toBe('0');
    expect(errOf(() => fd.lseek(0, 0))).toBe('ESPIPE');
    expect(errOf(() => fd.pread(1, 0))).toBe('ESPIPE');
    expect(errOf(() => fd.write('x'))).toBe('EBADF');
    expect(drain(r.open(), 100).toString()).toBe('01');
  });

  it('read size: negative / non-integer → EINVAL; 0 runs one object, returns 0, keeps bytes buffered', () => {
    let runs = 0;
    const r = rig(objs(2), (ctx) => {
      runs++;
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, 'ab');
      return 0;
    });
    const fd = r.open();
    expect(errOf(() => fd.read(-1))).toBe('EINVAL');
    expect(errOf(() => fd.read(1.5))).toBe('EINVAL');
    expect(errOf(() => fd.read(Number.NaN))).toBe('EINVAL');
    expect(fd.read(0).length).toBe(0);
    expect(runs).toBe(1);
    expect(fd.read(100).toString()).toBe('ab'); // drain first
    expect(fd.read(100).toString()).toBe('ab');
  });

  it('closed fd: read → EBADF, close twice → EBADF; close runs fini_seq_private once', () => {
    const log: string[] = [];
    const r = rig(objs(1), () => 0, { log });
    const fd: IterFd = r.open();
    fd.close();
    expect(errOf(() => fd.read(10))).toBe('EBADF');
    expect(errOf(() => fd.close())).toBe('EBADF');
    expect(log.filter((x) => x === 'fini')).toEqual(['fini']);
  });

  it('target-level skip (show > 0): output discarded, seq_num reused by the next object', () => {
    const seen: [number, bigint][] = [];
    const r = rig(objs(4), (ctx) => {
      if (ctx.item) {
        seen.push([ctx.item.i, ctx.meta.seq_num]);
        BPF_SEQ_PRINTF(ctx.meta.seq, '%d', ctx.item.i);
      }
      return 0;
    }, {});
    // wrap show: skip odd items after running the program (SEQ_SKIP)
    const reg = (r.link.tinfo.reg.seq_info.seq_ops as { show: (s: never, v: { i: number }) => number });
    const orig = reg.show;
    reg.show = (s, v) => {
      const ret = orig(s, v);
      return v.i % 2 ? 1 : ret;
    };
    expect(drain(r.open(), 1000).toString()).toBe('02');
    expect(seen).toEqual([
      [0, 0n],
      [1, 1n],
      [2, 1n],
      [3, 2n],
    ]);
  });

  it('error pointer from start: stop is called, the read fails with that errno', () => {
    const log: string[] = [];
    const r = rig(objs(1), () => 0, { log });
    const ops = r.link.tinfo.reg.seq_info.seq_ops as { start: unknown };
    ops.start = () => ERR_PTR(-12);
    const fd = r.open();
    expect(errOf(() => fd.read(10))).toBe('ENOMEM');
    expect(log).toContain('stop(obj)');
  });

  it('error pointer from next: stop(NULL) (the end call runs, done_stop stays false), the error is returned, buffered bytes drained later', () => {
    const log: string[] = [];
    let endCalls = 0;
    const r = rig(objs(3), (ctx) => {
      if (!ctx.item) endCalls++;
      else BPF_SEQ_PRINTF(ctx.meta.seq, '%d', ctx.item.i);
      return 0;
    }, { log });
    const ops = r.link.tinfo.reg.seq_info.seq_ops as { next: (s: never, v: unknown, pos: { value: number }) => unknown };
    const orig = ops.next;
    ops.next = (s, v, pos) => (pos.value === 1 ? (pos.value++, ERR_PTR(-16)) : orig(s, v, pos));
    const fd = r.open();
    expect(errOf(() => fd.read(100))).toBe('EBUSY');
    expect(endCalls).toBe(1);
    expect(fd.read(100).toString()).toBe('01');
    // the cursor moved past the error; iteration continues and ends normally
    expect(fd.read(100).toString()).toBe('2');
    expect(endCalls).toBe(2);
    expect(fd.read(100).length).toBe(0);
    expect(endCalls).toBe(2);
  });

  it('a buggy next that does not advance pos is advanced by the engine', () => {
    const r = rig(objs(3), (ctx) => {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, '%d', ctx.item.i);
      return 0;
    });
    const ops = r.link.tinfo.reg.seq_info.seq_ops as unknown as { next: (s: { private: { items: unknown[] } }, v: unknown, pos: { value: number }) => unknown };
    ops.next = (s, _v, pos) => s.private.items[pos.value + 1] ?? null;
    expect(drain(r.open(), 100).toString()).toBe('012');
  });

  it('end call overflowing alone → E2BIG forever; after buffered objects → objects first, end call retried', () => {
    const big = rig([], (ctx) => {
      bpf_seq_write(ctx.meta.seq, new Uint8Array(40000));
      return 0;
    });
    const fd = big.open();
    expect(errOf(() => fd.read(100))).toBe('E2BIG');
    expect(errOf(() => fd.read(100))).toBe('E2BIG');

    let ends = 0;
    const r = rig(objs(1), (ctx) => {
      if (ctx.item) bpf_seq_write(ctx.meta.seq, new Uint8Array(20000).fill(1));
      else {
        ends++;
        bpf_seq_write(ctx.meta.seq, new Uint8Array(20000).fill(2));
      }
      return 0;
    });
    const fd2 = r.open();
    const a = fd2.read(1 << 20);
    expect(a.length).toBe(20000);
    expect(a[0]).toBe(1);
    const b = fd2.read(1 << 20);
    expect(b.length).toBe(20000);
    expect(b[0]).toBe(2);
    expect(fd2.read(1 << 20).length).toBe(0);
    expect(ends).toBe(2);
  });

  it('a program returning neither 0 nor 1 fails the read with EINVAL (verifier would reject); stop stays paired', () => {
    const log: string[] = [];
    const r = rig(objs(2), (ctx) => (ctx.item?.i === 1 ? 2 : 0), { log });
    const fd = r.open();
    const e = (() => {
      try {
        fd.read(100);
      } catch (x) {
        return x;
      }
    })();
    expect(isErrno(e, 'EINVAL')).toBe(true);
    expect(log.filter((x) => x.startsWith('start')).length).toBe(log.filter((x) => x.startsWith('stop')).length);
    const r2 = rig(objs(1), (() => undefined) as never);
    expect(errOf(() => r2.open().read(100))).toBe('EINVAL');
  });

  it('the ctx is read-only and the end call passes NULL', () => {
    let err: unknown;
    const r = rig(objs(1), (ctx) => {
      try {
        (ctx as { item: unknown }).item = 5;
      } catch (e) {
        err = e;
      }
      expect(() => {
        (ctx.meta as { seq_num: bigint }).seq_num = 9n;
      }).toThrow(TypeError);
      return 0;
    });
    drain(r.open(), 100);
    expect(err).toBeInstanceOf(TypeError);
  });

  it('bpf_iter_show returns 0 without running when the end call already ran', () => {
    let runs = 0;
    const r = rig([], () => {
      runs++;
      return 0;
    });
    const fd = r.open();
    fd.read(1);
    expect(bpf_iter_show(fd.seq, { item: null }, true)).toBe(0);
    expect(runs).toBe(1);
  });
});
