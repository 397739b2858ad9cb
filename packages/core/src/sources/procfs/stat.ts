/** The fields of `/proc/PID/task/TID/stat` the host source uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** State letter (`R`, `S`, `D`, `Z`, `T`, `t`, `X`, `I`, `P`...). */
  state: string;
  ppid: number;
  /** `task->flags` (PF_*). */
  flags: number;
  /** User and system time in clock ticks (USER_HZ). */
  utime: number;
  stime: number;
  /** `task->prio - MAX_RT_PRIO` (so 20 for a nice-0 normal task). */
  priority: number;
  nice: number;
  num_threads: number;
  /** Start time in clock ticks since boot. */
  starttime: number;
}

/**
 * Parses `/proc/PID/stat`. The comm is bracketed by the first `(` and the
 * *last* `)`: a comm may itself contain `)` and spaces.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw Object.assign(new Error('malformed stat'), { code: 'EPROTO' });
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: Number(f[1]),
    flags: Number(f[6]) >>> 0,
    utime: Number(f[11]),
    stime: Number(f[12]),
    priority: Number(f[15]),
    nice: Number(f[16]),
    num_threads: Number(f[17]),
    starttime: Number(f[19]),
  };
}

/**
 * {@link parseStat} over the file's bytes (`/proc/PID/task/TID/stat` read
 * into a buffer): the same fields, without a string per field, for the host
 * source's one read per thread. Numbers are the decimal fields as written
 * (a `-` sign for priority and nice of real-time and reniced tasks).
 */
export function parseStatBytes(b: Uint8Array, n: number): ProcStat {
  const open = b.indexOf(0x28); // '('
  let close = n - 1;
  while (close > open && b[close] !== 0x29) close--; // the last ')'
  if (open < 0 || close <= open || open >= n) throw Object.assign(new Error('malformed stat'), { code: 'EPROTO' });
  // Fields from 3 (state) on, space-separated after ") ".
  const f = STAT_FIELDS;
  let i = close + 2;
  const state = i < n ? String.fromCharCode(b[i]!) : '';
  // Field 3 is the state letter; numeric fields 4.. are parsed by index (field n at f[n - 3]).
  let field = 0;
  while (i < n && b[i] !== 0x20) i++;
  while (i < n && field < 20) {
    i++; // the space
    field++;
    let neg = false;
    if (b[i] === 0x2d) {
      neg = true;
      i++;
    }
    let v = 0;
    let digits = 0;
    for (let c = b[i]!; i < n && c >= 0x30 && c <= 0x39; c = b[++i]!) {
      v = v * 10 + (c - 0x30);
      digits++;
    }
    // A field that is not a plain number (none of the ones read): NaN, as Number() gives.
    if (!digits || (i < n && b[i] !== 0x20 && b[i] !== 0x0a)) {
      v = NaN;
      while (i < n && b[i] !== 0x20) i++;
    }
    f[field] = neg ? -v : v;
  }
  for (; field < 20; ) f[++field] = NaN;
  let pid = 0;
  for (let j = 0; j < open - 1; j++) pid = pid * 10 + (b[j]! - 0x30);
  return {
    pid: open > 1 ? pid : NaN,
    comm: Buffer.from(b.buffer, b.byteOffset + open + 1, close - open - 1).toString('latin1'),
    state,
    ppid: f[1]!,
    flags: f[6]! >>> 0,
    utime: f[11]!,
    stime: f[12]!,
    priority: f[15]!,
    nice: f[16]!,
    num_threads: f[17]!,
    starttime: f[19]!,
  };
}

/** Scratch for {@link parseStatBytes}: the numeric fields 4..23 by index from state (1 = ppid). */
const STAT_FIELDS = new Float64Array(21);
