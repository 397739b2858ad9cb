/**
 * `cat TARGET --kernel bpf` for the targets whose default dumper an
 * in-kernel program prints byte for byte (`bpf/text_<target>.bpf.c`,
 * prebuilt with the bpf source's programs): the command streams that one
 * program's output, so it costs what the kernel walks — no model, no other
 * program loaded. Kept apart from `cat.ts` so this path loads only libbpf
 * and the object (`cli.ts` tries it before importing `cat.js`).
 *
 * The object is loaded through a light-skeleton loader (the kernel relocates
 * it against its own BTF: no 5.5 MB vmlinux BTF parsed here); where the
 * kernel cannot run the loader, through libbpf (`bpf-iter run OBJ`'s path),
 * which reports its own errors.
 */
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { buildBpfPrograms, fail } from '@bpf-iter/core';
import { attachLightIter, createIterFd, loadLightObject, type LightObject } from '@bpf-iter/core/internal';
import { KernelIterFd } from '../kernel_iter.js';
import { linkInfoBytes } from '../link_info.js';
import type { IterOptions } from './cat.js';
import { streamIter, type CliIo } from './stream.js';

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
  if (o.pid !== undefined && o.tid !== undefined) fail('EINVAL', '--pid, --tid and --pid-fd are exclusive');
  let light: LightObject;
  try {
    light = loadLightObject(obj);
  } catch {
    // The kernel refused the loader (no syscall programs or in-kernel CO-RE, or the verifier):
    // libbpf loads the object itself and, if that fails too, says why.
    const { runObjectCommand } = await import('./object.js');
    return runObjectCommand(io, obj, { ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.tid !== undefined ? { tid: o.tid } : {}) });
  }
  try {
    const task = o.tid !== undefined ? { tid: o.tid } : o.pid !== undefined ? { pid: o.pid } : null;
    const { bytes, len } = linkInfoBytes(task ? { task } : null);
    const linkFd = attachLightIter(light.firstIterProgram(), bytes, len);
    try {
      await streamIter(io, new KernelIterFd(createIterFd(linkFd)));
    } finally {
      closeSync(linkFd);
    }
  } finally {
    light.close();
  }
}
