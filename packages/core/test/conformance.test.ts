/**
 * Conformance: the kernel's own iterators (real BPF programs, see
 * packages/core/bpf) against the SDK's iterators over the host model
 * (`readHost()` + `@bpf-iter/iter-programs`), target by target, on stable
 * fields. The system moves between the two reads, so only objects present
 * in both are compared; the fixture's objects (a sleeping python child with
 * an mmap'ed file and sockets, this process's temp files, sockets and
 * worker thread) must be present on both sides and equal.
 *
 * Fields left out, and why:
 * - PID 1: invisible to BPF task iterators on this kind of machine, and
 *   /proc/1 refuses access.
 * - f_op: synthetic in the /proc model when kallsyms has no data symbols
 *   (no CONFIG_KALLSYMS_ALL); only its consistency is compared.
 * - this process's own fds other than the fixture's: each read opens its
 *   own (the bpffs pin being read, the /proc directories being listed).
 * - this process's VMAs: the V8 heap maps and unmaps between reads; the
 *   child's are compared exactly instead.
 * - anonymous VMAs' pgoff: the kernel keeps the virtual page number there,
 *   /proc/PID/maps prints 0 for mappings without a file: pgoff compared for
 *   file mappings only.
 * - [vsyscall]: /proc/PID/maps appends the gate VMA, which is not in the mm:
 *   the host model leaves it out, as the kernel's task_vma does.
 * - ipv6_route flags: /proc/net/ipv6_route ORs RTF_GATEWAY into fib6_flags
 *   for routes with a gateway; the kernel object has it clear.
 * - bpf_map/prog/link: /proc has no BPF object tables, so the host model has
 *   none; the kernel's ids are compared with `bpftool ... show --json` and
 *   the SDK's iterators run over the bpf model instead.
 *
 * Skipped, with the reason in the suite title and a warning, when the host
 * cannot load BPF (not root, no BTF, no clang/bpftool/libbpf-dev, no bpffs).
 */
import { execFileSync } from 'node:child_process';
import { AF_INET, bpfRecords, buildBpfPrograms, readBpf, readHost, type BpfInetRec, type BpfTaskVmaRec, type Kernel, VMA_KIND } from '@bpf-iter/core';
import { bpf_seq_write } from '@bpf-iter/iter-programs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, sdkLines, startFixture, suiteTitle, timed, type Fixture } from './bpf_fixture.js';

const avail = availability('conformance');
const RTF_GATEWAY = 0x2;

/** Keys present in both maps, and the entries whose values differ. */
function common<V>(a: Map<string, V>, b: Map<string, V>): { both: string[]; differ: [string, V, V][] } {
  const both = [...a.keys()].filter((k) => b.has(k));
  const differ: [string, V, V][] = [];
  for (const k of both) if (JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))) differ.push([k, a.get(k)!, b.get(k)!]);
  return { both, differ };
}

