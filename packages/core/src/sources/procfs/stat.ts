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

/** Start offsets of fields 3..22 of the stat being parsed (reused: one parse per task, no array per call). */
const starts = new Int32Array(20);

/** The decimal integer at `at` in `text` (optional `-`), read without a substring. */
function intAt(text: string, at: number): number {
  let i = at;
  const neg = text.charCodeAt(i) === 45;
  if (neg) i++;
  let n = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) n = n * 10 + (c - 48);
  if (i === at + (neg ? 1 : 0)) throw Object.assign(new Error('malformed stat'), { code: 'EPROTO' });
  return neg ? -n : n;
}

/**
 * Parses `/proc/PID/stat`. The comm is bracketed by the first `(` and the
 * *last* `)`: a comm may itself contain `)` and spaces. Only fields 3..22
 * are looked at (the host source reads one stat per thread: no substring
 * per field, no array of all 52).
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw Object.assign(new Error('malformed stat'), { code: 'EPROTO' });
  // starts[k] is where field k + 3 begins (fields are separated by one space).
  let at = close + 2;
  for (let k = 0; k < starts.length; k++) {
    if (at <= 0 || at >= text.length) throw Object.assign(new Error('malformed stat'), { code: 'EPROTO' });
    starts[k] = at;
    at = text.indexOf(' ', at) + 1;
  }
  return {
    pid: intAt(text, 0),
    comm: text.slice(open + 1, close),
    state: text.charAt(starts[0]!),
    ppid: intAt(text, starts[1]!),
    flags: intAt(text, starts[6]!) >>> 0,
    utime: intAt(text, starts[11]!),
    stime: intAt(text, starts[12]!),
    priority: intAt(text, starts[15]!),
    nice: intAt(text, starts[16]!),
    num_threads: intAt(text, starts[17]!),
    starttime: intAt(text, starts[19]!),
  };
}
