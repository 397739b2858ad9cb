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
