/**
 * Every field of every target, kernel against SDK. For each target the
 * kernel's own iterator (a bpf source program, see packages/core/bpf) gives
 * the kernel's value of every field it has; an SDK iterator program over a
 * model reads the same fields from its ctx. {@link compareTarget} keeps the
 * objects that held still (equal in a kernel read before and one after the
 * model was read) and counts, per field, matches, mismatches and values the
 * model marks unknown (`null`).
 *
 * A field /proc cannot tell is declared per source in `unknownOn`, with the
 * reason; the model must show `null` for it (or the kernel's value). A field
 * the model shows with another value than the kernel's is a mismatch
 * whatever the declarations say: no invented value passes.
 */
import { bpfRecords, readBpf, readHost, type BpfRecordOf, type BpfSourceOptions, type BpfSourceTarget, type HostOptions, type Kernel } from '@bpf-iter/core';
import { nameVmaFiles } from '@bpf-iter/core/internal';
import { bpf_seq_write, type BpfIterLinkInfoInit } from '@bpf-iter/iter-programs';
import { sdkLines } from './bpf_fixture.js';

/** A field value as compared: numbers, strings, booleans, null (unknown). */
export type FieldValue = number | string | boolean | null;
/** One object's fields. */
export type Fields = Record<string, FieldValue>;

/** Which model is compared. */
export type ModelSource = 'host' | 'bpf';

/** The parts of a model the sources can read separately. */
export type ModelPart = 'threads' | 'files' | 'vmas' | 'sockets' | 'routes' | 'ksyms' | 'cgroups' | 'slabs' | 'bpfObjects';

/** A model with only `part` (and the tasks), from one source. */
export function readModel(source: ModelSource, part: ModelPart): Kernel {
  if (source === 'bpf') {
    const o: BpfSourceOptions = { files: false, vmas: false, sockets: false, routes: false, ksyms: false, bpfObjects: false, cgroups: false, slabs: false };
    if (part !== 'threads') o[part] = true;
    return readBpf(o);
  }
  const o: HostOptions = { threads: true, files: false, fdinfo: false, vmas: false, sockets: false, routes: false, ksyms: false, slabs: false, cgroups: false };
  if (part === 'files') o.fdinfo = true;
  if (part === 'cgroups') o.threads = true;
  if (part !== 'threads' && part !== 'bpfObjects') o[part] = true;
  return readHost(o);
}

/** How one target is compared. */
export interface TargetSpec<T extends BpfSourceTarget> {
  target: T;
  /** SDK section (`iter/<target>`) and the ctx field holding the object. */
  ctxField: string;
  /** The object's identity in the kernel record. */
  key(r: BpfRecordOf[T]): string;
  /**
   * Objects that change together (a process's threads, fds, VMAs): one is
   * stable only if every object of its group is equal in both kernel reads.
   */
  group?(f: Fields): string;
  /** The parts of the machine a model of this target needs (both sources read only those). */
  part: ModelPart;
  /** Link parameters of the SDK iterator (and of the kernel's, through bpfRecords). */
  linkInfo?: BpfIterLinkInfoInit;
  /** Record fields that show an object moved without being compared (a task's CPU time: it ran). */
  moved?(r: BpfRecordOf[T]): FieldValue;
  /** Records as the bpf source completes them before use (paths the program could not take). */
  complete?(recs: BpfRecordOf[T][]): void;
  /** The kernel's value of every field. */
  kernel(r: BpfRecordOf[T]): Fields;
  /** The same fields from the SDK's ctx (identity under `key`), or null to skip the ctx. */
  sdk(ctx: any): (Fields & { key: string }) | null;
  /** Objects left out on a source, with the reason (printed in the table). */
  skip?: Partial<Record<ModelSource, [(f: Fields) => boolean, string]>>;
  /**
   * Fields a source fills with another quantity of the same name, by design
   * and documented (not compared; listed in the table with the reason).
   */
  differsOn?: Partial<Record<ModelSource, Record<string, string>>>;
  /** Fields a source cannot know: the model must show `null` (or the kernel's value). */
  unknownOn?: Partial<Record<ModelSource, Record<string, string>>>;
  /** Values compared at a source's resolution (e.g. /proc's clock ticks), applied to both sides. */
  resolution?: Partial<Record<ModelSource, Record<string, (v: FieldValue) => FieldValue>>>;
}

