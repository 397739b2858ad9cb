/**
 * Iterator programs as sample sources: every collection loads the program
 * into the kernel of the moment, attaches it, reads one session to EOF and
 * parses its output lines as samples (see `samples.ts`). The program, link
 * and fd are destroyed exactly once, on success and on error. Lines are
 * summed per series while they are read: a collection holds one object per
 * series, not per line.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Kernel } from '@bpf-iter/core';
import { attachIter, loadProgram, type BpfGlobals, type BpfIterLinkInfoInit, type BpfProgramSpec, type IterFdBase } from '@bpf-iter/iter-programs';
import type { MetricInfo, SampleSource } from './records.js';
import type { Sample } from './samples.js';
import { SeriesSums, SeriesTexts } from './series.js';

/**
 * Reads a session's output lines as samples, summed per series as they are
 * read (one sample per series comes back); closes the fd. EINVAL for a line
 * that is not a sample. `texts`: series texts parsed by earlier reads (a
 * source's own {@link SeriesTexts}), so only new series are parsed.
 */
export function readSamples(fd: IterFdBase, texts?: SeriesTexts): Sample[] {
  const sums = new SeriesSums(texts);
  const dec = new StringDecoder('utf8');
  try {
    let rest = '';
    for (const c of fd.chunks()) rest = sums.addText(rest + dec.write(c));
    rest += dec.end();
    // A last line without its newline is a line too.
    if (rest !== '') sums.addLine(rest);
  } finally {
    fd.closeQuietly();
  }
  return sums.samples();
}

/** Something that opens an iterator session: a link (modelled or real), or a factory of fds. */
export interface SessionOpener {
  open(): IterFdBase;
}

/**
 * A source reading a session of `link` per collection: for a link that
 * stays attached (a pinned or real-kernel link, `KernelIterLink`).
 * @example
 * const src = sessionSource(attachIter(obj.program('dump_tasks')));
 */
export function sessionSource(link: SessionOpener, metrics: readonly MetricInfo[] = []): SampleSource {
  const texts = new SeriesTexts();
  return { metrics, collect: async () => readSamples(link.open(), texts) };
}

/** Options of {@link programSource}. */
export interface ProgramSourceOptions {
  /** Global data given to `loadProgram`. */
  globals?: Partial<BpfGlobals>;
  /** `union bpf_iter_link_info` for `attachIter`. */
  linkInfo?: BpfIterLinkInfoInit;
  /** The metrics the program emits (help texts, kinds, top-N); others get a generic help. */
  metrics?: readonly MetricInfo[];
}

/**
 * A source running a modelled iterator program over `kernel()` (called per
 * collection: a host or bpf kernel is read afresh each time).
 * @example
 * const src = programSource(SEC('iter/task', function tasks(ctx) {
 *   if (ctx.task) bpf_seq_write(ctx.meta.seq, sampleLine('tasks', { state: ctx.task.state }, 1));
 *   return 0;
 * }, { helpers: ['bpf_seq_write'] }), () => kernel);
 */
export function programSource(spec: BpfProgramSpec, kernel: () => Kernel, opts: ProgramSourceOptions = {}): SampleSource {
  const texts = new SeriesTexts();
  return {
    metrics: opts.metrics ?? [],
    collect: async () => readProgramSamples(spec, kernel(), opts, texts),
  };
}

/**
 * One session of a modelled iterator program over `k`, read as samples
 * summed per series (what a {@link programSource} collection does): the
 * program is loaded, attached, read to EOF, and its link, fd and program
 * destroyed exactly once. `texts`: series texts parsed by earlier reads.
 * @example
 * const samples = readProgramSamples(tasksProgram, syntheticKernel({ seed: 1 }));
 */
export function readProgramSamples(spec: BpfProgramSpec, k: Kernel, opts: ProgramSourceOptions = {}, texts?: SeriesTexts): Sample[] {
  const prog = loadProgram(spec, { kernel: k, globals: opts.globals ?? {} });
  let link;
  try {
    link = attachIter(prog, { kernel: k, linkInfo: opts.linkInfo ?? null });
  } finally {
    prog.put();
  }
  try {
    return readSamples(link.open(), texts);
  } finally {
    link.close();
  }
}
