/** The fields of `/proc/PID/task/TID/status` that stat does not carry. */
export interface ProcStatus {
  tgid: number;
  /** Real uid and gid (`cred->uid`, `cred->gid`). */
  uid: number;
  gid: number;
  /** Thread ids from the reader's pid namespace down to the task's own (the `NSpid:` line). */
  nspid: number[];
}

function field(text: string, key: string): string | null {
  const at = text.indexOf('\n' + key + ':');
  if (at < 0) return null;
  const start = at + key.length + 2;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

/** Parses `/proc/PID/status` (only the lines the model needs; looked up by key, not by position). */
export function parseStatus(text: string): ProcStatus {
  const uid = field(text, 'Uid');
  const gid = field(text, 'Gid');
  const nspid = field(text, 'NSpid');
  return {
    tgid: Number(field(text, 'Tgid') ?? 0),
    uid: uid ? Number(uid.split(/\s+/)[0]) : 0,
    gid: gid ? Number(gid.split(/\s+/)[0]) : 0,
    nspid: nspid ? nspid.split(/\s+/).map(Number) : [],
  };
}
