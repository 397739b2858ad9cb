/**
 * `bpf-iter prog show` and `bpf-iter map show` of a model kernel
 * (`--kernel synthetic[:SEED]|host`; the real kernel's are in `prog.ts`),
 * printed like `bpftool prog show` / `bpftool map show`: the kernel's own
 * programs and maps, plus the programs the persisted pins hold loaded.
 * `[id ID | name NAME | tag TAG]` selects like bpftool's PROG/MAP argument
 * (for the real kernel too).
 */
import { fail, type Kernel } from '@bpf-iter/core';
import { escapeText, out, parseKernelSpec, type CliIo, type KernelSpec } from './common.js';
import { jsonText, type OutputOptions } from './output.js';
import { CliState } from './state.js';

/** One program as `prog show -j` prints it (bpftool's key names). */
export interface ProgShowEntry {
  id: number;
  type: string;
  name: string;
  tag: string;
  /** BTF function a tracing program attaches to (`bpf_iter_task`). */
  attach_func_name?: string;
  uid: number;
}

/** One map as `map show -j` prints it (bpftool's key names). */
export interface MapShowEntry {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
}

/** bpftool's PROG/MAP selector: `id ID`, `name NAME`, `tag TAG` (progs). EINVAL for anything else. */
export interface ShowFilter {
  by: 'id' | 'name' | 'tag';
  value: string;
}

/** Parses `[id ID | name NAME | tag TAG]`. */
export function parseShowFilter(args: readonly string[], kinds: readonly ShowFilter['by'][]): ShowFilter | undefined {
  if (args.length === 0) return undefined;
  const [by, value] = args;
  if (args.length !== 2 || !kinds.includes(by as ShowFilter['by'])) fail('EINVAL', `expected ${kinds.map((k) => `${k} ${k.toUpperCase()}`).join(' | ')}, not '${args.join(' ')}'`);
  if (by === 'id' && !/^\d+$/.test(value!)) fail('EINVAL', `id must be a u32, not '${value}'`);
  return { by: by as ShowFilter['by'], value: value! };
}

/** The programs of `k` in id order. */
export function describeProgs(k: Kernel): ProgShowEntry[] {
  const rows: ProgShowEntry[] = [];
  for (const [id, p] of k.progs.entries()) {
    rows.push({ id, type: p.typeName, name: p.name, tag: p.tag, ...(p.attach_func_name ? { attach_func_name: p.attach_func_name } : {}), uid: p.uid });
  }
  return rows;
}

/** The maps of `k` in id order. */
export function describeMaps(k: Kernel): MapShowEntry[] {
  const rows: MapShowEntry[] = [];
  for (const [id, m] of k.maps.entries()) {
    rows.push({ id, type: m.typeName, name: m.name, flags: m.map_flags, bytes_key: m.key_size, bytes_value: m.value_size, max_entries: m.max_entries });
  }
  return rows;
}

/** `ID: TYPE  name NAME  tag TAG` then `\tuid N`, like bpftool (names escaped). */
export function formatProg(p: ProgShowEntry): string {
  let s = `${p.id}: ${p.type}  name ${escapeText(p.name)}  tag ${p.tag}\n`;
  s += p.attach_func_name ? `\tattach_func_name ${escapeText(p.attach_func_name)}  uid ${p.uid}\n` : `\tuid ${p.uid}\n`;
  return s;
}

/** `ID: TYPE  name NAME  flags 0xF` then `\tkey KB  value VB  max_entries N`, like bpftool. */
export function formatMap(m: MapShowEntry): string {
  return `${m.id}: ${m.type}  name ${escapeText(m.name)}  flags 0x${m.flags.toString(16)}\n\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}\n`;
}

/** The rows `f` selects; ENOENT when it selects none (bpftool: no such id, name or tag). */
export function select<T extends { id: number; name: string; tag?: string }>(rows: T[], f: ShowFilter | undefined, what: string): T[] {
  if (!f) return rows;
  const hit = rows.filter((r) => (f.by === 'id' ? r.id === Number(f.value) : f.by === 'name' ? r.name === f.value : r.tag === f.value));
  // bpftool: a missing id is an error; names and tags may match several.
  if (hit.length === 0) fail('ENOENT', `no ${what} with ${f.by} ${f.value}`);
  return hit;
}

/** Runs `fn` on the kernel `--kernel` names, with the persisted pins restored into it (their programs are loaded). */
async function withKernelOf<T>(io: CliIo, spec: KernelSpec, target: string, fn: (k: Kernel) => T): Promise<T> {
  const st = await CliState.load(io);
  try {
    return fn(st.kernels.get(spec, target));
  } finally {
    st.dispose();
  }
}

/** `bpf-iter prog show [id ID | name NAME | tag TAG] --kernel MODEL`. */
export async function progShowCommand(io: CliIo, f: ShowFilter | undefined, o: OutputOptions & { kernel?: string }): Promise<void> {
  const rows = select(await withKernelOf(io, parseKernelSpec(o.kernel), 'bpf_prog', describeProgs), f, 'program');
  await out(io, o.json ? jsonText(rows, o) : rows.map(formatProg).join(''));
}

/** `bpf-iter map show [id ID | name NAME] --kernel MODEL`. */
export async function mapShowCommand(io: CliIo, f: ShowFilter | undefined, o: OutputOptions & { kernel?: string }): Promise<void> {
  const rows = select(await withKernelOf(io, parseKernelSpec(o.kernel), 'bpf_map', describeMaps), f, 'map');
  await out(io, o.json ? jsonText(rows, o) : rows.map(formatMap).join(''));
}
