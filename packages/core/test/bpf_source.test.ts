/**
 * The bpf source itself: `readBpf()` builds a model whose tasks, files and
 * VMAs match the host model for this process and a python child, with the
 * real f_op addresses. Skipped with the reason when BPF is not possible here.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BPF_SOURCE_TARGETS, BpfError, bpfAvailable, parseBpfRecords, readBpf, readBpfWithReport, readHost, S_IFMT, S_IFSOCK, verifierReason, type BpfReport, type Kernel } from '@bpf-iter/core';
import { bpfTargetVariant } from '@bpf-iter/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, startFixture, suiteTitle, type Fixture } from './bpf_fixture.js';

const avail = availability('bpf source');

/** The inode column of /proc/net/netlink. */
const procNetlinkInodes = (): number[] =>
  readFileSync('/proc/net/netlink', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[9]));

describe('bpf source without the kernel', () => {
  it('parseBpfRecords rejects a partial record with EPROTO', () => {
    expect(() => parseBpfRecords('task', Buffer.alloc(71))).toThrow(BpfError);
    expect(parseBpfRecords('bpf_link', Buffer.alloc(32))).toHaveLength(2);
  });
  it('verifierReason names the verifier line before "processed N insns", else the last libbpf line', () => {
    const log = [
      '; if (bpf_d_path(&f->f_path, r->path, sizeof(r->path)) < 0) @ task_vma.bpf.c:56',
      '133: (85) call bpf_d_path#147',
      'R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_',
      'processed 181 insns (limit 1000000) max_states_per_insn 0 total_states 12 peak_states 12 mark_read 0',
      '-- END PROG LOAD LOG --',
      "libbpf: prog 'dump_task_vma': failed to load: -13",
      'Error: can\'t load objfile x.bpf.o',
    ].join('\n');
    expect(verifierReason(log)).toBe('R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_');
    expect(verifierReason("libbpf: failed to find BTF for extern 'x'\nError: failed to open object file")).toBe("libbpf: failed to find BTF for extern 'x'");
  });
  it('bpfAvailable answers with an errno name and a reason, or ok', () => {
    const a = bpfAvailable();
    if (!a.ok) expect(a.reason.length).toBeGreaterThan(5);
    else expect(a).toEqual({ ok: true });
  });
});