/** The result of one target on one source. */
export interface TargetResult {
  target: string;
  source: ModelSource;
  /** Objects stable in both kernel reads and present in the model. */
  objects: number;
  /** Objects whose every field matched (unknowns count as matched when declared). */
  matched: number;
  /** Stable kernel objects the model does not have. */
  missing: string[];
  /** Model objects the kernel had in neither read (and that no skip covers). */
  extra: string[];
  /** Per field: mismatches (with up to 3 examples) and declared unknowns. */
  fields: Record<string, { mismatched: number; unknown: number; examples: string[]; differs?: string }>;
  /** Objects left out and why. */
  skipped: string | null;
}

const hex = (a: Uint8Array): string => Buffer.from(a).toString('hex');
const big = (v: bigint | number): string => BigInt(v).toString(16);

/** include/linux/sched.h + fs/proc/array.c task_state_index: the letter /proc prints. */
export function stateLetter(state: number, exitState: number): string {
  let s = (state | exitState) & 0x7f;
  if ((state & 0x402) === 0x402) s = 0x80;
  if (state & (0x1000 | 0x8000)) s = 2; // TASK_RTLOCK_WAIT, TASK_FROZEN
  return 'RSDTtXZPI'[s === 0 ? 0 : 32 - Math.clz32(s)]!;
}

/** Kernel VMA names of anonymous mappings, by the record's kind. */
const VMA_NAMES = [null, null, '[heap]', '[stack]', '[vdso]'];
/** Mini sockets (TIME_WAIT 6, NEW_SYN_RECV 12) are keyed by their addresses. */
const inetKey = (ino: number, family: number, sport: number, dport: number, saddr: string, daddr: string): string =>
  ino ? `ino ${ino}` : `${family} ${saddr}:${sport} ${daddr}:${dport}`;

const TICK_NS = 1e7; // USER_HZ 100: /proc/PID/stat's start time is in 10 ms ticks
const fopUnknown = { f_op: "/proc shows no file_operations address: the host model's f_op is not the kernel's" };

