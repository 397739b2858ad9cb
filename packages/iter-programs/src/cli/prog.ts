/**
 * `bpf-iter prog show` / `map show` on the real kernel, like bpftool: walk
 * the ids (`BPF_PROG_GET_NEXT_ID`), open each (`BPF_*_GET_FD_BY_ID`), read
 * `BPF_OBJ_GET_INFO_BY_FD`. `-j` prints a JSON array with bpftool's key
 * names. Objects that go away during the walk are skipped (ENOENT).
 */
import { readFileSync } from 'node:fs';
import { BPF_MAP_TYPES, BPF_PROG_TYPES, kernelFdinfo, kernelIds, objInfo, progMapIds, PROG_INFO_SIZE, withKernelObject } from '@bpf-iter/core';
import { out, type CliIo } from './common.js';
import { jsonText, type OutputOptions } from './output.js';
import { select, type ShowFilter } from './show.js';

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

/** A map as `map show -j` prints it. */
export interface MapShowRow {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
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
