/**
 * `/proc/PID/smaps`: the maps lines, each followed by the VMA's counters
 * and its `VmFlags:` line, which names every set `vm_flags` bit by a
 * two-letter mnemonic (fs/proc/task_mmu.c, show_smap_vma_flags).
 */
import { VM_FLAGS_ALL } from '../../model/mm.js';
import { parseMaps, type MapsRow } from './maps.js';

/**
 * VmFlags mnemonic -> `vm_flags` bit number (include/linux/mm.h, x86-64,
 * Linux 6.12 and later). Checked against the 6.18 kernel's own
 * `vma->vm_flags` (a task_vma BPF iterator) for every mnemonic but `sf`,
 * `ar`, `sd`, `mm`, `ht` and `ss`, which no process here could show.
 */
export const VM_FLAG_BITS: Readonly<Record<string, number>> = {
  rd: 0, // VM_READ
  wr: 1, // VM_WRITE
  ex: 2, // VM_EXEC
  sh: 3, // VM_SHARED
  mr: 4, // VM_MAYREAD
  mw: 5, // VM_MAYWRITE
  me: 6, // VM_MAYEXEC
  ms: 7, // VM_MAYSHARE
  gd: 8, // VM_GROWSDOWN
  um: 9, // VM_UFFD_MISSING
  pf: 10, // VM_PFNMAP
  uw: 12, // VM_UFFD_WP
  lo: 13, // VM_LOCKED
  io: 14, // VM_IO
  sr: 15, // VM_SEQ_READ
  rr: 16, // VM_RAND_READ
  dc: 17, // VM_DONTCOPY
  de: 18, // VM_DONTEXPAND
  lf: 19, // VM_LOCKONFAULT
  ac: 20, // VM_ACCOUNT
  nr: 21, // VM_NORESERVE
  ht: 22, // VM_HUGETLB
  sf: 23, // VM_SYNC
  ar: 24, // VM_ARCH_1
  wf: 25, // VM_WIPEONFORK
  dd: 26, // VM_DONTDUMP
  sd: 27, // VM_SOFTDIRTY
  mm: 28, // VM_MIXEDMAP
  hg: 29, // VM_HUGEPAGE
  nh: 30, // VM_NOHUGEPAGE
  mg: 31, // VM_MERGEABLE
  ss: 37, // VM_SHADOW_STACK (VM_HIGH_ARCH_5)
  dp: 40, // VM_DROPPABLE
  ui: 41, // VM_UFFD_MINOR
  sl: 42, // VM_SEALED
};

/** The x86 protection key bits (VM_PKEY_BIT0..3 = bits 32..35), printed as the `ProtectionKey:` number, not in VmFlags. */
const PKEY_SHIFT = 32;
const PKEY_BITS = 4;

/** Every bit the mnemonic table and the protection key describe. */
const NAMED = Object.values(VM_FLAG_BITS).reduce((m, b) => m + 2 ** b, 0) + (2 ** PKEY_BITS - 1) * 2 ** PKEY_SHIFT;

/** A maps row with the kernel's `vm_flags` from smaps. */
export interface SmapsRow extends MapsRow {
  vm_flags: number;
  /** Bits VmFlags could not tell: 0, or every unnamed bit when the line had `??` or a mnemonic this table lacks. */
  vm_flags_unknown: number;
}

/**
 * The flags of one `VmFlags:` line. A bit without a mnemonic prints `??`:
 * the kernel set a bit this table cannot place, so every bit outside the
 * table is unknown then. Without `??`, unnamed bits are known to be clear
 * (show_smap_vma_flags prints every set bit).
 */
export function parseVmFlags(line: string, pkey = 0): { vm_flags: number; vm_flags_unknown: number } {
  let flags = pkey * 2 ** PKEY_SHIFT;
  let unnamed = false;
  for (const m of line.slice(line.indexOf(':') + 1).split(' ')) {
    if (!m) continue;
    const bit = VM_FLAG_BITS[m];
    if (bit === undefined) unnamed = true;
    else flags += 2 ** bit;
  }
  return { vm_flags: flags, vm_flags_unknown: unnamed ? VM_FLAGS_ALL - NAMED : 0 };
}

/** Parses `/proc/PID/smaps` into maps rows with their `vm_flags`. */
export function parseSmaps(text: string): SmapsRow[] {
  let heads = '';
  const flags: { vm_flags: number; vm_flags_unknown: number }[] = [];
  let pkey = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = n;
    const c = text.charCodeAt(i);
    // A VMA's first line starts with its (lowercase hex) address; counter lines with a capitalised key.
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) {
      heads += text.slice(i, nl + 1);
      pkey = 0;
    } else if (text.startsWith('ProtectionKey:', i)) pkey = Number(text.slice(i + 14, nl));
    else if (text.startsWith('VmFlags:', i)) flags.push(parseVmFlags(text.slice(i, nl), pkey));
    i = nl + 1;
  }
  const rows = parseMaps(heads);
  if (rows.length !== flags.length) throw Object.assign(new Error('malformed smaps'), { code: 'EPROTO' });
  return rows.map((r, k) => ({ ...r, ...flags[k]! }));
}
