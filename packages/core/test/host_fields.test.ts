/**
 * The host model against the kernel's own view, field by field, for the
 * fields /proc can tell: the running kernel's BPF iterators (the bpf
 * source's programs, see bpf_fixture.ts) on objects present in both reads,
 * and the fixture's objects (a sleeping python child with an mmap'ed file
 * and sockets, this process's files) exactly.
 *
 * Skipped, with the reason in the suite title and a warning, where BPF is
 * impossible (not root, no BTF, no clang/bpftool/libbpf-dev, no bpffs).
 */
import { bpfRecords, buildBpfPrograms, readHost, TCP_LISTEN, type Kernel } from '@bpf-iter/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, startFixture, suiteTitle, type Fixture } from './bpf_fixture.js';

const avail = availability('host fields');

describe.skipIf(!avail.ok)(suiteTitle('host model vs the kernel: every field /proc can tell', avail), () => {
  let fx: Fixture;
  let host: Kernel;

  beforeAll(async () => {
    buildBpfPrograms();
    fx = await startFixture();
    host = readHost({ ksyms: false, slabs: false, routes: false });
  }, 120_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('unix: sk_state is the kernel TCP_* number (not /proc’s SS_*) on every socket seen by both', () => {
    const k = new Map(bpfRecords('unix').map((r) => [r.ino, r.state]));
    const s = new Map(host.sockets('unix').map((sk) => [sk.ino, sk.skc_state]));
    const both = [...k.keys()].filter((i) => s.has(i));
    expect(both.length).toBeGreaterThan(2);
    // A socket may connect or close between the reads: a handful at most.
    const differ = both.filter((i) => k.get(i) !== s.get(i)).map((i) => [i, k.get(i), s.get(i)]);
    expect(differ.length, JSON.stringify(differ.slice(0, 5))).toBeLessThanOrEqual(Math.max(1, both.length / 50));
    expect(k.get(fx.child.unix.ino)).toBe(TCP_LISTEN);
    expect(s.get(fx.child.unix.ino)).toBe(TCP_LISTEN);
  });
});
