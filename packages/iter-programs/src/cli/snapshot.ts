/**
 * `bpf-iter snapshot save|info|diff`: a kernel saved to a file (core's
 * snapshot format, docs/snapshots.md) and replayed anywhere with
 * `--kernel snapshot:FILE`.
 */
import { createRedactor, diffKernels, DIFF_KINDS, loadKernel, openHost, readSnapshotInfo, saveKernel, type Kernel } from '@bpf-iter/core';
import { escapeText, kernelCache, out, parseKernelSpec, readBpfFor, type CliIo } from './common.js';
import { jsonText, type OutputOptions } from './output.js';

/** Options of `snapshot save`. */
export interface SnapshotSaveOptions {
  kernel?: string;
  /** Comma-separated fields to pseudonymise: comm, paths, addresses. */
  redact?: string;
}

/**
 * The kernel `snapshot save` writes: all of it (a live one with every kind,
 * not per target). The host is the lazy source `cat --kernel host` reads:
 * the save reads each table and address space as it reaches it.
 */
function kernelToSave(io: CliIo, spec: string): Kernel {
  if (spec === 'host') return openHost();
  if (spec === 'bpf') return readBpfFor(undefined);
  return kernelCache(io).get(spec);
}

/** `bpf-iter snapshot save FILE`: writes the kernel (`--kernel`, default synthetic) to FILE, atomically. */
export async function snapshotSaveCommand(io: CliIo, file: string, o: SnapshotSaveOptions): Promise<void> {
  const spec = parseKernelSpec(o.kernel);
  const redactor = o.redact === undefined ? undefined : createRedactor({ fields: o.redact.split(',').map((s) => s.trim()).filter(Boolean) });
  const kernel = kernelToSave(io, spec);
  const seed = /^synthetic:(\d+)$/.exec(spec);
  await saveKernel(kernel, file, { ...(seed ? { source: spec } : {}), ...(redactor ? { redactor } : {}) });
}

/**
 * `bpf-iter snapshot info FILE`: source, machine, kernel release and time
 * (the header's record of where the snapshot came from) and the counts per
 * kind of what the file holds: the whole file is loaded and checked, the
 * counts counted while loading (a header claiming other counts is EINVAL).
 */
export async function snapshotInfoCommand(io: CliIo, file: string, o: OutputOptions): Promise<void> {
  const { header: h, counts } = await readSnapshotInfo(file);
  const { k: _k, counts: _claimed, ...info } = h;
  if (o.json) return out(io, jsonText({ ...info, counts }, o));
  const lines = [
    `format:   ${h.format} version ${h.version}`,
    `source:   ${escapeText(h.source)}`,
    `machine:  ${h.machine !== undefined ? escapeText(h.machine) : '-'}`,
    `release:  ${h.release !== undefined ? escapeText(h.release) : '-'}`,
    `time:     ${escapeText(h.time)}`,
    ...(h.redacted?.length ? [`redacted: ${h.redacted.map(escapeText).join(',')}`] : []),
    'counts:',
    ...Object.entries(counts).map(([kind, n]) => `  ${kind.padEnd(12)} ${n}`),
  ];
  await out(io, lines.join('\n') + '\n');
}

/** `bpf-iter snapshot diff A B`: per kind, the objects that appeared in B, vanished from A, or changed. */
export async function snapshotDiffCommand(io: CliIo, a: string, b: string, o: OutputOptions): Promise<void> {
  const [ka, kb] = await Promise.all([loadKernel(a), loadKernel(b)]);
  const d = diffKernels(ka, kb);
  if (o.json) return out(io, jsonText(d, o));
  const lines: string[] = [];
  for (const kind of DIFF_KINDS) {
    const x = d[kind]!;
    lines.push(`${kind.padEnd(10)} ${x.appeared.length} appeared, ${x.vanished.length} vanished, ${x.changed.length} changed`);
  }
  for (const kind of DIFF_KINDS) {
    const x = d[kind]!;
    for (const key of x.appeared) lines.push(`+ ${kind} ${escapeText(key)}`);
    for (const key of x.vanished) lines.push(`- ${kind} ${escapeText(key)}`);
    for (const c of x.changed) lines.push(`~ ${kind} ${escapeText(c.key)}: ${escapeText(JSON.stringify(c.a))} -> ${escapeText(JSON.stringify(c.b))}`);
  }
  await out(io, lines.join('\n') + '\n');
}
