/**
 * The default metric set: one iterator program per built-in target, each
 * writing sample lines that the collector sums per series. Only what the
 * kernel model knows is reported: there is no RSS (the model has VMAs, not
 * page counts), so per-process memory is the mapped size of the VMAs.
 */
import { AF_INET6, type Kernel, type Socket, type Task } from '@bpf-iter/core';
import { bpf_seq_write, defineProgram, type BpfProgramSpec } from '@bpf-iter/iter-programs';
import { readProgramSamples } from './program.js';
import type { MetricInfo, SampleSource } from './records.js';
import { sampleLine, seriesText } from './samples.js';
import { SeriesTexts } from './series.js';

/** Default top-N of the per-process metrics. */
export const DEFAULT_TOP_N = 20;

/** `include/net/tcp_states.h` names (unix sockets use CLOSE, LISTEN, ESTABLISHED too). */
export const TCP_STATE_NAMES: Readonly<Record<number, string>> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
  13: 'BOUND_INACTIVE',
};

const stateName = (n: number): string => TCP_STATE_NAMES[n] ?? String(n);

/** The default metrics' names, help texts and caps (Prometheus names; see docs/metrics.md). */
export function defaultMetricInfos(topN = DEFAULT_TOP_N): MetricInfo[] {
  return [
    { name: 'bpf_iter_tasks', help: 'tasks (threads) by state letter, from the task iterator' },
    { name: 'bpf_iter_process_threads', help: `threads per process (top ${topN}), from the task iterator`, topN },
    { name: 'bpf_iter_process_fds', help: `open fds per process (top ${topN}), from the task_file iterator`, topN },
    { name: 'bpf_iter_process_vmas', help: `VMAs per process (top ${topN}), from the task_vma iterator`, topN },
    { name: 'bpf_iter_process_vma_bytes', help: `mapped bytes (sum of VMA sizes, not RSS) per process (top ${topN}), from the task_vma iterator`, topN },
    { name: 'bpf_iter_sockets', help: 'sockets by protocol, family, state and local port, from the tcp, udp and unix iterators' },
    { name: 'bpf_iter_kmem_cache_active_objects', help: 'active objects per slab cache, from the kmem_cache iterator' },
    { name: 'bpf_iter_kmem_cache_objects', help: 'allocated objects per slab cache, from the kmem_cache iterator' },
  ];
}

const opts = { helpers: ['bpf_seq_write'] };
const emit = (ctx: { meta: { seq: never } }, name: string, labels: Record<string, string | number>, v: number): void => {
  bpf_seq_write(ctx.meta.seq, sampleLine(name, labels, v));
};

/** `bpf_iter_tasks{state="S"} 1`, built once per state letter (a handful: the map stays small). */
const stateLines = new Map<string, string>();
function stateLine(state: string): string {
  let l = stateLines.get(state);
  if (l === undefined) {
    l = sampleLine('bpf_iter_tasks', { state }, 1);
    if (stateLines.size < 64) stateLines.set(state, l);
  }
  return l;
}

/**
 * One per-process metric's series text, kept for the process met last: a
 * walk gives a process's fds (and VMAs) one after another, so the text is
 * built once per process, not once per fd. Keyed by the label values, so a
 * renamed process gets a new text.
 */
class ProcessSeries {
  private tgid = -1;
  private comm = '';
  private text = '';
  /** `text + ' 1\n'`, the line of a count. */
  private one = '';
  constructor(readonly name: string) {}
  private of(t: Task): void {
    const tgid = t.tgid;
    const comm = t.group_leader.comm;
    if (tgid !== this.tgid || comm !== this.comm || this.text === '') {
      this.tgid = tgid;
      this.comm = comm;
      this.text = seriesText(this.name, { tgid, comm });
      this.one = `${this.text} 1\n`;
    }
  }
  /** The sample line adding `v` for `t`'s process. */
  line(t: Task, v: number): string {
    this.of(t);
    return v === 1 ? this.one : `${this.text} ${v}\n`;
  }
}
const processThreads = new ProcessSeries('bpf_iter_process_threads');
const processFds = new ProcessSeries('bpf_iter_process_fds');
const processVmas = new ProcessSeries('bpf_iter_process_vmas');
const processVmaBytes = new ProcessSeries('bpf_iter_process_vma_bytes');

/** `iter/task`: one line per thread for its state, one for its process. */
export const tasksProgram: BpfProgramSpec = defineProgram({
  name: 'metrics_task',
  sec: 'iter/task',
  ...opts,
  fn(ctx: any) {
    const t: Task | null = ctx.task;
    if (!t) return 0;
    bpf_seq_write(ctx.meta.seq, stateLine(t.state));
    bpf_seq_write(ctx.meta.seq, processThreads.line(t, 1));
    return 0;
  },
});

