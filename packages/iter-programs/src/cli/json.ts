/**
 * JSON dumper programs (`bpf-iter cat TARGET --json`): one generic program
 * per target that writes one JSON object per line with the ctx's stable
 * fields (indented when `bss.pretty`: `-p`). Addresses are hex strings (they do not fit a JSON number).
 */
import { AF_INET, AF_INET6, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, type Socket, type Task } from '@bpf-iter/core';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { defineProgram, type BpfIterCtx, type BpfProgramSpec } from '../program.js';

const hex = (n: number | bigint): string => '0x' + n.toString(16);
const bufHex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);

function ip(b: Uint8Array, v6: boolean): string {
  if (!v6) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // URL parsing gives the canonical compressed form (RFC 5952).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** A task's uid, null when the source could not learn it. */
function uidOf(t: Task): number | null {
  const uid = t.uid;
  return t.uid_unknown ? null : uid;
}

function inetSock(sk: Socket, uid: number): Record<string, unknown> {
  const v6 = sk.skc_family === AF_INET6;
  const local = ip(sk.skc_rcv_saddr, v6);
  const remote = ip(sk.skc_daddr, v6);
  return {
    family: v6 ? 6 : 4,
    state: sk.skc_state,
    local: v6 ? `[${local}]:${sk.skc_num}` : `${local}:${sk.skc_num}`,
    remote: v6 ? `[${remote}]:${sk.dport}` : `${remote}:${sk.dport}`,
    uid,
    inode: sk.ino,
  };
}

/** Per target: the object of one ctx, or null to print nothing (end call, filtered). */
type Row = (ctx: any, bss: { family?: number }) => Record<string, unknown> | null;

const ROWS: Record<string, Row> = {
  // uid before uid_unknown: reading uid is what reads it (the lazy host source).
  task: ({ task: t }) => (t ? { tgid: t.tgid, pid: t.pid, comm: t.comm, state: t.state, uid: uidOf(t) } : null),
  task_file: ({ task: t, fd, file: f }) =>
    // f_op: the address (null where the model does not know it); f_op_name: the kind's label (kallsyms' symbol, else named by file kind).
    t && f ? { tgid: t.tgid, pid: t.pid, fd, path: f.path, inode: f.f_inode.i_ino, f_op: f.f_op.unknown ? null : hex(f.f_op.addr), f_op_name: f.f_op.name } : null,
  task_vma: ({ task: t, vma: v }) => {
    if (!t || !v) return null;
    const fl = v.vm_flags;
    const perms = (fl & VM_READ ? 'r' : '-') + (fl & VM_WRITE ? 'w' : '-') + (fl & VM_EXEC ? 'x' : '-') + (fl & VM_MAYSHARE ? 's' : 'p');
    return {
      tgid: t.tgid,
      start: hex(v.vm_start),
      end: hex(v.vm_end),
      flags: perms,
      pgoff: hex(v.vm_file ? v.vm_pgoff * 4096 : 0),
      inode: v.vm_file ? v.vm_file.f_inode.i_ino : 0,
      path: v.vm_file ? v.vm_file.path : (v.name ?? null),
    };
  },
  tcp: ({ sk_common: sk, uid }, bss) => (sk && familyOk(sk, bss) ? inetSock(sk, uid) : null),
  udp: ({ udp_sk: sk, uid, bucket }, bss) => (sk && familyOk(sk, bss) ? { ...inetSock(sk, uid), bucket } : null),
  unix: ({ unix_sk: sk, uid }) => (sk ? { family: 'unix', type: sk.sk_type, state: sk.skc_state, path: sk.path || null, uid: sk.sk_uid_unknown ? null : uid, inode: sk.ino } : null),
  netlink: ({ sk }) => (sk ? { family: 'netlink', protocol: sk.sk_protocol, portid: sk.netlink?.portid ?? 0, inode: sk.ino } : null),
  ipv6_route: ({ rt }) =>
    rt
      ? {
          dst: `${ip(rt.fib6_dst, true)}/${rt.fib6_dst_len}`,
          src: `${ip(rt.fib6_src, true)}/${rt.fib6_src_len}`,
          gateway: ip(rt.gateway, true),
          metric: rt.fib6_metric,
          flags: hex(rt.fib6_flags),
          dev: rt.dev,
        }
      : null,
  ksym: ({ ksym: s }) => (s && s.name ? { name: s.name, type: s.type, value: hex(s.value), module: s.module_name || null } : null),
  bpf_map: ({ map: m }) =>
    m ? { id: m.id, type: m.typeName, name: m.name, key_size: m.key_size, value_size: m.value_size, max_entries: m.max_entries, flags: m.map_flags } : null,
  bpf_map_elem: ({ map: m, key, value }) => (key && value ? { map_id: m.id, key: bufHex(key), value: bufHex(value) } : null),
  bpf_prog: ({ prog: p }) => (p ? { id: p.id, type: p.typeName, name: p.name, tag: p.tag, attach: p.attach_func_name || null } : null),
  bpf_link: ({ link: l }) => (l ? { id: l.id, type: l.typeName, prog_id: l.prog.id } : null),
  cgroup: ({ cgroup: c }) => (c ? { id: c.id, path: c.path, level: c.level, tasks: c.tasks.size } : null),
  bpf_sk_storage_map: ({ map: m, sk, value }) => (sk && value ? { map_id: m.id, sk: { ino: sk.ino, cookie: String(sk.cookie) }, value: bufHex(value) } : null),
  sockmap: ({ map: m, key, sk }) => (key && sk ? { map_id: m.id, key: bufHex(key), sk: { ino: sk.ino, cookie: String(sk.cookie) } } : null),
  dmabuf: ({ dmabuf: b }) => (b ? { size: b.size, exp_name: b.exp_name, ino: b.ino, name: b.name || null, count: b.file_count } : null),
  kmem_cache: ({ s }) =>
    s ? { name: s.name, object_size: s.object_size, size: s.size, active_objs: s.active_objs, num_objs: s.num_objs, objs_per_slab: s.objs_per_slab, pages_per_slab: s.pages_per_slab } : null,
};

function familyOk(sk: Socket, bss: { family?: number }): boolean {
  const v4 = sk.skc_family === AF_INET;
  return !((bss.family === 4 && !v4) || (bss.family === 6 && v4));
}

const cache = new Map<string, BpfProgramSpec>();

/**
 * The JSON dumper of a target (`iter/<target>`, named `json_<target>`), or
 * undefined for a target without one. tcp/udp honour `bss.family` (0/4/6)
 * like their text dumpers.
 */
export function jsonDumper(target: string): BpfProgramSpec | undefined {
  const row = ROWS[target];
  if (!row) return undefined;
  let spec = cache.get(target);
  if (!spec) {
    spec = defineProgram({
      name: `json_${target}`,
      sec: `iter/${target}`,
      // Marks the program for pins: restore finds it again by target.
      origin: { module: JSON_ORIGIN, export: target },
      fn(this: { bss: { family?: number; pretty?: boolean } }, ctx: BpfIterCtx) {
        const o = row(ctx, this.bss ?? {});
        if (o) bpf_seq_write(ctx.meta.seq, JSON.stringify(o, null, this.bss?.pretty ? 2 : undefined) + '\n');
        return 0;
      },
    });
    cache.set(target, spec);
  }
  return spec;
}

/** `origin.module` of the JSON dumpers. */
export const JSON_ORIGIN = 'bpf-iter:json';
