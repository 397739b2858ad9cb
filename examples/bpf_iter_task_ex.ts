/**
 * The seed's user-space program (bpf_iter_task_ex), ported line by line:
 * attach the task_file iterator with `linfo.task.pid = getpid()`, create an
 * iterator fd, read it in 15-byte chunks, print.
 *
 *   pnpm example examples/bpf_iter_task_ex.ts            # on the embedded default kernel
 *   pnpm example examples/bpf_iter_task_ex.ts --host     # on this machine (getpid() is this process)
 */
import { asTask, defaultKernel, readHost, setDefaultKernel, type Task } from '@bpf-iter/core';
import {
  bpf_iter_link_info,
  bpf_link__destroy,
  bpf_link__fd,
  bpf_program__attach_iter,
  defineSkeleton,
  libbpf,
  LIBBPF_OPTS,
  type bpf_iter_attach_opts,
  type bpf_program,
} from '@bpf-iter/iter-programs';
import * as progs from './programs/bpf_iter_task_ex.js';
import { isMain } from './main.js';

const { bpf_iter_create, read, close, getpid } = libbpf;

// #include "bpf_iter_task_ex.skel.h"
const bpf_iter_task_ex = defineSkeleton({ progs: { dump_task_file: progs.dump_task_file }, bss: progs.bss });

// static int do_read_opts(struct bpf_program *prog, struct bpf_iter_attach_opts *opts)
function do_read_opts(prog: bpf_program, opts: bpf_iter_attach_opts, out: (s: string) => void): number {
  const buf = new Uint8Array(16); // char buf[16] = {};
  let iter_fd = -1;
  let len: number;
  let ret = 0;

  const link = bpf_program__attach_iter(prog, opts);
  if (!link) {
    console.error('bpf_program__attach_iter() fails');
    return -1;
  }
  iter_fd = bpf_iter_create(bpf_link__fd(link));
  if (iter_fd < 0) {
    console.error('bpf_iter_create() fails');
    ret = -1;
  } else {
    /* not check contents, but ensure read() ends without error */
    while ((len = read(iter_fd, buf, buf.length - 1)) > 0) {
      out(Buffer.from(buf.subarray(0, len)).toString()); // buf[len] = 0; printf("%s", buf);
    }
    out('\n');
  }
  if (iter_fd >= 0) close(iter_fd);
  bpf_link__destroy(link);
  return ret;
}

// static void test_task_file(void)
export function test_task_file(out: (s: string) => void): void {
  const opts = LIBBPF_OPTS('bpf_iter_attach_opts'); // LIBBPF_OPTS(bpf_iter_attach_opts, opts);
  const skel = bpf_iter_task_ex.open_and_load(); //    skel = bpf_iter_task_ex__open_and_load();
  if (skel === null) return;
  const linfo = bpf_iter_link_info(); //               union bpf_iter_link_info linfo; memset(&linfo, 0, sizeof(linfo));
  linfo.task.pid = getpid();
  opts.link_info = linfo;
  opts.link_info_len = 16; //                          sizeof(linfo)
  out(`PID ${getpid()}\n`);
  do_read_opts(skel.progs.dump_task_file, opts, out);
  bpf_iter_task_ex.destroy(skel);
}

/** The model process this example runs as on the embedded default kernel: the first `node` process. */
export function exampleSelf(): Task {
  for (const t of defaultKernel().processes.values()) if (t.comm === 'node') return t;
  throw new Error('no node process in the default kernel');
}

// int main(int argc, const char * const * argv)
if (isMain(import.meta.url)) {
  const out = (s: string) => process.stdout.write(s);
  if (process.argv.includes('--host')) {
    setDefaultKernel(readHost({ ksyms: false }));
    test_task_file(out);
  } else {
    asTask(exampleSelf(), () => test_task_file(out));
  }
}
