import { describe, expect, it } from 'vitest';
import { BpfError, type Kernel } from '@bpf-iter/core';
import { EMPTY, filter, map, Observable, Subject, take, takeUntil, toArray, catchError, of, concatMap, throwError } from 'rxjs';
import {
  bindKernel,
  bpfForEach,
  bpfForEachAsync,
  iterBits,
  iterNum,
  iterStats,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RET_NULL,
  liveIterators,
  registerIterKind,
  withKernel,
} from '../src/index.js';
import { fromIter } from '../src/rx.js';
import { countingKind, uniqueType } from './helpers.js';

describe('contract: constructor', () => {
  it('invalid arguments: new returns -errno and leaves an empty iterator; the author is not asked for elements', () => {
    const { kind, calls } = countingKind();
    const it = kind.alloc();
    expect(kind.new(it, -1)).toBe(-22);
    expect(kind.next(it)).toBeNull();
    expect(kind.next(it)).toBeNull();
    expect(calls.nexts).toBe(0);
    expect(liveIterators(kind)).toBe(1);
    kind.destroy(it); // destroy is still required, exactly once
    expect(liveIterators(kind)).toBe(0);
    expect(() => kind.destroy(it)).toThrow(/expected an initialized iter_count_\d+ as arg #0/);
    // the author's destroy is for successfully constructed data only
    expect(calls.destroys).toBe(0);
  });

  it('the throwing variant (create/init) rethrows the BpfError and leaves nothing live', () => {
    const { kind } = countingKind();
    expect(() => kind.create(-5)).toThrow(new BpfError('EINVAL', 'negative count -5'));
    const it = kind.alloc();
    expect(() => kind.init(it, -5)).toThrow(BpfError);
    expect(it.live).toBe(false);
    expect(liveIterators(kind)).toBe(0);
  });

  it('a non-BpfError thrown by new is a bug: it propagates and nothing is constructed', () => {
    const type = uniqueType('boom');
    const st = `bpf_iter_${type}` as const;
    const kind = registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 8 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`], ret: 'int', impl: (): number => { throw new RangeError('bug'); } },
      next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'pointer', impl: () => null },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} },
    });
    expect(() => kind.open()).toThrow(RangeError);
    expect(() => [...bpfForEach(kind)]).toThrow(RangeError);
    expect(liveIterators(kind)).toBe(0);
  });
});

describe('contract: next', () => {
  it('keeps returning NULL once it returned NULL', () => {
    const { kind } = countingKind();
    const it = kind.open(2);
    expect([kind.next(it), kind.next(it), kind.next(it), kind.next(it), kind.next(it)]).toEqual(['e0', 'e1', null, null, null]);
    kind.destroy(it);
  });

  it('a third-party next that returns an element after NULL is reported (EPROTO), not followed', () => {
    const { kind } = countingKind({ bad: true });
    const it = kind.open(1);
    expect(kind.next(it)).toBe('e0');
    expect(kind.next(it)).toBeNull();
    let err: unknown;
    try {
      kind.next(it);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).errno).toBe('EPROTO');
    expect((err as BpfError).message).toMatch(/bpf_iter_count_\d+_next returned an element after returning NULL/);
    kind.destroy(it);
  });

  it('the css/dmabuf quirk can be declared: next after NULL restarts the walk', () => {
    const { kind } = countingKind({ restartsAfterNull: true });
    const it = kind.open(2);
    expect([kind.next(it), kind.next(it), kind.next(it), kind.next(it), kind.next(it)]).toEqual(['e0', 'e1', null, 'e0', 'e1']);
    kind.destroy(it);
    // bpf_for_each never calls next after NULL, so loops are unaffected
    expect([...bpfForEach(kind, 2)]).toEqual(['e0', 'e1']);
  });

  it('next returning undefined (instead of null) is reported', () => {
    const type = uniqueType('undef');
    const st = `bpf_iter_${type}` as const;
    const kind = registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 8 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`], ret: 'int', impl: () => ({}) },
      next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'pointer', impl: () => undefined as unknown as null },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} },
    });
    const it = kind.open();
    expect(() => kind.next(it)).toThrow(/returned undefined/);
    kind.destroy(it);
  });

  it("a state of one kind is rejected by another kind's next/destroy (verifier message)", () => {
    const num = iterNum.open(0, 3);
    expect(() => iterBits.next(num as never)).toThrow(new BpfError('EINVAL', 'expected an initialized iter_bits as arg #0'));
    expect(() => iterBits.destroy(num as never)).toThrow(/expected an initialized iter_bits as arg #0/);
    expect(() => iterBits.new(num as never, [1n])).toThrow(/expected uninitialized iter_bits as arg #0/);
    expect(iterNum.next(num)).toBe(0); // untouched
    iterNum.destroy(num);
  });

  it('the state is opaque: its internals cannot be read or altered', () => {
    const it = iterNum.open(0, 3);
    expect(Object.keys(it)).toEqual([]);
    expect(Object.getOwnPropertySymbols(it)).toEqual([]);
    expect(JSON.stringify(it)).toBe('{}');
    (it as unknown as Record<string, number>).cur = 99;
    (it as unknown as Record<string, number>).end = 100;
    expect([it.next(), it.next(), it.next(), it.next()]).toEqual([0, 1, 2, null]);
    it.destroy();
    // a copy or a proxy is not a state
    expect(() => iterNum.next({ ...it } as never)).toThrow(/expected pointer to an iterator on stack/);
    expect(() => iterNum.next(new Proxy(it, {}) as never)).toThrow(/expected pointer to an iterator on stack/);
    expect(() => new (Object.getPrototypeOf(it).constructor)({})).toThrow(TypeError);
  });
});

