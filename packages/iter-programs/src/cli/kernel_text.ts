/**
 * `cat TARGET --kernel bpf` for the targets whose default dumper an
 * in-kernel program prints byte for byte (`bpf/text_<target>.bpf.c`,
 * prebuilt with the bpf source's programs): the command streams that one
 * program's output, so it costs what the kernel walks — no model, no other
 * program loaded. Kept apart from `cat.ts` so this path loads only libbpf
 * and the object (`cli.ts` tries it before importing `cat.js`).
 */
import { join } from 'node:path';
import { buildBpfPrograms } from '@bpf-iter/core';
import type { IterOptions } from './cat.js';
import type { CliIo } from './stream.js';

/** Targets with an in-kernel text dumper. */
const KERNEL_TEXT: ReadonlySet<string> = new Set(['task_file']);

/**
 * The object `cat what --kernel bpf` streams from, or null when the command
 * needs the model (another target, `-j`, `--family`, or parameters other
 * than `--pid` / `--tid`).
 */
export function kernelTextObject(what: string, o: IterOptions): string | null {
  if (o.kernel !== 'bpf' || !KERNEL_TEXT.has(what) || o.json || o.family !== undefined || o.set?.length || o.prog !== undefined) return null;
  if (o.map !== undefined || o.cgroup !== undefined || o.order !== undefined) return null;
  return join(buildBpfPrograms(), `text_${what}.bpf.o`);
}

/** Streams the in-kernel dumper `obj` with the task parameters of `o`. */
export async function catKernelText(io: CliIo, obj: string, o: IterOptions): Promise<void> {
  const { runObjectCommand } = await import('./object.js');
  return runObjectCommand(io, obj, { ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.tid !== undefined ? { tid: o.tid } : {}) });
}
