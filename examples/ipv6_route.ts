/**
 * The seed's bpftool example: pin the ipv6_route iterator in bpffs, then
 * `cat` it (every cat is a fresh iteration), then `rm` it.
 *
 *   $ bpftool iter pin ./bpf_iter_ipv6_route.o /sys/fs/bpf/my_route
 *   $ cat /sys/fs/bpf/my_route
 *   $ rm -f /sys/fs/bpf/my_route
 *
 *   pnpm example examples/ipv6_route.ts [--host]
 */
import { readHost, setDefaultKernel } from '@bpf-iter/core';
import { attachIter, bpffs, loadProgram } from '@bpf-iter/iter-programs';
import { dump_ipv6_route } from './programs/bpf_iter_ipv6_route.js';
import { isMain } from './main.js';

/** `bpftool iter pin OBJ PATH`: load the first program, attach it with no parameters, pin the link, drop the handle. */
export function bpftool_iter_pin(path: string): void {
  const link = attachIter(loadProgram(dump_ipv6_route));
  bpffs.pin(link, path);
  link.close(); // the pin keeps the link alive
}

/** `cat PATH`. */
export function cat(path: string): string {
  return bpffs.cat(path).toString();
}

export function main(out: (s: string) => void): void {
  bpftool_iter_pin('/sys/fs/bpf/my_route');
  out(cat('/sys/fs/bpf/my_route'));
  bpffs.rm('/sys/fs/bpf/my_route'); // rm -f /sys/fs/bpf/my_route
}

if (isMain(import.meta.url)) {
  if (process.argv.includes('--host')) setDefaultKernel(readHost({ ksyms: false }));
  main((s) => process.stdout.write(s));
}