/** Every target the bpf source reads, with every field of its record. */
export const SPECS: TargetSpec<any>[] = [
  {
    target: 'task',
    part: 'threads',
    ctxField: 'task',
    key: (r) => `${r.pid}`,
    kernel: (r) => ({
      tgid: r.tgid,
      pid: r.pid,
      ppid: r.ppid,
      uid: r.uid,
      gid: r.gid,
      flags: r.flags,
      state: stateLetter(r.state, r.exit_state),
      start_time: r.start_time,
      comm: r.comm,
      prio: r.prio,
      cgroup_id: r.cgroup_id,
    }),
    sdk: ({ task: t }) =>
      t && {
        key: `${t.pid}`,
        tgid: t.tgid,
        pid: t.pid,
        ppid: t.real_parent ? t.real_parent.tgid : null,
        uid: t.uid,
        gid: t.gid,
        flags: t.flags,
        state: t.state,
        start_time: t.start_time,
        comm: t.comm,
        prio: t.prio,
        cgroup_id: t.cgroup ? t.cgroup.id : null,
      },
    group: (f) => `${f.tgid}`,
    skip: { host: [(f) => f.tgid === 1, 'PID 1 is invisible to the kernel\'s task iterators on this machine (and /proc/1 refuses its fds and maps)'] },
    // A task that ran between the two kernel reads may have changed state while the model was read.
    moved: (r) => r.sum_exec_runtime,
    resolution: { host: { start_time: (v) => (typeof v === 'number' ? Math.floor(v / TICK_NS) : v) } },
  },
  {
    target: 'task_file',
    part: 'files',
    ctxField: 'file',
    key: (r) => `${r.pid} ${r.fd}`,
    group: (f) => `${f.tgid}`,
    kernel: (r) => ({ tgid: r.tgid, pid: r.pid, fd: r.fd, f_flags: r.f_flags, ino: r.ino, f_op: big(r.f_op), pos: r.pos, mode: r.mode, dev: r.dev, path: r.path || null }),
    sdk: ({ task, fd, file: f }) =>
      f && {
        key: `${task.pid} ${fd}`,
        tgid: task.tgid,
        pid: task.pid,
        fd,
        f_flags: f.f_flags,
        ino: f.f_inode.i_ino,
        f_op: f.f_op.synthetic ? null : big(f.f_op.addr),
        pos: f.f_pos,
        mode: f.f_inode.i_mode,
        dev: f.f_inode.s_dev,
        path: f.path || null,
      },
    skip: { host: [(f) => f.tgid === process.pid, "this process's own fds move with every read (the pins and /proc dirs being read)"] },
    unknownOn: { host: fopUnknown },
  },
  {
    target: 'task_vma',
    part: 'vmas',
    ctxField: 'vma',
    key: (r) => `${r.tgid} ${r.start}`,
    group: (f) => `${f.tgid}`,
    complete: (recs) => nameVmaFiles(recs),
    kernel: (r) => ({
      tgid: r.tgid,
      start: r.start,
      end: r.end,
      flags: r.flags,
      pgoff: r.pgoff,
      ino: r.ino,
      dev: r.dev,
      f_op: r.f_op ? big(r.f_op) : null,
      path: r.kind === 1 ? r.path || null : VMA_NAMES[r.kind] ?? null,
    }),
    sdk: ({ task, vma: v }) =>
      v
        ? {
            key: `${task.tgid} ${v.vm_start}`,
            tgid: task.tgid,
            start: v.vm_start,
            end: v.vm_end,
            flags: v.vm_flags_unknown ? null : v.vm_flags,
            pgoff: v.vm_pgoff,
            ino: v.vm_file ? v.vm_file.f_inode.i_ino : 0,
            dev: v.vm_file ? v.vm_file.f_inode.s_dev : 0,
            f_op: v.vm_file ? (v.vm_file.f_op.synthetic ? null : big(v.vm_file.f_op.addr)) : null,
            path: v.vm_file ? v.vm_file.path || null : v.name ?? null,
          }
        : null,
    skip: { host: [(f) => f.tgid === process.pid, "this process's V8 heap maps and unmaps between reads"] },
    unknownOn: {
      host: {
        ...fopUnknown,
        flags: "bits /proc/PID/smaps' VmFlags has no mnemonic for (vm_flags_unknown)",
        pgoff: '/proc/PID/maps prints 0 for anonymous mappings; the kernel keeps their virtual page number',
      },
    },
  },
  ...(['tcp', 'udp'] as const).map(
    (proto): TargetSpec<'tcp' | 'udp'> => ({
      target: proto,
      part: 'sockets',
      ctxField: proto === 'tcp' ? 'sk_common' : 'udp_sk',
      key: (r) => inetKey(r.ino, r.family, r.sport, r.dport, hex(r.saddr), hex(r.daddr)),
      kernel: (r) => ({
        family: r.family,
        state: r.state,
        sport: r.sport,
        dport: r.dport,
        uid: r.uid,
        ino: r.ino,
        saddr: hex(r.saddr),
        daddr: hex(r.daddr),
        cookie: big(r.cookie),
        ...(proto === 'udp' ? { bucket: r.bucket } : {}),
      }),
      sdk: (ctx) => {
        const s = ctx[proto === 'tcp' ? 'sk_common' : 'udp_sk'];
        if (!s) return null;
        const sa = hex(s.skc_rcv_saddr);
        const da = hex(s.skc_daddr);
        return {
          key: inetKey(s.ino, s.skc_family, s.skc_num, s.dport, sa, da),
          family: s.skc_family,
          state: s.skc_state,
          sport: s.skc_num,
          dport: s.dport,
          uid: ctx.uid ?? s.sk_uid,
          ino: s.ino,
          saddr: sa,
          daddr: da,
          cookie: s.cookie_unknown ? null : big(s.cookie),
          ...(proto === 'udp' ? { bucket: ctx.bucket } : {}),
        };
      },
      unknownOn: { host: { cookie: '/proc/net shows no socket cookie' } },
      ...(proto === 'udp'
        ? {
            differsOn: {
              host: {
                bucket:
                  "the kernel's udp iterator walks the secondary (address+port, per-netns salted) hash; /proc/net/udp's sl, which the host model keeps so that cat udp is byte-identical, is the primary-hash slot",
              },
            },
          }
        : {}),
    }),
  ),
  {
    target: 'unix',
    part: 'sockets',
    ctxField: 'unix_sk',
    key: (r) => `${r.ino}`,
    kernel: (r) => ({ ino: r.ino, type: r.type, state: r.state, uid: r.uid }),
    sdk: ({ unix_sk: s, uid }) => s && { key: `${s.ino}`, ino: s.ino, type: s.sk_type, state: s.skc_state, uid: s.sk_uid_unknown ? null : (uid ?? s.sk_uid) },
    unknownOn: { host: { uid: '/proc/net/unix prints no uid' } },
  },
  {
    target: 'netlink',
    part: 'sockets',
    ctxField: 'sk',
    key: (r) => `${r.ino}`,
    kernel: (r) => ({ ino: r.ino, portid: r.portid, protocol: r.protocol }),
    sdk: ({ sk: s }) => s && { key: `${s.ino}`, ino: s.ino, portid: s.netlink ? s.netlink.portid : null, protocol: s.sk_protocol },
  },
  {
    target: 'ipv6_route',
    part: 'routes',
    ctxField: 'rt',
    key: (r) => `${hex(r.dst)}/${r.dst_len} ${hex(r.src)}/${r.src_len} ${r.dev} ${r.metric}`,
    kernel: (r) => ({ dst: hex(r.dst), dst_len: r.dst_len, src: hex(r.src), src_len: r.src_len, metric: r.metric, flags: r.flags, dev: r.dev }),
    sdk: ({ rt: r }) =>
      r && {
        key: `${hex(r.fib6_dst)}/${r.fib6_dst_len} ${hex(r.fib6_src)}/${r.fib6_src_len} ${r.dev} ${r.fib6_metric}`,
        dst: hex(r.fib6_dst),
        dst_len: r.fib6_dst_len,
        src: hex(r.fib6_src),
        src_len: r.fib6_src_len,
        metric: r.fib6_metric,
        flags: r.fib6_flags,
        dev: r.dev,
      },
  },
  {
    target: 'ksym',
    part: 'ksyms',
    ctxField: 'ksym',
    key: (r) => `${r.name} ${r.module} ${big(r.value)}`,
    kernel: (r) => ({ value: big(r.value), type: r.type, name: r.name, module: r.module }),
    skip: {
      host: [
        (f) => /^bpf_prog_[0-9a-f]{16}_/.test(String(f.name)),
        "JITed BPF programs' symbols come and go with every load (the reading iterator's own among them), and the kernel's ksym iterator lists each once more under [__builtin__kprobes] (6.18), which /proc/kallsyms does not",
      ],
    },
    sdk: ({ ksym: k }) => (k && k.name ? { key: `${k.name} ${k.module_name} ${big(k.value)}`, value: big(k.value), type: k.type, name: k.name, module: k.module_name } : null),
  },
  {
    target: 'cgroup',
    part: 'cgroups',
    ctxField: 'cgroup',
    linkInfo: { cgroup: { cgroup_id: 1, order: 2 /* BPF_CGROUP_ITER_DESCENDANTS_PRE, as bpfRecords('cgroup') */ } },
    key: (r) => `${r.id}`,
    kernel: (r) => ({ id: r.id, level: r.level, name: r.name }),
    sdk: ({ cgroup: c }) => c && { key: `${c.id}`, id: c.id, level: c.level, name: c.name },
  },
  {
    target: 'kmem_cache',
    part: 'slabs',
    ctxField: 's',
    key: (r) => r.name,
    kernel: (r) => ({
      name: r.name,
      size: r.size,
      object_size: r.object_size,
      align: r.align,
      objs_per_slab: r.objs_per_slab,
      pages_per_slab: r.pages_per_slab,
      num_objs: r.num_objs,
      active_objs: r.num_objs - r.free_objs,
    }),
    sdk: ({ s }) =>
      s && {
        key: s.name,
        name: s.name,
        size: s.size,
        object_size: s.object_size,
        align: s.align,
        objs_per_slab: s.objs_per_slab,
        pages_per_slab: s.pages_per_slab,
        num_objs: s.num_objs,
        active_objs: s.active_objs,
      },
  },
  {
    target: 'bpf_map',
    part: 'bpfObjects',
    ctxField: 'map',
    key: (r) => `${r.id}`,
    kernel: (r) => ({ id: r.id, type: r.type, key_size: r.key_size, value_size: r.value_size, max_entries: r.max_entries, map_flags: r.map_flags, name: r.name }),
    sdk: ({ map: m }) =>
      m && { key: `${m.id}`, id: m.id, type: m.map_type, key_size: m.key_size, value_size: m.value_size, max_entries: m.max_entries, map_flags: m.map_flags, name: m.name },
  },
  {
    target: 'bpf_prog',
    part: 'bpfObjects',
    ctxField: 'prog',
    key: (r) => `${r.id}`,
    kernel: (r) => ({ id: r.id, type: r.type, expected_attach_type: r.expected_attach_type, tag: r.tag, name: r.name }),
    // The walking program itself (and its link) is the SDK's, loaded into the model for this read;
    // the kernel's side shows its own dump_bpf_prog the same way, in both of its reads.
    sdk: ({ prog: p }) => p && p.name !== SDK_WALKER && { key: `${p.id}`, id: p.id, type: p.prog_type, expected_attach_type: p.expected_attach_type, tag: p.tag, name: p.name },
  },
  {
    target: 'bpf_link',
    part: 'bpfObjects',
    ctxField: 'link',
    key: (r) => `${r.id}`,
    kernel: (r) => ({ id: r.id, type: r.type, prog_id: r.prog_id }),
    sdk: ({ link: l }) => l && l.prog.name !== SDK_WALKER && { key: `${l.id}`, id: l.id, type: l.type, prog_id: l.prog.id },
  },
];

