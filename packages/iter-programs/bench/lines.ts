/** Throughput of the seed's `%8d %8d %8d %lx\n` lines through the whole read path. */
import { attachIter, bpf_iter_reg_target, bpf_iter_show, BPF_SEQ_PRINTF, loadProgram, SEC, type SeqFile } from '../src/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const fop = { addr: 0xffffffff82270aa0n };
const items = Array.from({ length: N }, (_, i) => ({ task: { tgid: 1000 + (i >> 4), pid: 1000 + (i >> 4) }, fd: i & 15, file: { f_op: fop } }));
bpf_iter_reg_target({
  target: 'bench_task_file',
  seq_info: {
    seq_priv: () => ({}),
    seq_ops: {
      start: (_s: SeqFile, pos) => items[pos.value] ?? null,
      next: (_s: SeqFile, _v, pos) => items[++pos.value] ?? null,
      stop: (s, v) => {
        if (v === null) bpf_iter_show(s, { task: null, fd: 0, file: null }, true);
      },
      show: (s, v: (typeof items)[number]) => bpf_iter_show(s, { task: v.task, fd: v.fd, file: v.file }, false),
    },
  },
});
const prog = loadProgram(
  SEC('iter/bench_task_file', function dump_task_file(ctx: any) {
    const seq = ctx.meta.seq;
    const task = ctx.task;
    const file = ctx.file;
    if (task === null || file === null) return 0;
    BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, ctx.fd, file.f_op);
    return 0;
  }),
);
const link = attachIter(prog);
for (let round = 0; round < 3; round++) {
  const fd = link.open();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let bytes = 0;
  for (;;) {
    const n = fd.rawRead(1 << 20);
    if (n <= 0) break;
    bytes += n;
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  fd.close();
  console.log(`${N} lines, ${bytes} bytes in ${dt.toFixed(3)} s wall / ${cpu.toFixed(3)} s cpu: ${Math.round(N / dt).toLocaleString()} lines/s wall, ${Math.round(N / cpu).toLocaleString()} lines/s cpu`);
}
