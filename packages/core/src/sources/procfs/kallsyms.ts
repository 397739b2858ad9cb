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
    // file_operations tables are (read-only) data, never text.
    if (type === 'T' || type === 't') return;
    out.set(name, value);
  });
  return out;
}
