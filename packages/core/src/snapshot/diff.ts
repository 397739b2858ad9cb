/**
 * `diffKernels`: what changed between two kernels (two snapshots of one
 * machine): per kind, the objects that appeared, vanished or changed,
 * each object named by what identifies it in the kernel (pid, tgid:fd,
 * tgid:address, socket inode, map id, cgroup path...).
 */
import type { Kernel } from '../kernel.js';
import { toHex } from './format.js';

/** The objects of one kind: key -> a canonical description (compared as text). */
type Objects = Map<string, string>;

/** One changed object: its description in A and in B. */
export interface ChangedObject {
  key: string;
  a: unknown;
  b: unknown;
}

/** The difference of one kind. */
export interface KindDiff {
  appeared: string[];
  vanished: string[];
  changed: ChangedObject[];
}

/** Kinds in report order. */
export const DIFF_KINDS = ['task', 'fd', 'vma', 'socket', 'route', 'ksym', 'kmem_cache', 'cgroup', 'pidns', 'dmabuf', 'map', 'prog', 'link'] as const;

/** Every object of `k`, per kind. */
export function kernelObjects(k: Kernel): Map<string, Objects> {
  const out = new Map<string, Objects>(DIFF_KINDS.map((kind) => [kind, new Map()]));
  const put = (kind: string, key: string, v: unknown) => out.get(kind)!.set(key, JSON.stringify(v));
  for (const leader of k.processes.values()) {
    if (leader === k.initTask) continue;
    for (const t of leader.signal.threads.values()) {
      put('task', String(t.pid), {
        tgid: t.tgid,
        comm: t.comm,
        state: t.state,
        ppid: t.real_parent?.pid ?? 0,
        // null where the source never learned them (a lazy host task gone before its status was read), not 0.
        uid: t.uid_unknown ? null : t.uid,
        gid: t.gid_unknown ? null : t.gid,
        flags: t.flags,
        prio: t.prio,
        cgroup: t.cgroup?.path ?? null,
        nsPids: t.upids ? [...t.upids] : [],
      });
    }
    const files = leader.files;
    if (files)
      files.fd.forEach((f, fd) => {
        if (f) put('fd', `${leader.tgid}:${fd}`, { path: f.path, f_op: f.f_op.name, flags: f.f_flags, pos: f.f_pos, ino: f.f_inode.i_ino, cloexec: files.close_on_exec.has(fd) });
      });
    const mm = leader.mm;
    if (mm)
      for (let i = 0; i < mm.vmaCount; i++) {
        const v = mm.vma(i);
        put('vma', `${leader.tgid}:${v.vm_start.toString(16)}`, { end: v.vm_end.toString(16), flags: v.vm_flags, pgoff: v.vm_pgoff, file: v.vm_file?.path ?? null, name: v.name });
      }
  }
  for (const proto of ['tcp', 'udp', 'unix', 'netlink'] as const)
    for (const sk of k.sockets(proto))
      put('socket', `${proto}:${sk.ino || `${toHex(sk.skc_rcv_saddr)}:${sk.skc_num}-${toHex(sk.skc_daddr)}:${sk.dport}`}`, {
        state: sk.skc_state,
        local: `${toHex(sk.skc_rcv_saddr)}:${sk.skc_num}`,
        remote: `${toHex(sk.skc_daddr)}:${sk.dport}`,
        uid: sk.sk_uid_unknown ? null : sk.sk_uid,
        tx: sk.tx_queue,
        rx: sk.rx_queue,
        path: sk.path,
      });
  for (const r of k.ipv6Routes.values())
    put('route', `${toHex(r.fib6_dst)}/${r.fib6_dst_len} ${toHex(r.fib6_src)}/${r.fib6_src_len} ${r.dev} ${r.fib6_metric}`, { gateway: toHex(r.gateway), flags: r.fib6_flags, ref: r.fib6_ref, use: r.use });
  const seen = new Map<string, number>();
  for (let i = 0; i < k.ksyms.count; i++) {
    const s = k.ksyms.at(i)!;
    const base = `${s.module_name ? `[${s.module_name}] ` : ''}${s.name}`;
    const nth = seen.get(base) ?? 0;
    seen.set(base, nth + 1);
    put('ksym', nth ? `${base}#${nth + 1}` : base, { type: s.type, value: s.value.toString(16) });
  }
  for (const c of k.kmemCaches.values()) put('kmem_cache', c.name, { active_objs: c.active_objs, num_objs: c.num_objs, size: c.size, objs_per_slab: c.objs_per_slab });
  const cgs = (c: import('../model/cgroup.js').Cgroup) => {
    put('cgroup', c.path, { id: c.id, dead: c.dead, tasks: c.tasks.size });
    for (const ch of c.children.values()) cgs(ch);
  };
  cgs(k.cgroupRoot);
  const nss = new Set<import('../model/pid_namespace.js').PidNamespace>();
  for (const leader of k.processes.values()) for (let ns: typeof leader.pidNs | null = leader.pidNs; ns; ns = ns.parent) nss.add(ns);
  for (const ns of nss) put('pidns', String(ns.inum), { level: ns.level, parent: ns.parent?.inum ?? null, tasks: ns.pids.size });
  for (const b of k.dmabufs.values()) put('dmabuf', String(b.ino), { size: b.size, exp_name: b.exp_name, name: b.name });
  for (const [id, m] of k.maps.entries()) put('map', String(id), { type: m.typeName, name: m.name, key_size: m.key_size, value_size: m.value_size, max_entries: m.max_entries, flags: m.map_flags, count: m.count });
  for (const [id, p] of k.progs.entries()) put('prog', String(id), { type: p.typeName, name: p.name, tag: p.tag, attach: p.attach_func_name });
  for (const [id, l] of k.links.entries()) put('link', String(id), { type: l.typeName, prog: l.prog.id });
  return out;
}

/**
 * The difference of kernel `a` (before) and `b` (after), per kind: keys in
 * the order of `b` (appeared, changed) and of `a` (vanished).
 *
 * @example
 * ```ts
 * const d = diffKernels(await loadKernel('before.snap'), await loadKernel('after.snap'));
 * console.log(d.task.appeared.length, 'new tasks');
 * ```
 */
export function diffKernels(a: Kernel, b: Kernel): Record<string, KindDiff> {
  const A = kernelObjects(a);
  const B = kernelObjects(b);
  const out: Record<string, KindDiff> = {};
  for (const kind of DIFF_KINDS) {
    const x = A.get(kind)!;
    const y = B.get(kind)!;
    const d: KindDiff = { appeared: [], vanished: [], changed: [] };
    for (const [key, v] of y) {
      const old = x.get(key);
      if (old === undefined) d.appeared.push(key);
      else if (old !== v) d.changed.push({ key, a: JSON.parse(old), b: JSON.parse(v) });
    }
    for (const key of x.keys()) if (!y.has(key)) d.vanished.push(key);
    out[kind] = d;
  }
  return out;
}