describe.skipIf(!avail.ok)(suiteTitle('bpf source: readBpf over the running kernel', avail), () => {
  let fx: Fixture;
  let bpf: Kernel;
  let host: Kernel;
  let report: BpfReport;
  /** Inodes of /proc/net/netlink read just before the model (sockets of other processes come and go). */
  let netlinkBefore: number[];
  let slabinfoBefore: string;

  beforeAll(async () => {
    fx = await startFixture();
    netlinkBefore = procNetlinkInodes();
    slabinfoBefore = readFileSync('/proc/slabinfo', 'utf8');
    const r = readBpfWithReport();
    bpf = r.kernel;
    report = r.report;
    console.log(`readBpf: ${JSON.stringify(r.report.timings)}; counts ${JSON.stringify(r.report.counts)}; variants ${JSON.stringify(r.report.variants)}; vmaPaths ${JSON.stringify(r.report.vmaPaths)}`);
    host = readHost();
  }, 120_000);
  afterAll(async () => fx?.stop());

  it('reads every target it lists (none skipped, each with objects) and marks itself as source bpf', () => {
    expect(report.skipped).toEqual([]);
    for (const t of BPF_SOURCE_TARGETS) expect(report.counts[t], t).toBeGreaterThan(0);
    expect(bpf.source).toBe('bpf');
    // A variant program that loaded instead of the default is reported, and only for a target that has variants.
    for (const v of report.variants) expect([v.target, bpfTargetVariant(v.target)]).toEqual([v.target, v.variant]);
    // The child's file mappings are named (by d_path, or from /proc/PID/maps for the no_d_path variant).
    expect(bpf.task(fx.child.pid).mm!.vmas().filter((v) => v.vm_file && !v.vm_file.path)).toEqual([]);
  });

  it('tasks whose parent the task iterator cannot show keep its pid; states are the letters /proc prints', () => {
    for (const t of host.processes.values()) {
      const b = bpf.findTask(t.pid);
      if (!b || t.pid === 1 || t.real_parent?.pid !== 1) continue;
      // The same process in both reads, not a pid reused in between (/proc's start time counts 10 ms ticks).
      if (Math.abs(b.start_time - t.start_time) >= 10_000_000) continue;
      expect(b.real_parent?.pid, `ppid of ${t.pid}`).toBe(1);
    }
    const h = host.task(fx.child.pid);
    expect(bpf.task(fx.child.pid).state).toBe(h.state);
  });

  it('a zombie is Z in both sources, as /proc prints it (EXIT_ZOMBIE 0x20, not EXIT_DEAD 0x10)', async () => {
    // A parent that never waits for its exited child.
    const p = spawn('python3', ['-c', 'import os,sys,time\npid=os.fork()\nif pid==0: os._exit(0)\nprint(pid,flush=True); sys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const zpid = Number(await new Promise<string>((r) => p.stdout!.once('data', (d: Buffer) => r(d.toString()))));
      const statOf = (): string => readFileSync(`/proc/${zpid}/stat`, 'utf8');
      for (let i = 0; i < 100 && !/\) Z /.test(statOf()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(statOf()).toMatch(/\) Z /);
      const opts = { files: false, vmas: false, sockets: false, routes: false, ksyms: false, bpfObjects: false, cgroups: false, slabs: false };
      expect(readBpf(opts).task(zpid).state).toBe('Z');
      expect(readHost({ pids: [p.pid!, zpid], files: false, vmas: false, sockets: false, routes: false, ksyms: false, slabs: false, cgroups: false }).task(zpid).state).toBe('Z');
    } finally {
      p.kill();
    }
  });

  it('netlink sockets carry the inode /proc/net/netlink prints, kernel sockets (no file) included', () => {
    // The sockets that were there before the model was read and still are after: the model has every one.
    const after = new Set(procNetlinkInodes());
    const stable = netlinkBefore.filter((i) => after.has(i));
    const ours = new Set(bpf.sockets('netlink').map((s) => s.ino));
    expect(stable).toContain(fx.child.netlink.ino);
    expect(stable.filter((i) => !ours.has(i))).toEqual([]);
    expect(ours.has(0)).toBe(false);
  });

  it('kmem_cache: every cache of /proc/slabinfo with its sizes and slab geometry', () => {
    // Caches there before the model was read and still there now (some come and go with their users).
    const names = (t: string): Set<string> => new Set(t.trim().split('\n').slice(2).map((l) => l.split(/\s+/)[0]!));
    const now = readFileSync('/proc/slabinfo', 'utf8');
    const first = names(slabinfoBefore);
    const rows = now.trim().split('\n').slice(2).map((l) => l.split(/\s+/)).filter((r) => first.has(r[0]!));
    expect(rows.length).toBeGreaterThan(10);
    const byName = new Map(bpf.kmemCaches.toArray().map((c) => [c.name, c]));
    for (const r of rows) {
      const c = byName.get(r[0]!);
      expect(c && [c.size, c.objs_per_slab, c.pages_per_slab], r[0]).toEqual([Number(r[3]), Number(r[4]), Number(r[5])]);
    }
  });

  it('the child: task, fds (fd -> inode) and VMAs as in the host model', () => {
    const pid = fx.child.pid;
    const b = bpf.task(pid);
    const h = host.task(pid);
    expect([b.tgid, b.comm, b.real_parent?.pid]).toEqual([h.tgid, h.comm, h.real_parent?.pid]);
    const fds = (k: Kernel): [number, number][] =>
      k.task(pid).files!.fd.flatMap((f, fd) => (f ? [[fd, f.f_inode.i_ino] as [number, number]] : []));
    expect(fds(bpf)).toEqual(fds(host));
    // VMAs: bounds and inodes; pgoff of file mappings (anonymous ones keep the page number in the kernel).
    const vmas = (k: Kernel): string[] =>
      k.task(pid).mm!.vmas().filter((v) => v.vm_start < 2 ** 63).map((v) => `${v.vm_start} ${v.vm_end} ${v.vm_file ? v.vm_pgoff : 0} ${v.vm_file?.f_inode.i_ino ?? 0} ${v.name ?? ''}`);
    expect(vmas(bpf)).toEqual(vmas(host).map((l) => (l.endsWith(' [vvar]') || l.endsWith(' [vvar_vclock]') ? l.slice(0, l.lastIndexOf(' ') + 1) : l)));
    const m = bpf.task(pid).mm!.vmas().find((v) => v.vm_file?.f_inode.i_ino === fx.child.mapped.ino);
    expect(m && [m.vm_end - m.vm_start, m.vm_pgoff, m.vm_file!.path]).toEqual([fx.child.mapped.length, 1, fx.child.mapped.path]);
  });

  it('this process: every thread of the host model, the temp files at their fds with their paths', () => {
    const tids = (k: Kernel): number[] => k.task(process.pid).signal.threads.toArray().map((t) => t.pid);
    for (const tid of tids(host)) expect(tids(bpf)).toContain(tid);
    for (const f of fx.self.files) {
      const file = bpf.task(process.pid).files!.fd[f.fd]!;
      expect([file.f_inode.i_ino, file.path]).toEqual([f.ino, f.path]);
      expect(file.f_op.synthetic).toBe(false);
    }
  });

  it('real f_op addresses: every socket fd shares one address (socket_file_ops when kallsyms lists it)', () => {
    const sockFops = new Set<bigint>();
    let sockets = 0;
    for (const pid of [process.pid, fx.child.pid])
      for (const f of bpf.task(pid).files!.fd) {
        if (!f || (f.f_inode.i_mode & S_IFMT) !== S_IFSOCK) continue;
        sockets++;
        sockFops.add(f.f_op.addr);
        expect(f.f_op.synthetic).toBe(false);
        expect(f.path).toBe(`socket:[${f.f_inode.i_ino}]`);
      }
    expect(sockets).toBeGreaterThanOrEqual(4);
    expect(sockFops.size).toBe(1);
    const addr = [...sockFops][0]!;
    // Regular files on one filesystem share their table too, and it differs from the sockets'.
    const regular = fx.self.files.map((f) => bpf.task(process.pid).files!.fd[f.fd]!.f_op);
    expect(regular[0]).toBe(regular[1]);
    expect(regular[0]!.addr).not.toBe(addr);
    const kallsyms = readFileSync('/proc/kallsyms', 'utf8');
    const line = /^([0-9a-f]+) \w socket_file_ops$/m.exec(kallsyms);
    if (line) {
      expect(addr).toBe(BigInt('0x' + line[1]));
      expect(bpf.allFops().find((f) => f.addr === addr)!.name).toBe('socket_file_ops');
    } else {
      // No CONFIG_KALLSYMS_ALL: the name comes from the inode kind, the address is still the kernel's.
      console.warn('bpf source: /proc/kallsyms has no socket_file_ops (no CONFIG_KALLSYMS_ALL); checked consistency only');
      expect(bpf.allFops().find((f) => f.addr === addr)!.name).toBe('socket_file_ops');
    }
    expect(addr >= 0xffff800000000000n).toBe(true);
  });

  it('sockets of the fixture are hashed and attached to their files', () => {
    const sk = bpf.sockets('tcp').find((s) => s.ino === fx.child.tcp.ino);
    expect(sk && [sk.skc_num, sk.skc_state]).toEqual([fx.child.tcp.port, 10]);
    const file = bpf.task(fx.child.pid).files!.fd[fx.child.tcp.fd]!;
    expect(file.private_data).toBe(sk);
    expect(bpf.sockets('netlink').some((s) => s.ino === fx.child.netlink.ino)).toBe(true);
  });
});
