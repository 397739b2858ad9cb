/**
 * The IDR behind pid numbers and BPF object ids: "smallest allocated id >= n"
 * (`find_ge_pid`, `idr_get_next`) and cyclic allocation (`idr_alloc_cyclic`,
 * pids wrapping to RESERVED_PIDS).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Idr, Kernel, PID_MAX_LIMIT, RESERVED_PIDS } from '@bpf-iter/core';

describe('Idr.nextId / findGe', () => {
  test('across 32-bit word boundaries and sparse ids', () => {
    const idr = new Idr<string>(1);
    for (const id of [1, 31, 32, 63, 64, 1000, 70000]) idr.set(id, `v${id}`);
    expect(idr.nextId(0)).toBe(1);
    expect(idr.nextId(2)).toBe(31);
    expect(idr.nextId(31)).toBe(31);
    expect(idr.nextId(32)).toBe(32);
    expect(idr.nextId(33)).toBe(63);
    expect(idr.nextId(64)).toBe(64);
    expect(idr.nextId(65)).toBe(1000);
    expect(idr.nextId(1001)).toBe(70000);
    expect(idr.nextId(70001)).toBe(-1);
    expect(idr.nextId(1 << 24)).toBe(-1);
    expect(idr.nextId(-5)).toBe(1);
    expect(idr.findGe(600)).toBe('v1000');
    expect(idr.findGe(70001)).toBeUndefined();
    idr.remove(31);
    idr.remove(32);
    expect(idr.nextId(2)).toBe(63);
    expect(idr.size).toBe(5);
    expect([...idr.entries()].map(([id]) => id)).toEqual([1, 63, 64, 1000, 70000]);
  });

  test('bit 31 of a word (sign bit) is found', () => {
    const idr = new Idr<number>(0);
    idr.set(95, 95); // word 2, bit 31
    expect(idr.nextId(64)).toBe(95);
    expect(idr.nextId(95)).toBe(95);
    expect(idr.nextId(96)).toBe(-1);
  });

  test('property: nextId agrees with a sorted set under random set/remove', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.boolean(), id: fc.integer({ min: 0, max: 300 }) }), { maxLength: 60 }),
        fc.array(fc.integer({ min: -2, max: 320 }), { minLength: 1, maxLength: 20 }),
        (ops, queries) => {
          const idr = new Idr<number>(0, 400);
          const ref = new Set<number>();
          for (const o of ops) {
            if (o.add && !ref.has(o.id)) {
              idr.set(o.id, o.id);
              ref.add(o.id);
            } else if (!o.add) {
              expect(idr.remove(o.id)).toBe(ref.has(o.id) ? o.id : undefined);
              ref.delete(o.id);
            }
          }
          expect(idr.size).toBe(ref.size);
          const sorted = [...ref].sort((a, b) => a - b);
          for (const q of queries) expect(idr.nextId(q)).toBe(sorted.find((x) => x >= q) ?? -1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Idr.alloc (cyclic)', () => {
  test('hands out ids after the last one, not the lowest free one', () => {
    const idr = new Idr<string>(1);
    expect([idr.alloc('a'), idr.alloc('b'), idr.alloc('c')]).toEqual([1, 2, 3]);
    idr.remove(2);
    expect(idr.alloc('d')).toBe(4);
    idr.set(10, 'x');
    expect(idr.alloc('e')).toBe(11);
  });

  test('wraps to `first` (or wrapTo) at max, skipping used ids; exhausted -> RangeError', () => {
    const idr = new Idr<number>(1, 6);
    for (let i = 1; i < 6; i++) expect(idr.alloc(i)).toBe(i);
    idr.remove(2);
    idr.remove(4);
    expect(idr.alloc(0)).toBe(2);
    expect(idr.alloc(0)).toBe(4);
    expect(() => idr.alloc(0)).toThrow(RangeError);
    expect(() => idr.set(6, 0)).toThrow(RangeError);
    expect(() => idr.set(3, 0)).toThrow(RangeError); // in use
  });

  test('pid allocation wraps to RESERVED_PIDS, never below it', () => {
    const max = RESERVED_PIDS + 20;
    const pids = new Idr<number>(1, max);
    for (let i = 0; i < max - 1; i++) pids.alloc(i, RESERVED_PIDS);
    expect(pids.size).toBe(max - 1);
    // Free a low pid and a reserved-range pid: only the one >= RESERVED_PIDS is reused.
    pids.remove(5);
    pids.remove(RESERVED_PIDS + 3);
    expect(pids.alloc(0, RESERVED_PIDS)).toBe(RESERVED_PIDS + 3);
    expect(() => pids.alloc(0, RESERVED_PIDS)).toThrow(RangeError);
    expect(pids.has(5)).toBe(false);
  });

  test('the kernel allocates pids cyclically: no reuse of an exited pid before the wrap', () => {
    const k = new Kernel();
    const a = k.createTask({ comm: 'a' });
    const b = k.createTask({ comm: 'b' });
    k.exit(b);
    const c = k.createTask({ comm: 'c' });
    expect([a.pid, c.pid]).toEqual([1, 3]);
    expect(k.initPidNs.pids.max).toBe(PID_MAX_LIMIT);
    // A namespace's pid table is a separate numbering from 1.
    const d = k.fork(a, { newPidNs: true });
    expect(d.pidNr(d.pidNs)).toBe(1);
    expect(d.pid).toBe(4);
  });
});
