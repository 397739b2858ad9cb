/**
 * The main demo: iterate the embedded default kernel the way the kernel's
 * BPF iterators do and print seq_file-style output.
 *
 *   npm run demo
 */
import { defaultKernel, TaskFileWalker, TaskWalker } from '@bpf-iter/core';

const kernel = defaultKernel();
console.log(`# kernel: ${kernel.description}, ${kernel.taskCount} tasks`);

// The seed's task_file program: one line per open file of every process.
console.log('    tgid      pid       fd file');
const files = new TaskFileWalker(kernel, { ns: kernel.initPidNs, type: 'ALL', pid: 0 });
let lines = 0;
for (let e = files.start(); e && lines < 40; e = files.next(), lines++) {
  const { task, fd, file } = e;
  console.log(`${String(task.tgid).padStart(8)} ${String(task.pid).padStart(8)} ${String(fd).padStart(8)} ${file.f_op.hex}`);
}
files.stop();
console.log('...');

// The task iterator: count threads per state.
const states = new Map<string, number>();
const tasks = new TaskWalker(kernel, { ns: kernel.initPidNs, type: 'ALL', pid: 0 });
for (let t = tasks.start(); t; t = tasks.next()) states.set(t.state, (states.get(t.state) ?? 0) + 1);
tasks.stop();
console.log(`# tasks by state: ${[...states].map(([s, n]) => `${s}=${n}`).join(' ')}`);