/** Name of the SDK program {@link sdkObjects} walks with. */
const SDK_WALKER = 'conf_walk';

/** Key of the {@link TargetSpec.moved} value in kernel objects: part of stability, not compared. */
const MOVED = '(moved)';

/** The kernel's fields of every object of a target, keyed by identity. */
export function kernelObjects(spec: TargetSpec<any>): Map<string, Fields> {
  const recs = bpfRecords(spec.target);
  spec.complete?.(recs);
  return new Map(recs.map((r) => [spec.key(r), spec.moved ? { ...spec.kernel(r), [MOVED]: spec.moved(r) } : spec.kernel(r)] as const));
}

/**
 * Objects equal in both kernel reads (held still while the model was read).
 * With a group, every object of the group must be: a process whose VMAs
 * moved (a JIT flipping page protections) is left out whole.
 */
export function stable(spec: TargetSpec<any>, a: Map<string, Fields>, b: Map<string, Fields>): Map<string, Fields> {
  const same = (k: string): boolean => b.has(k) && JSON.stringify(b.get(k)) === JSON.stringify(a.get(k));
  const moved = new Set<string>();
  if (spec.group) {
    for (const [k, v] of a) if (!same(k)) moved.add(spec.group(v));
    for (const [k, v] of b) if (!a.has(k)) moved.add(spec.group(v));
  }
  const out = new Map<string, Fields>();
  for (const [k, v] of a) if (same(k) && !(spec.group && moved.has(spec.group(v)))) out.set(k, v);
  return out;
}

