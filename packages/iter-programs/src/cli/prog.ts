/**
 * `bpf-iter prog show` / `map show` / `link show --kernel bpf` on the real
 * kernel, like bpftool: walk the ids (`BPF_{PROG,MAP,LINK}_GET_NEXT_ID`),
 * open each (`BPF_*_GET_FD_BY_ID`), read `BPF_OBJ_GET_INFO_BY_FD`. `-j`
 * prints a JSON array with bpftool's key names. Objects that go away during
 * the walk are skipped (ENOENT).
 */
import { readFileSync } from 'node:fs';
import {
  BPF_LINK_TYPE_ITER,
  BPF_LINK_TYPES,
  BPF_MAP_TYPES,
  BPF_PROG_TYPES,
  CGROUP_ORDER_NAMES,
  fail,
} from '@bpf-iter/core';
import {
  kernelFdinfo,
  kernelIds,
  kernelLinkInfo,
  objInfo,
  progMapIds,
  PROG_INFO_SIZE,
  withKernelObject,
} from '@bpf-iter/core/internal';
import { out, type CliIo } from './common.js';
import { jsonText, type OutputOptions } from './output.js';
import { select, type MapShowEntry, type ShowFilter } from './show.js';

/** `sizeof(struct bpf_map_info)` in libbpf 1.1's uapi header. */
const MAP_INFO_SIZE = 88;

/** A program as `prog show -j` prints it. */
export interface ProgShowRow {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  /** Seconds since the epoch. */
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited: number;
  /** fdinfo `memlock`. */
  bytes_memlock: number;
  map_ids: number[];
  btf_id: number;
}

/** A real kernel map as `map show -j` prints it: the model's {@link MapShowEntry} and what only the real kernel tells. */
export interface MapShowRow extends MapShowEntry {
  /** fdinfo `memlock`. */
  bytes_memlock: number;
  /** fdinfo `frozen` (`.rodata` after load). */
  frozen: boolean;
  btf_id: number;
}

const cstr = (b: Buffer, off: number, len: number) => {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.toString('utf8', 0, z < 0 ? len : z);
};

