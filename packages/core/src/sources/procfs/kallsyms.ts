import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';

/** Calls `add(name, type, addr, module)` for each line of `/proc/kallsyms`, in file order. */
export function forEachKsym(text: string, add: (name: string, type: string, value: bigint, module: string) => void): void {
  let i = 0;
  const n = text.length;
  while (i < n) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = n;
    // "ffffffff81000000 T _text" or "... t name\t[module]". Searches stay inside
    // the line: an unbounded indexOf('\t') would scan ahead to the first module symbol.
    const line = text.slice(i, nl);
    const sp1 = line.indexOf(' ');
    if (sp1 > 0) {
      const type = line[sp1 + 1]!;
      const tab = line.indexOf('\t', sp1 + 3);
      let name: string;
      let mod = '';
      if (tab >= 0) {
        name = line.slice(sp1 + 3, tab);
        mod = line.slice(tab + 2, line.length - 1); // strip "[" and "]"
      } else name = line.slice(sp1 + 3);
      add(name, type, BigInt('0x' + line.slice(0, sp1)), mod);
    }
    i = nl + 1;
  }
}

/** nm types of data objects: initialised, zeroed, read-only, weak objects. */
const DATA_TYPES: ReadonlySet<string> = new Set(['d', 'D', 'b', 'B', 'r', 'R', 'v', 'V']);

/**
 * Finds the addresses of a few data symbols (the `file_operations` tables)
 * in kallsyms text. Returns an empty map when addresses are hidden (all
 * zero: not root, or kptr_restrict).
 */
export function findSymbols(text: string, names: ReadonlySet<string>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  forEachKsym(text, (name, type, value, mod) => {
    // Hidden addresses read as 0: treat them as unknown.
    if (mod || value === 0n || !names.has(name) || out.has(name)) return;
    // file_operations tables are (read-only) data objects: never text, nor weak (`W`: weak functions).
    if (!DATA_TYPES.has(type)) return;
    out.set(name, value);
  });
  return out;
}

/**
 * Whether kallsyms text lists named data objects (a kernel built with
 * CONFIG_KALLSYMS_ALL, addresses visible): without it only text symbols and
 * the linker's section markers (`__start_*`, `__stop_*`, `__init_begin`)
 * are listed, so no `file_operations` table has a known address.
 */
export function hasDataObjects(text: string): boolean {
  return DATA_OBJECT.test(text);
}

/** A core-kernel (no `[module]` column) data symbol, address not hidden, not a `__` marker. */
const DATA_OBJECT = /^(?!0+ )[0-9a-f]+ [dDbBrRvV] (?!__)\S+$/m;

/**
 * {@link hasDataObjects} of the kallsyms file at `path`, read in fixed
 * chunks (the file is megabytes; no copy of it is kept) and only up to the
 * first data object or the first module symbol (modules come after the
 * core kernel's symbols). Throws the read's error.
 */
export function fileHasDataObjects(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 16);
    let carry = '';
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) return DATA_OBJECT.test(carry);
      const text = carry + chunk.toString('latin1', 0, n);
      const end = text.lastIndexOf('\n') + 1;
      const lines = text.slice(0, end);
      if (DATA_OBJECT.test(lines)) return true;
      if (lines.includes('\t[')) return false;
      carry = text.slice(end);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * True when the running kernel's own config (`/proc/config.gz`,
 * CONFIG_IKCONFIG_PROC) says `# CONFIG_KALLSYMS_ALL is not set`: kallsyms
 * then lists no data object (scripts/kallsyms.c keeps text symbols and the
 * section markers only, and a module keeps only its text after init), so no
 * `file_operations` address can be known. A few ms instead of reading the
 * megabytes of /proc/kallsyms. False when the config is missing or says
 * otherwise (the caller reads kallsyms then).
 */
export function configLacksKallsymsAll(configGz: string): boolean {
  let gz: Buffer;
  try {
    gz = readFileSync(configGz);
  } catch {
    return false;
  }
  // The option is in the config's first section (General setup): the first KiBs are decoded
  // first (a prefix decodes with a sync flush), the whole only where they do not say it.
  for (const len of [Math.min(CONFIG_PREFIX, gz.length), gz.length]) {
    let text: string;
    try {
      text = gunzipSync(gz.subarray(0, len), len < gz.length ? { finishFlush: zlibConstants.Z_SYNC_FLUSH } : {}).toString('latin1');
    } catch {
      return false;
    }
    if (/^# CONFIG_KALLSYMS_ALL is not set$/m.test(len < gz.length ? text.slice(0, text.lastIndexOf('\n') + 1) : text)) return true;
    if (/^CONFIG_KALLSYMS_ALL=/m.test(text) || len === gz.length) return false;
  }
  return false;
}

/** Compressed bytes of /proc/config.gz decoded first (~12 KiB of text: past General setup). */
const CONFIG_PREFIX = 4096;