/** The SDK's fields of every object of a target over a model. */
export function sdkObjects(spec: TargetSpec<any>, model: Kernel): Map<string, Fields> {
  const lines = sdkLines(
    model,
    `iter/${spec.target}`,
    function conf_walk(ctx) {
      const f = spec.sdk(ctx);
      if (f) bpf_seq_write(ctx.meta.seq, JSON.stringify(f, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
      return 0;
    },
    spec.linkInfo,
  );
  const out = new Map<string, Fields>();
  for (const l of lines) {
    const { key, ...f } = JSON.parse(l) as Fields & { key: string };
    out.set(key, f);
  }
  return out;
}

/**
 * Compares the model's objects with the kernel's stable ones, field by
 * field. `keep(key)` filters kernel objects (the spec's skip for the source).
 */
export function compareTarget(
  spec: TargetSpec<any>,
  source: ModelSource,
  kernel: Map<string, Fields>,
  model: Map<string, Fields>,
  skipped: string | null,
  seen: (key: string) => boolean = (k) => kernel.has(k),
): TargetResult {
  const unknown = spec.unknownOn?.[source] ?? {};
  const differs = spec.differsOn?.[source] ?? {};
  const res = spec.resolution?.[source] ?? {};
  const r: TargetResult = { target: spec.target, source, objects: 0, matched: 0, missing: [], extra: [], fields: {}, skipped };
  const [skip] = spec.skip?.[source] ?? [null];
  for (const [key, m] of model) if (!seen(key) && !(skip && skip(m))) r.extra.push(key);
  for (const [key, k] of kernel) {
    const m = model.get(key);
    if (!m) {
      r.missing.push(key);
      continue;
    }
    r.objects++;
    let ok = true;
    for (const [field, kv] of Object.entries(k)) {
      if (field === MOVED) continue;
      const f = (r.fields[field] ??= { mismatched: 0, unknown: 0, examples: [] });
      const norm = res[field] ?? ((v: FieldValue) => v);
      const mv = field in m ? m[field]! : null;
      // The kernel's program could not tell this one (a special mapping's name): nothing to compare.
      if (kv === null) continue;
      if (field in differs) {
        f.differs = differs[field];
        continue;
      }
      if (norm(mv) === norm(kv)) continue;
      if (mv === null && field in unknown) {
        f.unknown++;
        continue;
      }
      ok = false;
      f.mismatched++;
      if (f.examples.length < 3) f.examples.push(`${key}: kernel ${JSON.stringify(kv)}, model ${JSON.stringify(mv)}`);
    }
    if (ok) r.matched++;
  }
  return r;
}

/** A markdown table of results: objects, matched, mismatched by field, unknown fields. */
export function resultTable(results: readonly TargetResult[]): string {
  const rows = results.map((r) => {
    const bad = Object.entries(r.fields)
      .filter(([, f]) => f.mismatched)
      .map(([n, f]) => `${n} ${f.mismatched}`)
      .join(', ');
    const unk = Object.entries(r.fields)
      .filter(([, f]) => f.unknown || f.differs)
      .map(([n, f]) => (f.differs ? `${n} (another quantity: see below)` : n))
      .join(', ');
    const nFields = Object.keys(r.fields).length;
    return `| ${r.target} | ${r.source} | ${r.objects} | ${nFields} | ${r.matched} | ${bad || '0'} | ${r.missing.length} | ${r.extra.length} | ${unk || '—'} |`;
  });
  return [
    '| target | source | objects | fields | matched | mismatched by field | missing | extra | unknown on this source |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