describe.skipIf(!avail.ok)(suiteTitle('conformance: kernel iterators vs SDK iterators over the host model', avail), () => {
  let fx: Fixture;
  let host: Kernel;
  const speed: string[] = [];

  beforeAll(async () => {
    buildBpfPrograms(); // on demand, cached in packages/core/bpf/.build
    fx = await startFixture();
    host = readHost();
  }, 120_000);

  afterAll(async () => {
    if (speed.length) console.log(`conformance read speed (kernel BPF iterator vs SDK over the host model):\n  ${speed.join('\n  ')}`);
    await fx?.stop();
  });

  it('task: the fixture threads on both sides with their tgid and comm, in ascending thread id (PID 1 never)', () => {
    const [recs, kMs] = timed(() => bpfRecords('task'));
    const [lines, sMs] = timed(() => sdkLines(host, 'iter/task', (ctx) => (ctx.task ? bpf_seq_write(ctx.meta.seq, `${ctx.task.tgid} ${ctx.task.pid} ${ctx.task.comm}\n`) && 0 : 0)));
    speed.push(`task: kernel ${kMs.toFixed(1)} ms (${recs.length} threads), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    const k = new Map(recs.filter((r) => r.pid !== 1).map((r) => [String(r.pid), `${r.tgid} ${r.comm}`]));
    const s = new Map(
      lines
        .map((l) => l.split(' '))
        .filter((p) => p[1] !== '1')
        .map((p) => [p[1]!, `${p[0]} ${p.slice(2).join(' ')}`]),
    );
    // Every field of every stable thread: conformance_fields.test.ts. Here: the fixture's threads.
    // The kernel walks threads in ascending thread id.
    const kp = recs.map((r) => r.pid);
    expect(kp).toEqual([...kp].sort((a, b) => a - b));
    // Fixture: the child and every thread of this process the host saw (worker included).
    expect(k.get(String(fx.child.pid))).toBe(s.get(String(fx.child.pid)));
    const mine = host.task(process.pid).signal.threads.toArray().map((t) => String(t.pid));
    expect(mine.length).toBeGreaterThan(2);
    for (const tid of mine) expect(k.get(tid), `thread ${tid}`).toBe(s.get(tid));
    expect(k.has('1')).toBe(false);
  });

  it('task_file: the fixture files exactly, with and without the pid parameter', () => {
    const [recs, kMs] = timed(() => bpfRecords('task_file'));
    const [lines, sMs] = timed(() =>
      sdkLines(host, 'iter/task_file', (ctx) => (ctx.file ? bpf_seq_write(ctx.meta.seq, `${ctx.task.tgid} ${ctx.task.pid} ${ctx.fd} ${ctx.file.f_inode.i_ino}\n`) && 0 : 0)),
    );
    speed.push(`task_file: kernel ${kMs.toFixed(1)} ms (${recs.length} files), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    // Child: every fd, exactly, on both sides (pid link parameter: libbpf in-process vs SDK linkInfo).
    const kc = bpfRecords('task_file', { pid: fx.child.pid }).map((r) => `${r.tgid} ${r.pid} ${r.fd} ${r.ino}`);
    const sc = sdkLines(host, 'iter/task_file', (ctx) => (ctx.file ? bpf_seq_write(ctx.meta.seq, `${ctx.task.tgid} ${ctx.task.pid} ${ctx.fd} ${ctx.file.f_inode.i_ino}\n`) && 0 : 0), {
      task: { pid: fx.child.pid },
    });
    expect(kc).toEqual(sc);
    for (const o of [fx.child.tcp, fx.child.udp, fx.child.unix, fx.child.netlink]) expect(kc).toContain(`${fx.child.pid} ${fx.child.pid} ${o.fd} ${o.ino}`);
    expect(kc).toContain(`${fx.child.pid} ${fx.child.pid} ${fx.child.fileFd} ${fx.child.mapped.ino}`);
    // This process: its temp files at their fds (its other fds move with every read).
    const ks = recs.filter((r) => r.tgid === process.pid);
    for (const f of fx.self.files) {
      expect(ks.find((r) => r.fd === f.fd)?.ino).toBe(f.ino);
      expect(host.task(process.pid).files!.fd[f.fd]?.f_inode.i_ino).toBe(f.ino);
    }
  });

  it('task_vma: tgid, start, end, pgoff, inode of the child exactly, with and without the pid parameter', () => {
    const vmaLine = (ctx: any): number =>
      ctx.vma
        ? bpf_seq_write(ctx.meta.seq, `${ctx.task.tgid} ${ctx.vma.vm_start} ${ctx.vma.vm_end} ${ctx.vma.vm_file ? ctx.vma.vm_pgoff : 0} ${ctx.vma.vm_file?.f_inode.i_ino ?? 0}\n`) && 0
        : 0;
    const [recs, kMs] = timed(() => bpfRecords('task_vma'));
    const [lines, sMs] = timed(() => sdkLines(host, 'iter/task_vma', vmaLine));
    speed.push(`task_vma: kernel ${kMs.toFixed(1)} ms (${recs.length} VMAs), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    const line = (r: BpfTaskVmaRec): string => `${r.tgid} ${r.start} ${r.end} ${r.kind === VMA_KIND.file ? r.pgoff : 0} ${r.ino}`;
    const cpid = fx.child.pid;
    const kChild = recs.filter((r) => r.tgid === cpid).map(line);
    const sChild = lines.filter((l) => l.startsWith(`${cpid} `));
    expect(kChild.length).toBeGreaterThan(5);
    expect(kChild).toEqual(sChild);
    const kParam = bpfRecords('task_vma', { pid: cpid }).map(line);
    const sParam = sdkLines(host, 'iter/task_vma', vmaLine, { task: { pid: cpid } });
    expect(kParam).toEqual(kChild);
    expect(sParam).toEqual(kParam);
    // The mmap'ed file: offset 1 page, 2 pages long, the file's inode.
    const m = fx.child.mapped;
    expect(kParam.some((l) => l.split(' ')[3] === String(m.pgoff) && l.endsWith(` ${m.ino}`) && (() => {
      const [, a, b] = l.split(' ').map(Number);
      return b! - a! === m.length;
    })())).toBe(true);
    // System-wide, every field of every stable VMA: conformance_fields.test.ts.
  });

  const inetLine = (sk: any): string => `${sk.ino} ${sk.skc_family} ${sk.skc_num} ${sk.dport} ${sk.skc_state}`;
  const recLine = (r: BpfInetRec): string => `${r.ino} ${r.family} ${r.sport} ${r.dport} ${r.state}`;

  for (const proto of ['tcp', 'udp'] as const) {
    it(`${proto}: inode, family, ports, state agree on sockets seen by both; the fixture's present`, () => {
      const field = proto === 'tcp' ? 'sk_common' : 'udp_sk';
      const [recs, kMs] = timed(() => bpfRecords(proto));
      const [lines, sMs] = timed(() => sdkLines(host, `iter/${proto}`, (ctx) => (ctx[field] ? bpf_seq_write(ctx.meta.seq, inetLine(ctx[field]) + '\n') && 0 : 0)));
      speed.push(`${proto}: kernel ${kMs.toFixed(1)} ms (${recs.length}), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
      const kl = recs.map(recLine);
      // Sockets with an inode are keyed by it; TIME_WAIT/request minisockets (inode 0) by ports.
      const k = new Map(kl.map((l) => [l.startsWith('0 ') ? l : l.split(' ')[0]!, l]));
      const s = new Map(lines.map((l) => [l.startsWith('0 ') ? l : l.split(' ')[0]!, l]));
      const { differ } = common(k, s);
      expect(differ).toEqual([]);
      const c = proto === 'tcp' ? fx.child.tcp : fx.child.udp;
      const want = `${c.ino} ${AF_INET} ${c.port} 0 ${proto === 'tcp' ? 10 : 7}`;
      expect(kl).toContain(want);
      expect(lines).toContain(want);
      const port = proto === 'tcp' ? fx.self.tcpPort : fx.self.udpPort;
      const mine = (l: string): boolean => l.split(' ')[2] === String(port);
      expect(kl.filter(mine)).toEqual(lines.filter(mine));
      expect(kl.filter(mine)).toHaveLength(1);
    });
  }

  it('unix: inode, type, sk_state agree; the child and this process listeners present', () => {
    const [recs, kMs] = timed(() => bpfRecords('unix'));
    const [lines, sMs] = timed(() => sdkLines(host, 'iter/unix', (ctx) => (ctx.unix_sk ? bpf_seq_write(ctx.meta.seq, `${ctx.unix_sk.ino} ${ctx.unix_sk.sk_type} ${ctx.unix_sk.skc_state}\n`) && 0 : 0)));
    speed.push(`unix: kernel ${kMs.toFixed(1)} ms (${recs.length}), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    // Type and sk_state (TCP_* numbers on both sides: the host source maps /proc's Flags and St back) by inode.
    const k = new Map(recs.map((r) => [String(r.ino), `${r.type} ${r.state}`]));
    const s = new Map(lines.map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]));
    const { both, differ } = common(k, s);
    expect(differ).toEqual([]);
    expect(both).toContain(String(fx.child.unix.ino));
    const selfIno = host.task(process.pid).files!.fd.filter((f) => f && f.path.startsWith('socket:')).map((f) => String(f!.f_inode.i_ino));
    expect(selfIno.some((i) => k.has(i) && s.has(i))).toBe(true);
  });

  it('netlink: inode, protocol, portid agree; the child socket present', () => {
    const [recs, kMs] = timed(() => bpfRecords('netlink'));
    const [lines, sMs] = timed(() =>
      sdkLines(host, 'iter/netlink', (ctx) => (ctx.sk ? bpf_seq_write(ctx.meta.seq, `${ctx.sk.ino} ${ctx.sk.sk_protocol} ${ctx.sk.netlink?.portid}\n`) && 0 : 0)),
    );
    speed.push(`netlink: kernel ${kMs.toFixed(1)} ms (${recs.length}), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    const k = new Map(recs.map((r) => [String(r.ino), `${r.ino} ${r.protocol} ${r.portid}`]));
    const s = new Map(lines.map((l) => [l.split(' ')[0]!, l]));
    const { both, differ } = common(k, s);
    expect(differ).toEqual([]);
    expect(both).toContain(String(fx.child.netlink.ino));
    expect(k.get(String(fx.child.netlink.ino))).toBe(`${fx.child.netlink.ino} 0 ${fx.child.netlink.portid}`);
  });

  it('ipv6_route: every route (dst/len, src/len, metric, dev; flags without RTF_GATEWAY) in the same order', () => {
    const hex = (a: Uint8Array): string => Buffer.from(a).toString('hex');
    const [recs, kMs] = timed(() => bpfRecords('ipv6_route'));
    const [lines, sMs] = timed(() =>
      sdkLines(host, 'iter/ipv6_route', (ctx) => {
        const r = ctx.rt;
        if (!r) return 0;
        bpf_seq_write(ctx.meta.seq, `${hex(r.fib6_dst)}/${r.fib6_dst_len} ${hex(r.fib6_src)}/${r.fib6_src_len} ${r.fib6_metric} ${r.fib6_flags & ~RTF_GATEWAY} ${r.dev}\n`);
        return 0;
      }),
    );
    speed.push(`ipv6_route: kernel ${kMs.toFixed(1)} ms (${recs.length}), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    const kl = recs.map((r) => `${hex(r.dst)}/${r.dst_len} ${hex(r.src)}/${r.src_len} ${r.metric} ${r.flags & ~RTF_GATEWAY} ${r.dev}`);
    expect(kl).toEqual(lines);
  });

  it('ksym: the first 2000 symbols (name, type, address, module) in the same order', () => {
    const N = 2000;
    const [recs, kMs] = timed(() => bpfRecords('ksym'));
    const [lines, sMs] = timed(() => sdkLines(host, 'iter/ksym', (ctx) => (ctx.ksym.name ? bpf_seq_write(ctx.meta.seq, `${ctx.ksym.value.toString(16)} ${ctx.ksym.type} ${ctx.ksym.name} ${ctx.ksym.module_name}\n`) && 0 : 0)));
    speed.push(`ksym: kernel ${kMs.toFixed(1)} ms (${recs.length}), SDK ${sMs.toFixed(1)} ms (${lines.length})`);
    const kl = recs.slice(0, N).map((r) => `${r.value.toString(16)} ${r.type} ${r.name} ${r.module}`);
    expect(kl.length).toBe(N);
    expect(kl).toEqual(lines.slice(0, N));
    // Module symbols come and go with module loads; the core kernel's symbols are fixed.
    expect(recs.filter((r) => !r.module).length).toBe(lines.filter((l) => l.endsWith(' ')).length);
  });

  it('bpf_map/bpf_prog/bpf_link: kernel ids agree with bpftool, and the SDK over the bpf model lists the same ids', () => {
    const bpftool = (what: string): { id: number; type: string }[] => JSON.parse(execFileSync('bpftool', [what, 'show', '--json'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }) || '[]');
    const model = readBpf({ files: false, vmas: false, sockets: false, routes: false, ksyms: false, cgroups: false });
    for (const [target, what, field] of [
      ['bpf_map', 'map', 'map'],
      ['bpf_prog', 'prog', 'prog'],
      ['bpf_link', 'link', 'link'],
    ] as const) {
      const kIds = bpfRecords(target).map((r) => r.id);
      const toolIds = bpftool(what).map((x) => x.id);
      // Each read loads its own iterator program and link: compare ids present in both.
      const both = kIds.filter((i) => toolIds.includes(i));
      expect(both.length, `${target}: ${kIds} vs bpftool ${toolIds}`).toBeGreaterThanOrEqual(Math.min(kIds.length, toolIds.length) - 2);
      const sIds = sdkLines(model, `iter/${target}`, (ctx) => (ctx[field] ? bpf_seq_write(ctx.meta.seq, `${ctx[field].id}\n`) && 0 : 0)).map(Number);
      const idr = target === 'bpf_map' ? model.maps : target === 'bpf_prog' ? model.progs : model.links;
      const modelIds: number[] = [];
      for (let id = idr.nextId(1); id > 0; id = idr.nextId(id + 1)) modelIds.push(id);
      for (const id of modelIds) expect(sIds, `${target} ${id}`).toContain(id);
      expect(sIds).toEqual([...sIds].sort((a, b) => a - b));
    }
  });
});
