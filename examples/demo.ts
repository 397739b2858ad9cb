/**
 * The main demo: the embedded default kernel seen the way the kernel's BPF
 * iterators see it — iterator programs read through seq_file iterator fds,
 * and open-coded iterators in plain loops.
 *
 *   npm run demo
 */
import { bpfAvailable, defaultKernel, readBpf } from '@bpf-iter/core';
import { bpfForEach, iterTask, liveIterators, BPF_TASK_ITER_ALL_PROCS } from '@bpf-iter/iter-kfuncs';
import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
import {
  attachIter,
  BPF_SEQ_PRINTF,
  bpffs,
  defaultDumper,
  dumpTaskFile,
  loadProgram,
  SEC,
  type BpfIterLinkInfoInit,
  type BpfIterTaskCtx,
} from '@bpf-iter/iter-programs';
import { filter, map, take, toArray } from 'rxjs';
import { quietOnEpipe } from './main.js';

quietOnEpipe();

const kernel = defaultKernel();
console.log(`# kernel: ${kernel.description}: ${kernel.taskCount} tasks, ${kernel.processes.size - 1} processes`);

/** Runs a target's program through a link and an iterator fd, printing the first `max` lines of its output. */
function show(title: string, target: string, linkInfo: BpfIterLinkInfoInit | null, max: number): void {
  const link = attachIter(loadProgram(defaultDumper(target)!, { globals: { bss: { family: 4 } } }), { linkInfo });
  const fd = link.open(); // BPF_ITER_CREATE: a new seq_file session
  const text = fd.readAll().toString(); // read() until 0, 64 KiB at a time
  fd.close();
  link.close();
  const lines = text.split('\n').filter(Boolean);
  console.log(`\n## ${title} (${lines.length} lines)`);
  for (const l of lines.slice(0, max)) console.log(l);
  if (lines.length > max) console.log('...');
}

// 1. The seed's task_file program: tgid, pid, fd and the f_op of every open file, pinned in bpffs and cat'ed.
const link = attachIter(loadProgram(dumpTaskFile));
bpffs.pin(link, '/sys/fs/bpf/task_files');
link.close();
const table = bpffs.cat('/sys/fs/bpf/task_files').toString().split('\n');
console.log(`\n## cat /sys/fs/bpf/task_files   (iter/task_file, ${table.length - 2} files)`);
for (const l of table.slice(0, 16)) console.log(l);
console.log('...');
bpffs.rm('/sys/fs/bpf/task_files');

// 2. More targets with their default dumpers (the kernel's /proc formats).
show('iter/task_vma with link parameter pid=1  (like /proc/1/maps)', 'task_vma', { task: { pid: 1 } }, 8);
show('iter/tcp, IPv4  (like /proc/net/tcp)', 'tcp', null, 6);
show('iter/cgroup, descendants_pre from the root', 'cgroup', { cgroup: { order: 2 } }, 8);

// 3. Open-coded iterators: bpf_for_each(task, pos, NULL, BPF_TASK_ITER_ALL_PROCS) as a plain for...of.
console.log(`\n## open-coded: for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) console.log(t.pid, t.comm)`);
let procs = 0;
for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
  if (procs++ < 6) console.log(t.pid, t.comm);
}
console.log(`... ${procs} processes (the idle task included); live task iterators after the loop: ${liveIterators(iterTask)}`);

// 4. The same iterator as an RxJS pipeline: a cold Observable, destroyed on complete/unsubscribe (take).
console.log(`\n## RxJS: fromIter(iterTask, null, BPF_TASK_ITER_ALL_PROCS).pipe(filter(t => t.state === 'S'), map(t => \`\${t.pid} \${t.comm}\`), take(4), toArray())`);
fromIter(iterTask, null, BPF_TASK_ITER_ALL_PROCS)
  .pipe(
    filter((t) => t.state === 'S'),
    map((t) => `${t.pid} ${t.comm}`),
    take(4),
    toArray(),
  )
  .subscribe((rows) => console.log(rows.join('\n')));
console.log(`(synchronous: live task iterators once take(4) unsubscribed: ${liveIterators(iterTask)})`);

// 5. A seq_file program of our own: SEC("iter/task") with BPF_SEQ_PRINTF, a header at seq_num 0.
const dumpComm = SEC<BpfIterTaskCtx>('iter/task', function dump_comm(ctx) {
  const task = ctx.task;
  if (task === null) return 0; // the end of the walk (the stop call)
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(ctx.meta.seq, '%8s %8s %s\n', 'tgid', 'pid', 'comm');
  if (task.tgid === task.pid) BPF_SEQ_PRINTF(ctx.meta.seq, '%8d %8d %s\n', task.tgid, task.pid, task.comm);
  return 0;
});
const commLink = attachIter(loadProgram(dumpComm));
const commRows = commLink.open().readAll().toString().split('\n');
commLink.close();
console.log(`\n## seq_file program: SEC("iter/task", ctx => BPF_SEQ_PRINTF(ctx.meta.seq, "%8d %8d %s\\n", task->tgid, task->pid, task->comm))`);
for (const r of commRows.slice(0, 6)) console.log(r);
console.log('...');

// 6. The running kernel, through real BPF iterator programs, where this machine allows it (root, BTF, clang, bpftool).
const bpf = bpfAvailable();
if (bpf.ok) {
  try {
    showRealKernel();
  } catch (e) {
    console.log(`\n## the running kernel: ${(e as Error).message}`);
  }
} else {
  console.log(`\n## the running kernel: not available here (${bpf.errno}: ${bpf.reason})`);
}

function showRealKernel(): void {
  const real = readBpf({ vmas: false, sockets: false, routes: false, ksyms: false, bpfObjects: false, cgroups: false });
  const l = attachIter(loadProgram(dumpTaskFile, { kernel: real }), { kernel: real, linkInfo: { task: { pid: process.pid } } });
  const rows = l.open().readAll().toString().split('\n');
  l.close();
  console.log(`\n## the running kernel (--kernel bpf): this process's files with the kernel's real f_op addresses`);
  for (const r of rows.slice(0, 8)) console.log(r);
}