/** A numeric fdinfo field (`memlock:\t4096`), 0 when absent. */
function fdinfoField(fd: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)$`, 'm').exec(kernelFdinfo(fd));
  return m ? Number(m[1]) : 0;
}

/** Boot time in ms since the epoch: `load_time` is CLOCK_BOOTTIME ns, the clock of /proc/uptime. */
function bootTimeMs(): number {
  return Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
}

/** The real kernel's programs. */
export function listProgs(): ProgShowRow[] {
  const boot = bootTimeMs();
  const rows: ProgShowRow[] = [];
  for (const id of kernelIds('prog')) {
    const row = withKernelObject('prog', id, (fd) => {
      const b = objInfo(fd, PROG_INFO_SIZE);
      const map_ids = progMapIds(fd, b.readUInt32LE(52));
      const type = b.readUInt32LE(0);
      return {
        id,
        type: BPF_PROG_TYPES[type] ?? String(type),
        name: cstr(b, 64, 16),
        tag: b.subarray(8, 16).toString('hex'),
        gpl_compatible: (b.readUInt32LE(84) & 1) === 1,
        loaded_at: Math.floor((boot + Number(b.readBigUInt64LE(40)) / 1e6) / 1000),
        uid: b.readUInt32LE(48),
        bytes_xlated: b.readUInt32LE(20),
        jited: b.readUInt32LE(16) > 0,
        bytes_jited: b.readUInt32LE(16),
        bytes_memlock: fdinfoField(fd, 'memlock'),
        map_ids,
        btf_id: b.readUInt32LE(128),
      };
    });
    if (row) rows.push(row);
  }
  return rows;
}

/** The real kernel's maps. */
export function listMaps(): MapShowRow[] {
  const rows: MapShowRow[] = [];
  for (const id of kernelIds('map')) {
    const row = withKernelObject('map', id, (fd) => {
      const b = objInfo(fd, MAP_INFO_SIZE);
      const type = b.readUInt32LE(0);
      return {
        id,
        type: BPF_MAP_TYPES[type] ?? String(type),
        name: cstr(b, 24, 16),
        flags: b.readUInt32LE(20),
        bytes_key: b.readUInt32LE(8),
        bytes_value: b.readUInt32LE(12),
        max_entries: b.readUInt32LE(16),
        bytes_memlock: fdinfoField(fd, 'memlock'),
        frozen: fdinfoField(fd, 'frozen') === 1,
        btf_id: b.readUInt32LE(64),
      };
    });
    if (row) rows.push(row);
  }
  return rows;
}

/** `bpf-iter prog show [-j]`. */
export async function progShowCommand(io: CliIo, o: OutputOptions, f?: ShowFilter): Promise<void> {
  const rows = select(listProgs(), f, 'program');
  if (o.json) return out(io, jsonText(rows, o));
  let s = '';
  for (const r of rows) {
    s += `${r.id}: ${r.type}  name ${r.name}  tag ${r.tag}${r.gpl_compatible ? '  gpl' : ''}\n`;
    s += `\tloaded_at ${new Date(r.loaded_at * 1000).toISOString().replace(/\.\d+Z$/, '+0000')}  uid ${r.uid}\n`;
    s += `\txlated ${r.bytes_xlated}B  ${r.jited ? `jited ${r.bytes_jited}B` : 'not jited'}  memlock ${r.bytes_memlock}B${r.map_ids.length ? `  map_ids ${r.map_ids.join(',')}` : ''}\n`;
    if (r.btf_id) s += `\tbtf_id ${r.btf_id}\n`;
  }
  return out(io, s);
}

/** `bpf-iter map show [-j]`. */
export async function mapShowCommand(io: CliIo, o: OutputOptions, f?: ShowFilter): Promise<void> {
  const rows = select(listMaps(), f, 'map');
  if (o.json) return out(io, jsonText(rows, o));
  let s = '';
  for (const r of rows) {
    s += `${r.id}: ${r.type}  name ${r.name}  flags 0x${r.flags.toString(16)}\n`;
    s += `\tkey ${r.bytes_key}B  value ${r.bytes_value}B  max_entries ${r.max_entries}  memlock ${r.bytes_memlock}B\n`;
    const tail = [r.btf_id ? `btf_id ${r.btf_id}` : '', r.frozen ? 'frozen' : ''].filter(Boolean).join('  ');
    if (tail) s += `\t${tail}\n`;
  }
  return out(io, s);
}

/** `sizeof(struct bpf_link_info)` in libbpf 1.1's uapi header. */
const LINK_INFO_SIZE = 48;


/** A link as `link show --kernel bpf -j` prints it: bpftool's keys, in its order. */
export interface LinkShowRow {
  id: number;
  type: string;
  prog_id: number;
  /** Iterator links: the target, then its parameters as bpftool prints them. */
  target_name?: string;
  /** bpf_map_elem, bpf_sk_storage_map. */
  map_id?: number;
  /** task, task_file, task_vma with `linfo.task.tid` (shown instead of pid, as bpftool does). */
  tid?: number;
  /** task, task_file, task_vma with `linfo.task.pid`. */
  pid?: number;
  /** cgroup: the start cgroup. */
  cgroup_id?: number;
  /** cgroup: `enum bpf_cgroup_iter_order`, bpftool's name. */
  order?: string;
}

/**
 * The row of link fd `fd`. The type comes first from a bare info call
 * (every link type accepts one with no buffers); only an iterator link is
 * asked again with a buffer for its target name. Other link types show
 * their id, type and program.
 */
function linkRow(fd: number): LinkShowRow {
  const head = objInfo(fd, LINK_INFO_SIZE);
  const type = head.readUInt32LE(0);
  const row: LinkShowRow = { id: head.readUInt32LE(4), type: BPF_LINK_TYPES[type] ?? String(type), prog_id: head.readUInt32LE(8) };
  if (type !== BPF_LINK_TYPE_ITER) return row;
  const { iter } = kernelLinkInfo(fd);
  const t = iter.target_name;
  row.target_name = t;
  if (t === 'bpf_map_elem' || t === 'bpf_sk_storage_map') row.map_id = iter.map.map_id;
  else if (t === 'task' || t === 'task_file' || t === 'task_vma') {
    if (iter.task.tid) row.tid = iter.task.tid;
    else if (iter.task.pid) row.pid = iter.task.pid;
  }
  if (t === 'cgroup') {
    row.cgroup_id = Number(iter.cgroup.cgroup_id);
    // bpftool's names: the kernel's, with 0 as order_unspec.
    row.order = iter.cgroup.order === 0 ? 'order_unspec' : (CGROUP_ORDER_NAMES[iter.cgroup.order] ?? 'unknown');
  }
  return row;
}

/** The real kernel's links in id order, or the one of `id` (ENOENT when there is none, as bpftool). */
export function listLinks(id?: number): LinkShowRow[] {
  if (id !== undefined) {
    const row = withKernelObject('link', id, linkRow);
    if (!row) fail('ENOENT', `no link with id ${id}`);
    return [row];
  }
  const rows: LinkShowRow[] = [];
  for (const i of kernelIds('link')) {
    const row = withKernelObject('link', i, linkRow);
    if (row) rows.push(row);
  }
  return rows;
}

/** bpftool's plain line of a link: `ID: iter  prog P  target_name T  pid N ` (its spacing). */
export function formatKernelLink(r: LinkShowRow): string {
  let s = `${r.id}: ${r.type}  prog ${r.prog_id}  `;
  if (r.target_name !== undefined) {
    s += `target_name ${r.target_name}  `;
    if (r.map_id !== undefined) s += `map_id ${r.map_id}  `;
    if (r.tid !== undefined) s += `tid ${r.tid} `;
    if (r.pid !== undefined) s += `pid ${r.pid} `;
    if (r.cgroup_id !== undefined) s += `cgroup_id ${r.cgroup_id}  order ${r.order}  `;
  }
  return `${s}\n`;
}

/** `bpf-iter link show --kernel bpf [id ID] [-j]`. */
export async function kernelLinkShowCommand(io: CliIo, o: OutputOptions, f?: ShowFilter): Promise<void> {
  const rows = listLinks(f ? Number(f.value) : undefined);
  return out(io, o.json ? jsonText(rows, o) : rows.map(formatKernelLink).join(''));
}
