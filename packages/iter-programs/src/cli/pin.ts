/**
 * `bpf-iter pin PROGRAM|TARGET PATH`, `rm PATH`, `mkdir PATH`: bpffs
 * operations persisted in the state file. Path rules (EEXIST, ENOENT for a
 * missing directory, EPERM outside the mount or for a `.` in a name) are
 * bpffs's own.
 */
import { fail } from '@bpf-iter/core';
import type { BpfIterLink } from '../link.js';
import { applySets, attachWith, checkPinName, loadAndAttach, paramsFromOpts, parseKernelSpec, type CliIo } from './common.js';
import { dumperBss, targetDumper, type IterOptions } from './cat.js';
import { isProgramFile, loadProgramModule, openSkeleton } from './run.js';
import { CliState } from './state.js';
import { isBpfObjectFile } from './real.js';

/** Runs `fn` on the restored state under the writers' lock and saves it if `fn` succeeded. */
const withState = (io: CliIo, fn: (st: CliState) => void | Promise<void>): Promise<void> => CliState.update(io, fn);

/** `bpf-iter pin`: attaches a program (or a target's dumper) and pins the link at `path`. */
export async function pinCommand(io: CliIo, what: string, path: string, o: IterOptions): Promise<void> {
  // A BPF object is pinned on the real bpffs, like `iter pin`.
  if (isBpfObjectFile(what)) return (await import('./object.js')).iterPinCommand(io, what, path, [], o);
  const kspec = parseKernelSpec(o.kernel);
  const params = paramsFromOpts(o);
  checkPinName(path);
  await withState(io, async (st) => {
    path = st.fs.realpath(path);
    st.checkFree(path);
    let link: BpfIterLink;
    let sha256: string | undefined;
    if (isProgramFile(what)) {
      if (o.json || o.family !== undefined) fail('EINVAL', '-j/--json and --family apply to targets (their dumpers), not program modules');
      const mp = await loadProgramModule(io, what, o.prog);
      sha256 = mp.sha256;
      const kernel = st.kernels.get(kspec, mp.target);
      const skel = openSkeleton(mp, kernel, o.set ?? []);
      try {
        link = attachWith(skel.prog, params, kernel);
      } finally {
        skel.destroy();
      }
    } else {
      const spec = targetDumper(what, o.json);
      const globals = { bss: dumperBss(what, o), data: {} };
      applySets(globals, o.set ?? []);
      link = loadAndAttach(spec, params, st.kernels.get(kspec, what), globals);
    }
    try {
      // bpftool: the pin keeps the link alive; our handle is dropped.
      st.fs.pin(link, path);
    } finally {
      link.close();
    }
    st.meta.set(path, { kernel: kspec, params, ...(sha256 ? { sha256 } : {}) });
  });
}

/** `bpf-iter rm PATH`: unpins (the link goes when nothing else holds it). */
export async function rmCommand(io: CliIo, path: string): Promise<void> {
  await withState(io, (st) => {
    // A broken entry is removed by the path it has in the file (it may not walk: `/etc/x`).
    if (st.removeBroken(path)) return;
    const p = st.fs.realpath(path);
    if (st.removeBroken(p)) return;
    st.fs.rm(p);
    st.meta.delete(p);
  });
}

/** `bpf-iter mkdir PATH [-p]`. */
export async function mkdirCommand(io: CliIo, path: string, o: { parents?: boolean }): Promise<void> {
  checkPinName(path);
  await withState(io, (st) => {
    const p = st.fs.realpath(path);
    st.checkFree(p);
    st.fs.mkdir(p, { recursive: o.parents === true });
  });
}
