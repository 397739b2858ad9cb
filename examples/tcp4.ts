/**
 * The selftest `tcp4` iterator: /proc/net/tcp printed by a BPF program.
 *
 *   pnpm example examples/tcp4.ts [--host]
 */
import { readHost, setDefaultKernel } from '@bpf-iter/core';
import { attachIter, openAndLoad } from '@bpf-iter/iter-programs';
import * as progs from './programs/bpf_iter_tcp4.js';
import { isMain } from './main.js';

export function main(out: (s: string) => void): void {
  const skel = openAndLoad(progs);
  const link = attachIter(skel.progs.dump_tcp4!.prog!);
  out(link.open().readAll().toString());
  link.close();
  skel.destroy();
}

if (isMain(import.meta.url)) {
  if (process.argv.includes('--host')) setDefaultKernel(readHost({ ksyms: false }));
  main((s) => process.stdout.write(s));
}
