/**
 * The selftest `task_vma` test: one process's VMAs through the task_vma
 * iterator with a `pid` link parameter, read in 4-byte chunks, its first
 * line matching the first line of that process's maps.
 *
 *   pnpm example examples/task_vmas.ts [--host]
 */
import { asTask, readHost, setDefaultKernel } from '@bpf-iter/core';
import { bpf_iter_link_info, bpf_link__destroy, bpf_link__fd, bpf_program__attach_iter, defineSkeleton, libbpf, LIBBPF_OPTS } from '@bpf-iter/iter-programs';
import { exampleSelf } from './bpf_iter_task_ex.js';
import * as progs from './programs/bpf_iter_task_vmas.js';
import { isMain } from './main.js';

const { bpf_iter_create, read, close, getpid } = libbpf;
const bpf_iter_task_vmas = defineSkeleton({ progs: { proc_maps: progs.proc_maps }, bss: progs.bss });

export function test_task_vma(out: (s: string) => void): number {
  const skel = bpf_iter_task_vmas.open_and_load();
  if (!skel) return -1;
  skel.bss.pid = getpid();
  skel.bss.one_task = 1;
  const linfo = bpf_iter_link_info();
  linfo.task.pid = getpid();
  const opts = LIBBPF_OPTS('bpf_iter_attach_opts', { link_info: linfo, link_info_len: 16 });
  const link = bpf_program__attach_iter(skel.progs.proc_maps, opts);
  if (!link) return -1;
  const iter_fd = bpf_iter_create(bpf_link__fd(link));
  const buf = new Uint8Array(4); // read in small chunks, as the selftest does
  let len: number;
  while ((len = read(iter_fd, buf, 4)) > 0) out(Buffer.from(buf.subarray(0, len)).toString('latin1'));
  close(iter_fd);
  bpf_link__destroy(link);
  const err = skel.bss.one_task_error;
  bpf_iter_task_vmas.destroy(skel);
  return err;
}

if (isMain(import.meta.url)) {
  const out = (s: string) => process.stdout.write(s);
  if (process.argv.includes('--host')) {
    setDefaultKernel(readHost({ ksyms: false, pids: [process.pid] }));
    test_task_vma(out);
  } else asTask(exampleSelf(), () => test_task_vma(out));
}
