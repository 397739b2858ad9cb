/** One line of `/proc/PID/maps`, with every field needed to print it again byte for byte. */
export interface MapsRow {
  start: number;
  end: number;
  /** The four permission letters, e.g. `r-xp`. */
  perms: string;
  /** File offset in bytes (the `%08llx` column). */
  offset: number;
  devMajor: number;
  devMinor: number;
  ino: number;
  /** Path or pseudo name (`[heap]`, `[anon:x]`), '' when none. Escapes as printed. */
  path: string;
}

/**
 * Hex to number. Page-aligned addresses are exact as doubles even above
 * 2^53 (e.g. `[vsyscall]` at ffffffffff600000): a multiple of 4096 below
 * 2^64 fits the 53-bit mantissa, and parseInt rounds a power-of-two radix exactly.
 */
function hex(s: string): number {
  return parseInt(s, 16);
}

/** Parses `/proc/PID/maps`. */
export function parseMaps(text: string): MapsRow[] {
  const rows: MapsRow[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = n;
    if (nl > i) {
      const dash = text.indexOf('-', i);
      const sp1 = text.indexOf(' ', dash);
      const sp2 = text.indexOf(' ', sp1 + 1);
      const sp3 = text.indexOf(' ', sp2 + 1);
      const colon = text.indexOf(':', sp3);
      const sp4 = text.indexOf(' ', sp3 + 1);
      let sp5 = text.indexOf(' ', sp4 + 1);
      if (sp5 < 0 || sp5 > nl) sp5 = nl;
      // The path starts after the padding that aligns it to column 73.
      let p = sp5;
      while (p < nl && text.charCodeAt(p) === 32) p++;
      rows.push({
        start: hex(text.slice(i, dash)),
        end: hex(text.slice(dash + 1, sp1)),
        perms: text.slice(sp1 + 1, sp2),
        offset: hex(text.slice(sp2 + 1, sp3)),
        devMajor: hex(text.slice(sp3 + 1, colon)),
        devMinor: hex(text.slice(colon + 1, sp4)),
        ino: Number(text.slice(sp4 + 1, sp5)),
        path: text.slice(p, nl),
      });
    }
    i = nl + 1;
  }
  return rows;
}