describe('contract: destroy exactly once', () => {
  it("destroy runs the author's destroy once; use after destroy and destroy twice are errors", () => {
    const { kind, calls } = countingKind();
    const it = kind.open(3);
    kind.next(it);
    kind.destroy(it);
    expect(calls.destroys).toBe(1);
    expect(() => kind.next(it)).toThrow(/expected an initialized iter_count_\d+ as arg #0/);
    expect(() => kind.destroy(it)).toThrow(/expected an initialized iter_count_\d+ as arg #0/);
    expect(calls.destroys).toBe(1);
  });

  it("a throwing author's destroy still leaves the state destroyed (no double destroy)", () => {
    const type = uniqueType('throwy');
    const st = `bpf_iter_${type}` as const;
    let destroys = 0;
    const kind = registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 8 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`], ret: 'int', impl: () => ({}) },
      next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'pointer', impl: () => null },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => { destroys++; throw new Error('free failed'); } },
    });
    const it = kind.open();
    expect(() => kind.destroy(it)).toThrow('free failed');
    expect(it.live).toBe(false);
    expect(liveIterators(kind)).toBe(0);
    expect(destroys).toBe(1);
  });

  it('Symbol.dispose destroys a live iterator once and is a no-op afterwards', () => {
    const { kind, calls } = countingKind();
    const it = kind.open(3);
    it[Symbol.dispose]();
    it[Symbol.dispose]();
    expect(calls.destroys).toBe(1);
    expect(liveIterators(kind)).toBe(0);
  });

  it('`using` destroys at scope exit, also when the block throws', () => {
    const { kind, calls } = countingKind();
    {
      using it = kind.open(3);
      expect(it.next()).toBe('e0');
    }
    expect(calls.destroys).toBe(1);
    expect(() => {
      using it = kind.open(3);
      it.next();
      throw new Error('body');
    }).toThrow('body');
    expect(calls.destroys).toBe(2);
    expect(liveIterators(kind)).toBe(0);
  });
});

describe('bpfForEach destroys exactly once on every exit path', () => {
  function setup() {
    const c = countingKind();
    return { ...c, stats: () => iterStats(c.kind) };
  }

  it('normal end', () => {
    const { kind, calls } = setup();
    expect([...bpfForEach(kind, 3)]).toEqual(['e0', 'e1', 'e2']);
    expect([calls.news, calls.destroys, liveIterators(kind)]).toEqual([1, 1, 0]);
    expect(calls.nexts).toBe(4); // next until the first NULL, never after it
  });

  it('break', () => {
    const { kind, calls } = setup();
    for (const v of bpfForEach(kind, 10)) if (v === 'e1') break;
    expect([calls.news, calls.destroys, calls.nexts, liveIterators(kind)]).toEqual([1, 1, 2, 0]);
  });

  it('return from the enclosing function', () => {
    const { kind, calls } = setup();
    const find = (): string | undefined => {
      for (const v of bpfForEach(kind, 10)) if (v === 'e2') return v;
      return undefined;
    };
    expect(find()).toBe('e2');
    expect([calls.destroys, liveIterators(kind)]).toEqual([1, 0]);
  });

  it('a throw in the loop body', () => {
    const { kind, calls } = setup();
    expect(() => {
      for (const v of bpfForEach(kind, 10)) if (v === 'e1') throw new Error('body');
    }).toThrow('body');
    expect([calls.destroys, liveIterators(kind)]).toEqual([1, 0]);
  });

  it('a throw from next itself (contract violation)', () => {
    const { kind } = countingKind({ bad: true });
    const loop = bpfForEach(kind, 1)[Symbol.iterator]();
    expect(loop.next()).toEqual({ done: false, value: 'e0' });
    expect(loop.next()).toEqual({ done: true, value: undefined });
    expect(loop.next()).toEqual({ done: true, value: undefined }); // destroyed; next not called again
    expect(liveIterators(kind)).toBe(0);
  });

  it('a failed constructor: zero iterations, still destroyed once', () => {
    const { kind, calls, stats } = setup();
    expect([...bpfForEach(kind, -1)]).toEqual([]);
    expect([calls.news, calls.nexts, liveIterators(kind)]).toEqual([1, 0, 0]);
    expect(stats()).toEqual({ constructed: 1, failed: 1, destroyed: 1, live: 0 });
  });

  it('each for...of constructs its own iterator; nested loops over one kind', () => {
    const { kind, calls } = setup();
    const loop = bpfForEach(kind, 2);
    const pairs: string[] = [];
    for (const a of loop) for (const b of loop) pairs.push(a + b);
    expect(pairs).toEqual(['e0e0', 'e0e1', 'e1e0', 'e1e1']);
    expect([calls.news, calls.destroys, liveIterators(kind)]).toEqual([3, 3, 0]);
  });

  it('destructuring and spreading (iterator return protocol)', () => {
    const { kind, calls } = setup();
    const [first, second] = bpfForEach(kind, 10);
    expect([first, second]).toEqual(['e0', 'e1']);
    expect([calls.destroys, liveIterators(kind)]).toEqual([1, 0]);
  });

  it('a loop that is never iterated constructs nothing', () => {
    const { kind, calls } = setup();
    bpfForEach(kind, 3);
    expect(calls.news).toBe(0);
  });
});

describe('bpfForEachAsync', () => {
  it('for await: normal end, break, throw', async () => {
    const { kind, calls } = countingKind();
    const out: string[] = [];
    for await (const v of bpfForEachAsync(kind, 3)) {
      await Promise.resolve();
      out.push(v);
    }
    expect(out).toEqual(['e0', 'e1', 'e2']);
    for await (const v of bpfForEachAsync(kind, 3)) if (v === 'e0') break;
    await expect(
      (async () => {
        for await (const _ of bpfForEachAsync(kind, 3)) throw new Error('async body');
      })(),
    ).rejects.toThrow('async body');
    expect([calls.news, calls.destroys, liveIterators(kind)]).toEqual([3, 3, 0]);
  });

  it('a BpfLoop is also async-iterable', async () => {
    const out: number[] = [];
    for await (const v of bpfForEach(iterNum, 0, 3)) out.push(v);
    expect(out).toEqual([0, 1, 2]);
  });
});

describe('fromIter (RxJS)', () => {
  it('is cold: each subscription constructs, completes and destroys its own iterator', () => {
    const { kind, calls } = countingKind();
    const obs = fromIter(kind, 3);
    expect(calls.news).toBe(0);
    const a: string[] = [];
    const b: string[] = [];
    let completed = 0;
    obs.subscribe({ next: (v) => a.push(v), complete: () => completed++ });
    obs.subscribe({ next: (v) => b.push(v), complete: () => completed++ });
    expect([a, b, completed]).toEqual([['e0', 'e1', 'e2'], ['e0', 'e1', 'e2'], 2]);
    expect([calls.news, calls.destroys, liveIterators(kind)]).toEqual([2, 2, 0]);
  });

  it('take(n) unsubscribes between elements: no extra next, destroyed once', () => {
    const { kind, calls } = countingKind();
    let out: string[] = [];
    fromIter(kind, 100).pipe(take(2), toArray()).subscribe((v) => (out = v));
    expect(out).toEqual(['e0', 'e1']);
    expect([calls.nexts, calls.destroys, liveIterators(kind)]).toEqual([2, 1, 0]);
  });

  it('works with filter and map', () => {
    let out: number[] = [];
    fromIter(iterNum, 0, 10).pipe(filter((v) => v % 2 === 1), map((v) => v * 10), toArray()).subscribe((v) => (out = v));
    expect(out).toEqual([10, 30, 50, 70, 90]);
    expect(liveIterators(iterNum)).toBe(0);
  });

  it('unsubscribe from inside the next handler stops emission and destroys', () => {
    const { kind, calls } = countingKind();
    const seen: string[] = [];
    const stop$ = new Subject<void>();
    fromIter(kind, 100)
      .pipe(takeUntil(stop$))
      .subscribe((v) => {
        seen.push(v);
        if (seen.length === 3) stop$.next(); // unsubscribes the source synchronously
      });
    expect(seen).toEqual(['e0', 'e1', 'e2']);
    expect(calls.nexts).toBe(3);
    expect([calls.destroys, liveIterators(kind)]).toEqual([1, 0]);
  });

  it('an error downstream (map throws) destroys once', () => {
    const { kind, calls } = countingKind();
    let error: unknown;
    fromIter(kind, 10)
      .pipe(map((v) => { if (v === 'e1') throw new Error('map'); return v; }))
      .subscribe({ error: (e) => (error = e) });
    expect((error as Error).message).toBe('map');
    expect([calls.nexts, calls.destroys, liveIterators(kind)]).toEqual([2, 1, 0]);
  });

  it('a contract violation in next becomes an error notification; destroyed once', () => {
    const { kind, calls } = countingKind({ bad: true });
    // Drive next after NULL through concatMap re-subscription is not possible; use a manual source
    const errs: unknown[] = [];
    new Observable<string>((sub) => {
      const it = kind.open(1);
      try {
        kind.next(it);
        kind.next(it);
        kind.next(it);
      } catch (e) {
        sub.error(e);
      } finally {
        kind.destroy(it);
      }
    }).subscribe({ error: (e) => errs.push(e) });
    expect((errs[0] as BpfError).errno).toBe('EPROTO');
    expect(calls.destroys).toBe(1);
  });

  it('a failed constructor completes empty and destroys', () => {
    const { kind, calls } = countingKind();
    let completed = false;
    const seen: string[] = [];
    fromIter(kind, -1).subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
    expect([seen, completed, calls.destroys, liveIterators(kind)]).toEqual([[], true, 0, 0]);
    expect(iterStats(kind)).toMatchObject({ constructed: 1, failed: 1, destroyed: 1 });
  });

  it('composes with concatMap/catchError without leaks', () => {
    let out: number[] = [];
    of(1, 2, 3)
      .pipe(
        concatMap((n) => (n === 2 ? throwError(() => new Error('x')) : fromIter(iterNum, 0, n))),
        catchError(() => EMPTY),
        toArray(),
      )
      .subscribe((v) => (out = v));
    expect(out).toEqual([0]);
    expect(liveIterators(iterNum)).toBe(0);
  });
});

describe('kernel selection', () => {
  function kernelKind() {
    const type = uniqueType('kern');
    const st = `bpf_iter_${type}` as const;
    return registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 8 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`], ret: 'int', impl: (ctx) => ({ k: ctx.kernel as unknown, done: false }) },
      next: {
        name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'pointer',
        impl: (d: { k: unknown; done: boolean }) => (d.done ? null : ((d.done = true), d.k)),
      },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} },
    });
  }
  const k1 = { name: 'k1' } as unknown as Kernel;
  const k2 = { name: 'k2' } as unknown as Kernel;

  it('ambient withKernel scope, explicit bindKernel view wins', () => {
    const kind = kernelKind();
    expect(withKernel(k1, () => [...bpfForEach(kind)])).toEqual([k1]);
    expect(withKernel(k1, () => [...bpfForEach(bindKernel(kind, k2))])).toEqual([k2]);
    let seen: unknown[] = [];
    withKernel(k2, () => fromIter(kind).pipe(toArray()).subscribe((v) => (seen = v)));
    expect(seen).toEqual([k2]);
  });

  it('a bound view shares states and counters with its kind', () => {
    const kind = kernelKind();
    const view = bindKernel(kind, k1);
    const it = view.open();
    expect(kind.next(it)).toBe(k1);
    kind.destroy(it);
    expect(iterStats(view)).toEqual(iterStats(kind));
  });

  it('kinds that need no kernel never touch it', () => {
    expect(withKernel(k1, () => [...bpfForEach(iterNum, 0, 2)])).toEqual([0, 1]);
  });
});
