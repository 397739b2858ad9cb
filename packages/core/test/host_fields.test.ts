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
import { bpfRecords, buildBpfPrograms, O_CLOEXEC, readHost, TCP_LISTEN, type Kernel } from '@bpf-iter/core';
import { readFileSync } from 'node:fs';
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

  it('task_file: f_flags equal the kernel file->f_flags (no O_CLOEXEC); close-on-exec is in the fd table', () => {
    const recs = bpfRecords('task_file').filter((r) => r.tgid !== process.pid && r.tgid === r.pid);
    const k = new Map(recs.map((r) => [`${r.tgid} ${r.fd}`, r.f_flags]));
    const s = new Map<string, number>();
    for (const p of host.processes.toArray()) {
      const fd = p.files?.fd ?? [];
      for (let i = 0; i < fd.length; i++) if (fd[i]) s.set(`${p.tgid} ${i}`, fd[i]!.f_flags);
    }
    const both = [...k.keys()].filter((key) => s.has(key));
    expect(both.length).toBeGreaterThan(5);
    // The kernel never keeps O_CLOEXEC in f_flags.
    expect(recs.filter((r) => r.f_flags & O_CLOEXEC)).toEqual([]);
    const differ = both.filter((key) => k.get(key) !== s.get(key)).map((key) => [key, k.get(key)!.toString(8), s.get(key)!.toString(8)]);
    expect(differ.length, JSON.stringify(differ.slice(0, 5))).toBeLessThanOrEqual(Math.max(1, both.length / 100));
    // The child: every fd exactly; python opens its files and sockets close-on-exec (PEP 446), not stdin/out/err.
    const cpid = fx.child.pid;
    const kc = bpfRecords('task_file', { pid: cpid }).map((r) => `${r.fd} ${r.f_flags}`);
    const files = host.task(cpid).files!;
    const sc = files.fd.flatMap((f, i) => (f ? [`${i} ${f.f_flags}`] : []));
    expect(sc).toEqual(kc);
    for (const o of [fx.child.tcp, fx.child.udp, fx.child.unix, fx.child.netlink, { fd: fx.child.fileFd }]) expect(files.close_on_exec.has(o.fd), `fd ${o.fd}`).toBe(true);
    for (const fd of [0, 1, 2]) expect(files.close_on_exec.has(fd)).toBe(false);
    // fdinfo's flags = f_flags | (close_on_exec ? O_CLOEXEC : 0), for every fd of the child.
    for (let fd = 0; fd < files.fd.length; fd++) {
      if (!files.fd[fd]) continue;
      const info = readFileSync(`/proc/${cpid}/fdinfo/${fd}`, 'utf8');
      const flags = parseInt(/^flags:\s*(\d+)/m.exec(info)![1]!, 8);
      expect(flags, `fd ${fd}`).toBe(files.fd[fd]!.f_flags | (files.close_on_exec.has(fd) ? O_CLOEXEC : 0));
    }
  });
});
