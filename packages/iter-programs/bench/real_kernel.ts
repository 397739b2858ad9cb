/**
 * Benchmark of the real-kernel backend (libbpf in-process): the seed's
 * task_file program over every task, read through `link.open()` (one
 * `bpf_iter_create` + `read(2)` per session), next to two baselines measured
 * in the same run on the same objects: `cat` of the same link pinned on
 * bpffs (one child per read) and the whole `bpftool iter pin` + `cat` + `rm`
 * cycle (what the bpf source did per call before). Also the one-off costs:
 * opening a cached `.bpf.c`, loading (the verifier), attaching. Needs root.
 *
 *   node --import tsx --conditions=@bpf-iter/source packages/iter-programs/bench/real_kernel.ts [rounds]
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bpfAvailable } from '@bpf-iter/core';
import { attachIter, openObject } from '@bpf-iter/iter-programs';

const rounds = Number(process.argv[2] ?? 20);
const SRC = fileURLToPath(new URL('../../../examples/bpf/bpf_iter_task_ex.bpf.c', import.meta.url));

const avail = bpfAvailable();
if (!avail.ok) {
  console.log(`skipped: ${avail.errno}: ${avail.reason}`);
  process.exit(0);
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const [obj, openMs] = time(() => openObject(SRC));
obj.program('dump_task_file_target_pid').autoload = false;
const [, loadMs] = time(() => obj.load());
const [link, attachMs] = time(() => attachIter(obj.program('dump_task_file')));
const pin = `/sys/fs/bpf/bench-real-kernel-${process.pid}`;
link.pin(pin);
try {
  const lines = (s: string) => s.split('\n').length - 2; // header and the final ''
  let n = 0;
  const [, inMs] = time(() => {
    for (let i = 0; i < rounds; i++) n += lines(link.open().readText());
  });
  let m = 0;
  const [, catMs] = time(() => {
    for (let i = 0; i < rounds; i++) m += lines(execFileSync('cat', [pin], { encoding: 'utf8', maxBuffer: 1 << 30 }));
  });
  const cycle = `/sys/fs/bpf/bench-real-kernel-bpftool-${process.pid}`;
  const [, bpftoolMs] = time(() => {
    execFileSync('bpftool', ['iter', 'pin', obj.path, cycle]);
    execFileSync('cat', [cycle], { maxBuffer: 1 << 30 });
    rmSync(cycle);
  });
  const rate = (k: number, ms: number) => Math.round((k / ms) * 1000);
  console.log(`open cached .bpf.c ${openMs.toFixed(1)} ms (first in process: includes koffi), load ${loadMs.toFixed(1)} ms, attach ${attachMs.toFixed(1)} ms`);
  console.log(`in-process link.open().readText(): ${rate(n, inMs).toLocaleString()} lines/s (${Math.round(n / rounds)} lines/session, ${(inMs / rounds).toFixed(2)} ms/session)`);
  console.log(`baseline cat PIN (child per read): ${rate(m, catMs).toLocaleString()} lines/s (${(catMs / rounds).toFixed(2)} ms/session); ratio ${(rate(n, inMs) / rate(m, catMs)).toFixed(1)}x`);
  console.log(`baseline bpftool iter pin + cat + rm: ${bpftoolMs.toFixed(1)} ms per fresh read; in-process session ${(bpftoolMs / (inMs / rounds)).toFixed(0)}x faster`);
} finally {
  link.unpin();
  link.close();
  obj.close();
}
