/**
 * `bpf-iter link show [--json]`: the live iterator links — in a CLI process
 * the pinned ones, restored — printed like `bpftool link show`.
 */
import { BpfIterLink } from '../link.js';
import { escapeText, out, type CliIo } from './common.js';
import { jsonText, type OutputOptions } from './output.js';
import { CliState, type StateProblem } from './state.js';

/** One link as `link show --json` prints it. */
export interface LinkShowEntry {
  id: number;
  type: string;
  prog_id: number;
  prog_name: string;
  prog_tag: string;
  target_name: string;
  task_type?: string;
  pid?: number;
  tid?: number;
  map_id?: number;
  cgroup_id?: number;
  cgroup_path?: string;
  order?: string;
  kernel: string;
  pinned: string[];
}

/** Parses the target lines of the link's fdinfo (`task_type:\tPID`, `order: pre`...). */
function fdinfoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** Describes the links pinned in `st`, by link id. */
export function describeLinks(st: CliState): LinkShowEntry[] {
  const byLink = new Map<BpfIterLink, string[]>();
  for (const p of st.pinPaths()) {
    const l = st.fs.stat(p)?.link;
    if (l instanceof BpfIterLink) byLink.set(l, [...(byLink.get(l) ?? []), p]);
  }
  const rows: LinkShowEntry[] = [];
  for (const [l, paths] of byLink) {
    const info = l.info();
    const fd = fdinfoFields(l.fdinfo());
    const e: LinkShowEntry = {
      id: l.id,
      type: l.link_type,
      prog_id: info.prog_id,
      prog_name: l.prog.kernelName,
      prog_tag: l.prog.tag,
      target_name: l.target,
      kernel: st.meta.get(paths[0]!)?.kernel ?? 'synthetic:1',
      pinned: paths,
    };
    if (fd.has('task_type')) {
      e.task_type = fd.get('task_type')!;
      if (info.iter.task.pid) e.pid = info.iter.task.pid;
      if (info.iter.task.tid) e.tid = info.iter.task.tid;
    }
    if (l.target === 'bpf_map_elem') e.map_id = info.iter.map.map_id;
    if (l.target === 'cgroup') {
      e.cgroup_id = Number(info.iter.cgroup.cgroup_id);
      e.cgroup_path = fd.get('cgroup_path') ?? '';
      e.order = fd.get('order') ?? '';
    }
    rows.push(e);
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** bpftool's text form: `ID: iter  prog ID  target_name T  pid N`, then name, kernel and pin lines; names escaped. */
export function formatLink(e: LinkShowEntry): string {
  let s = `${e.id}: ${e.type}  prog ${e.prog_id}  target_name ${escapeText(e.target_name)}`;
  if (e.task_type !== undefined) s += `  task_type ${e.task_type}`;
  if (e.pid !== undefined) s += `  pid ${e.pid}`;
  if (e.tid !== undefined) s += `  tid ${e.tid}`;
  if (e.map_id !== undefined) s += `  map_id ${e.map_id}`;
  if (e.cgroup_id !== undefined) s += `  cgroup_id ${e.cgroup_id}  cgroup_path ${escapeText(e.cgroup_path ?? '')}  order ${e.order}`;
  s += `\n\tprog_name ${escapeText(e.prog_name)}  tag ${e.prog_tag}  kernel ${escapeText(e.kernel)}\n`;
  for (const p of e.pinned) s += `\tpinned ${escapeText(p)}\n`;
  return s;
}

/** One line for a bad state entry: where it is, why, and how to remove it. */
export function problemLine(st: CliState, p: StateProblem): string {
  const what = p.path !== undefined ? `${p.where === 'dirs' ? 'directory' : 'pin'} ${p.path}` : p.where;
  const fix = p.path !== undefined ? `skipped (bpf-iter rm ${p.path} removes it)` : 'skipped (dropped at the next change)';
  return `bpf-iter: Warning: state file ${escapeText(st.file)}: bad entry ${escapeText(what)}: ${escapeText(p.error.message)}; ${escapeText(fix)}`;
}

/** `bpf-iter link show`. */
export async function linkShowCommand(io: CliIo, o: OutputOptions): Promise<void> {
  const st = await CliState.load(io);
  try {
    // Listing still works when a pin cannot be restored; say which and why.
    for (const b of st.problems()) io.stderr.write(problemLine(st, b) + '\n');
    const rows = describeLinks(st);
    await out(io, o.json ? jsonText(rows, o) : rows.map(formatLink).join(''));
  } finally {
    st.dispose();
  }
}
