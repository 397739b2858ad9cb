/**
 * `bpf-iter targets [--json]`: the registered targets, their ctx fields and
 * the link parameters they accept.
 */
import { BPF_ITER_RESCHED } from '../constants.js';
import { findTarget, listTargets } from '../registry.js';
import '../targets/index.js';
import { out, type CliIo } from './stream.js';
import { jsonText, type OutputOptions } from './output.js';

/** Which link parameters a target accepts (`union bpf_iter_link_info` member). */
export type LinkParamKind = 'task' | 'map' | 'cgroup' | 'none';

/**
 * The one table the CLI keeps about targets: the scalar ctx fields (not in
 * `ctx_arg_info`, which lists only the pointer fields) with their offsets
 * in `struct bpf_iter__<target>`, and the link parameters. Read from each
 * target file's ctx interface.
 */
const TARGET_TABLE: Record<string, { scalars?: readonly { field: string; offset: number; type: string }[]; params: LinkParamKind }> = {
  task: { params: 'task' },
  task_file: { scalars: [{ field: 'fd', offset: 16, type: 'u32' }], params: 'task' },
  task_vma: { params: 'task' },
  tcp: { scalars: [{ field: 'uid', offset: 16, type: 'uid_t' }], params: 'none' },
  udp: {
    scalars: [
      { field: 'uid', offset: 16, type: 'uid_t' },
      { field: 'bucket', offset: 20, type: 'int' },
    ],
    params: 'none',
  },
  unix: { scalars: [{ field: 'uid', offset: 16, type: 'uid_t' }], params: 'none' },
  bpf_map_elem: { scalars: [{ field: 'map', offset: 8, type: 'struct bpf_map *' }], params: 'map' },
  bpf_sk_storage_map: { scalars: [{ field: 'map', offset: 8, type: 'struct bpf_map *' }], params: 'map' },
  sockmap: { scalars: [{ field: 'map', offset: 8, type: 'struct bpf_map *' }], params: 'map' },
  cgroup: { params: 'cgroup' },
};

/** The link parameter kind of a target (`none` for unknown targets). */
export function linkParamsOf(target: string): LinkParamKind {
  return TARGET_TABLE[target]?.params ?? 'none';
}

/** One ctx field of a target. */
export interface CtxField {
  field: string;
  offset: number;
  /** BTF type (`task_struct *`), a scalar type (`u32`), or a buffer. */
  type: string;
  /** True when the program must check it for NULL. */
  nullable: boolean;
}

/** What `targets` prints for one target. */
export interface TargetDescription {
  target: string;
  ctx: CtxField[];
  /** Link parameters as CLI options. */
  link_params: string[];
  /** `BPF_ITER_RESCHED`: sleepable programs may attach. */
  resched: boolean;
}

const PARAM_OPTIONS: Record<LinkParamKind, string[]> = {
  task: ['--pid N', '--tid N'],
  map: ['--map ID (required)'],
  cgroup: ['--cgroup PATH', '--order ORDER (required)'],
  none: [],
};

/** Describes every registered target (registration order). */
export function describeTargets(): TargetDescription[] {
  return listTargets().map((name) => {
    const reg = findTarget(name)!.reg;
    const ctx: CtxField[] = (reg.ctx_arg_info ?? []).map((a) => ({
      field: a.field,
      offset: a.offset,
      type: a.btf_type ? `${a.btf_type} *` : a.reg_type.startsWith('PTR_TO_BUF') ? 'void *' : 'ptr',
      nullable: /OR_NULL|MAYBE_NULL/.test(a.reg_type),
    }));
    for (const s of TARGET_TABLE[name]?.scalars ?? []) ctx.push({ ...s, nullable: false });
    ctx.sort((a, b) => a.offset - b.offset);
    return { target: name, ctx, link_params: PARAM_OPTIONS[linkParamsOf(name)], resched: ((reg.feature ?? 0) & BPF_ITER_RESCHED) !== 0 };
  });
}

/** `bpf-iter targets`: one line per target (`--json`: an array). */
export async function targetsCommand(io: CliIo, opts: OutputOptions): Promise<void> {
  const all = describeTargets();
  if (opts.json) return out(io, jsonText(all, opts));
  let s = '';
  for (const t of all) {
    const ctx = t.ctx.map((f) => `${f.field} (${f.type}${f.nullable ? ', nullable' : ''})`).join(', ');
    s += `${t.target}\n\tctx: meta, ${ctx}\n`;
    if (t.link_params.length) s += `\tlink: ${t.link_params.join(' | ')}\n`;
  }
  await out(io, s);
}
