/**
 * The seed's "Without Parameters" variant: no pid in the link; the program
 * skips other processes by comparing with a global, `target_pid`, that user
 * space sets through the skeleton before attaching.
 *
 *   pnpm example examples/bpf_iter_task_ex_target_pid.ts
 */
import { asTask } from '@bpf-iter/core';
import { bpf_link__destroy, bpf_link__fd, bpf_program__attach_iter, defineSkeleton, libbpf } from '@bpf-iter/iter-programs';
import { exampleSelf } from './bpf_iter_task_ex.js';
import * as progs from './programs/bpf_iter_task_ex.js';
import { isMain } from './main.js';

const { bpf_iter_create, read, close, getpid } = libbpf;
const bpf_iter_task_ex = defineSkeleton({ progs: { dump_task_file: progs.dump_task_file_target_pid }, bss: progs.bss });

export function test_task_file(out: (s: string) => void): void {
  const skel = bpf_iter_task_ex.open_and_load();
  if (skel === null) return;
  skel.bss.target_pid = getpid(); /* process ID. For thread id, use gettid() */
  const link = bpf_program__attach_iter(skel.progs.dump_task_file, null); // no link parameters: every file of every task
  if (!link) return;
  const iter_fd = bpf_iter_create(bpf_link__fd(link));
  const buf = new Uint8Array(4096);
  let len: number;
  while ((len = read(iter_fd, buf, buf.length)) > 0) out(Buffer.from(buf.subarray(0, len)).toString());
  close(iter_fd);
  bpf_link__destroy(link);
  bpf_iter_task_ex.destroy(skel);
}

if (isMain(import.meta.url)) asTask(exampleSelf(), () => test_task_file((s) => process.stdout.write(s)));
