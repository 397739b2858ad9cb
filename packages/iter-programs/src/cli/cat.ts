/**
 * `bpf-iter cat TARGET|PATH`: runs a target's default (or JSON) dumper
 * (`cat_target.ts`), or opens a pinned iterator, and streams the output to
 * stdout.
 */
import { fail } from '@bpf-iter/core';
import { CliState } from './state.js';
import { catKernelText, kernelTextObject } from './kernel_text.js';
import { isBpffsPath } from './bpffs_path.js';
import { catTargetCommand, type IterOptions } from './cat_target.js';
import { kernelCache, paramsFromOpts, streamIter, type CliIo, type LinkParams } from './common.js';

export { dumperBss, targetDumper, type IterOptions } from './cat_target.js';
export { isBpffsPath } from './bpffs_path.js';

function linkOptionsGiven(p: LinkParams, o: IterOptions): boolean {
  return Object.keys(p).length > 0 || o.family !== undefined || o.json === true || o.kernel !== undefined;
}

/** `bpf-iter cat`. */
export async function catCommand(io: CliIo, what: string, o: IterOptions): Promise<void> {
  if (isBpffsPath(what)) {
    // A pin's program and parameters were fixed when it was pinned.
    if (linkOptionsGiven(paramsFromOpts(o), o)) fail('EINVAL', `${what} is a pin: its program, parameters and kernel were fixed by 'pin'`);
    const st = await CliState.load(io, { run: what });
    try {
      const path = st.fs.realpath(what);
      st.checkUsable(path);
      await streamIter(io, st.fs.open(path));
    } finally {
      st.dispose();
    }
    return;
  }
  const text = kernelTextObject(what, o);
  if (text) return catKernelText(io, text, o);
  return catTargetCommand(io, what, o, kernelCache(io));
}
