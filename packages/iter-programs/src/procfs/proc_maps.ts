import { major, minor, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, type Vma } from '@bpf-iter/core';
import { hex } from './format.js';

/** Width the kernel pads a maps line to before the name (`25 + sizeof(void *) * 6 - 1`). */
const MAPS_WIDTH = 72;

/** One line of `/proc/PID/maps` (`show_map_vma`), newline included. */
export function mapsLine(vma: Vma): string {
  const f = vma.vm_flags;
  const file = vma.vm_file;
  const dev = file ? file.f_inode.s_dev : 0;
  const ino = file ? file.f_inode.i_ino : 0;
  let line =
    hex(vma.vm_start, 8) +
    '-' +
    hex(vma.vm_end, 8) +
    ' ' +
    (f & VM_READ ? 'r' : '-') +
    (f & VM_WRITE ? 'w' : '-') +
    (f & VM_EXEC ? 'x' : '-') +
    (f & VM_MAYSHARE ? 's' : 'p') +
    ' ' +
    hex(file ? vma.vm_pgoff * 4096 : 0, 8) +
    ' ' +
    hex(major(dev), 2) +
    ':' +
    hex(minor(dev), 2) +
    ' ' +
    ino +
    ' ';
  const name = file ? file.path : vma.name;
  if (name !== null && name !== undefined) {
    if (line.length < MAPS_WIDTH) line = line.padEnd(MAPS_WIDTH, ' ');
    line += ' ' + name;
  }
  return line + '\n';
}
