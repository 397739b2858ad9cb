/**
 * The seed's user-space program (bpf_iter_task_ex) on the real kernel:
 * open the C object (compiled for this kernel on first use), set the
 * `target_pid` global or pass `linfo.task.pid`, load, attach, read the
 * iterator fd, print. Prints exactly what
 * `bpf-iter run examples/bpf/bpf_iter_task_ex.bpf.c --pid N` prints.
 *
 *   pnpm example examples/bpf/bpf_iter_task_ex.ts --pid $$          # linfo.task.pid = $$
 *   pnpm example examples/bpf/bpf_iter_task_ex.ts --target-pid $$   # skel->bss->target_pid = $$
 *
 * Needs root (CAP_BPF + CAP_PERFMON), clang and this kernel's BTF.
 */
import { fileURLToPath } from 'node:url';
import { attachIter, openObject } from '@bpf-iter/iter-programs';
import { isMain } from '../main.js';

/** Options: `pid` attaches with `linfo.task.pid`; `targetPid` uses the global variant. Default: this process. */
export interface TaskExOptions {
  pid?: number;
  targetPid?: number;
}

/** Runs the seed's program and hands each chunk the kernel wrote to `out`. */
export function taskEx(opts: TaskExOptions, out: (chunk: Buffer) => void): void {
  using obj = openObject(fileURLToPath(new URL('./bpf_iter_task_ex.bpf.c', import.meta.url)));
  const variant = opts.targetPid !== undefined ? 'dump_task_file_target_pid' : 'dump_task_file';
  for (const p of obj.programs) p.autoload = p.name === variant; // load only the variant used
  if (opts.targetPid !== undefined) obj.bss.target_pid = opts.targetPid; // skel->bss->target_pid = getpid();
  obj.load();
  const linkInfo = opts.targetPid !== undefined ? null : { task: { pid: opts.pid ?? process.pid } }; // linfo.task.pid = getpid();
  using link = attachIter(obj.program(variant), { linkInfo });
  using fd = link.open(); //                                           iter_fd = bpf_iter_create(bpf_link__fd(link));
  for (const chunk of fd) out(chunk); //                               while ((len = read(iter_fd, buf, sizeof(buf))) > 0) ...
}

if (isMain(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  taskEx({ pid: arg('--pid'), targetPid: arg('--target-pid') }, (c) => process.stdout.write(c));
}