/** `iter/task_file`: one line per open fd. */
export const filesProgram: BpfProgramSpec = defineProgram({
  name: 'metrics_task_file',
  sec: 'iter/task_file',
  ...opts,
  fn(ctx: any) {
    if (ctx.task && ctx.file) bpf_seq_write(ctx.meta.seq, processFds.line(ctx.task, 1));
    return 0;
  },
});

/** `iter/task_vma`: one line per VMA, with its size. */
export const vmasProgram: BpfProgramSpec = defineProgram({
  name: 'metrics_task_vma',
  sec: 'iter/task_vma',
  ...opts,
  fn(ctx: any) {
    const { task: t, vma: v } = ctx;
    if (!t || !v) return 0;
    bpf_seq_write(ctx.meta.seq, processVmas.line(t, 1));
    bpf_seq_write(ctx.meta.seq, processVmaBytes.line(t, v.vm_end - v.vm_start));
    return 0;
  },
});

function inet(protocol: string, sk: Socket): Record<string, string | number> {
  return { protocol, family: sk.skc_family === AF_INET6 ? 6 : 4, state: stateName(sk.skc_state), port: sk.skc_num };
}

/** `iter/tcp`, `iter/udp`, `iter/unix`: one line per socket. */
export const socketPrograms: readonly BpfProgramSpec[] = [
  defineProgram({
    name: 'metrics_tcp',
    sec: 'iter/tcp',
    ...opts,
    fn(ctx: any) {
      if (ctx.sk_common) emit(ctx, 'bpf_iter_sockets', inet('tcp', ctx.sk_common), 1);
      return 0;
    },
  }),
  defineProgram({
    name: 'metrics_udp',
    sec: 'iter/udp',
    ...opts,
    fn(ctx: any) {
      if (ctx.udp_sk) emit(ctx, 'bpf_iter_sockets', inet('udp', ctx.udp_sk), 1);
      return 0;
    },
  }),
  defineProgram({
    name: 'metrics_unix',
    sec: 'iter/unix',
    ...opts,
    fn(ctx: any) {
      if (ctx.unix_sk) emit(ctx, 'bpf_iter_sockets', { protocol: 'unix', family: 'unix', state: stateName(ctx.unix_sk.skc_state), port: '' }, 1);
      return 0;
    },
  }),
];

/** `iter/kmem_cache`: two lines per cache. */
export const kmemCacheProgram: BpfProgramSpec = defineProgram({
  name: 'metrics_kmem_cache',
  sec: 'iter/kmem_cache',
  ...opts,
  fn(ctx: any) {
    const s = ctx.s;
    if (!s) return 0;
    emit(ctx, 'bpf_iter_kmem_cache_active_objects', { cache: s.name }, s.active_objs);
    emit(ctx, 'bpf_iter_kmem_cache_objects', { cache: s.name }, s.num_objs);
    return 0;
  },
});

/** Every default program, in the order they run. */
export const DEFAULT_PROGRAMS: readonly BpfProgramSpec[] = [tasksProgram, filesProgram, vmasProgram, ...socketPrograms, kmemCacheProgram];

/** Options of {@link defaultMetrics}. */
export interface DefaultMetricsOptions {
  /** Top-N of the per-process metrics (default {@link DEFAULT_TOP_N}). */
  topN?: number;
}

/**
 * The default metric set over `kernel()`: one source running every
 * default program on the same kernel read (so one collection is one
 * consistent model), called once per collection.
 * @example
 * const im = new IterMetrics([defaultMetrics(() => syntheticKernel({ seed: 1 }))]);
 */
export function defaultMetrics(kernel: () => Kernel, o: DefaultMetricsOptions = {}): SampleSource {
  const infos = defaultMetricInfos(o.topN ?? DEFAULT_TOP_N);
  // Kept between collections: each program's series texts, parsed once.
  const texts = DEFAULT_PROGRAMS.map(() => new SeriesTexts());
  return {
    metrics: infos,
    async collect() {
      const k = kernel();
      const out = [];
      for (let i = 0; i < DEFAULT_PROGRAMS.length; i++) {
        // A loop, not push(...samples): a spread of many samples overflows the call stack.
        for (const s of readProgramSamples(DEFAULT_PROGRAMS[i]!, k, {}, texts[i])) out.push(s);
      }
      return out;
    },
  };
}
