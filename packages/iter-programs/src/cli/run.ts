/**
 * `bpf-iter run PROGRAM.{js,ts}`: loads the first (or `--prog`) iterator
 * program a module exports as a skeleton, applies `--set`, attaches it and
 * streams the output. `.ts` modules need tsx (`pnpm bpf-iter:src` runs under
 * it; for the built bin use `NODE_OPTIONS='--import tsx'`).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, withKernel, type Kernel } from '@bpf-iter/core';
import { openAndLoad } from '../libbpf.js';
import { isProgramSpec, parseIterSec, type BpfProgFd, type BpfProgramSpec } from '../program.js';
import { applySets, attachWith, kernelCache, paramsFromOpts, parseKernelSpec, streamIter, type CliIo } from './common.js';
import { moduleSha256, withOrigin } from './state.js';
import { isBpfObjectFile } from './real.js';
import type { IterOptions } from './cat.js';

/** A program found in a user module. */
export interface ModuleProgram {
  /** Absolute path of the module. */
  file: string;
  /** Export name of the program. */
  key: string;
  /** The spec, with `origin` set to the module and export. */
  spec: BpfProgramSpec;
  /** Target from the section. */
  target: string;
  /** sha256 of the module's bytes, taken before it was imported. */
  sha256: string;
  mod: Record<string, unknown>;
}

/** True when `s` names a program module rather than a target. */
export function isProgramFile(s: string): boolean {
  return /\.(m|c)?(js|ts)$/.test(s) || s.includes('/');
}

/**
 * Imports a program module and picks its program: `--prog NAME` (export
 * name or program name) or the first exported spec. ENOENT when the file,
 * or a program in it, is missing.
 */
export async function loadProgramModule(io: CliIo, file: string, progName?: string): Promise<ModuleProgram> {
  const abs = resolve(io.cwd ?? process.cwd(), file);
  if (!existsSync(abs)) fail('ENOENT', `no such file or directory: ${file}`);
  const sha256 = moduleSha256(abs);
  const mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  // A promise the module rejected without handling surfaces now (one error line, exit 1), before anything runs.
  await new Promise((r) => setImmediate(r));
  const progs = Object.entries(mod).filter((e): e is [string, BpfProgramSpec] => isProgramSpec(e[1]));
  if (progs.length === 0) fail('ENOENT', `can't find bpf program in ${file} (export one made with SEC())`);
  const hit = progName === undefined ? progs[0] : progs.find(([k, v]) => k === progName || v.name === progName);
  if (!hit) fail('ENOENT', `no program '${progName}' in ${file} (has: ${progs.map(([k]) => k).join(', ')})`);
  const [key, spec] = hit;
  const sec = parseIterSec(spec.sec);
  if (!sec) fail('EINVAL', `prog '${spec.name}': missing BPF prog type, check ELF section name '${spec.sec}'`);
  return { file: abs, key, spec: spec.origin ? spec : withOrigin(spec, { module: abs, export: key }), target: sec.target, sha256, mod };
}

/** A loaded skeleton of the picked program with `--set` applied; call `destroy()` when done. */
export function openSkeleton(mp: ModuleProgram, kernel: Kernel, sets: readonly string[]): { prog: BpfProgFd; destroy(): void } {
  const pick = (k: string) => mp.mod[k];
  // Only the picked program is loaded: another program of the module may target something else.
  const skel = withKernel(kernel, () => openAndLoad({ [mp.key]: mp.spec, bss: pick('bss'), data: pick('data'), rodata: pick('rodata') }));
  try {
    applySets(skel, sets);
  } catch (e) {
    skel.destroy();
    throw e;
  }
  return { prog: skel.progs[mp.key]!.prog!, destroy: () => skel.destroy() };
}

/** `bpf-iter run`. */
export async function runCommand(io: CliIo, file: string, o: IterOptions): Promise<void> {
  if (isBpfObjectFile(file)) return (await import('./object.js')).runObjectCommand(io, file, o);
  if (o.json) fail('EINVAL', '-j/--json applies to targets (their JSON dumpers): a program module prints its own output');
  const mp = await loadProgramModule(io, file, o.prog);
  const kernel = kernelCache(io).get(parseKernelSpec(o.kernel), mp.target);
  const skel = openSkeleton(mp, kernel, o.set ?? []);
  try {
    const link = attachWith(skel.prog, paramsFromOpts(o), kernel);
    try {
      await streamIter(io, link.open());
    } finally {
      link.close();
    }
  } finally {
    skel.destroy();
  }
}
