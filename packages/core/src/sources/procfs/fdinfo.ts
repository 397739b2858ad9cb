/** `/proc/PID/fdinfo/N`: the generic lines every file has. */
export interface FdInfo {
  pos: number;
  /** Open flags (printed in octal). */
  flags: number;
  mnt_id: number;
  /** Inode number (kernels >= 5.19 print it), or -1. */
  ino: number;
}

/** Parses the generic head of an fdinfo file (kind-specific lines after it are ignored). */
export function parseFdinfo(text: string): FdInfo {
  const out: FdInfo = { pos: 0, flags: 0, mnt_id: -1, ino: -1 };
  let i = 0;
  for (let n = 0; n < 4 && i < text.length; n++) {
    const nl = text.indexOf('\n', i);
    const line = text.slice(i, nl < 0 ? text.length : nl);
    i = nl < 0 ? text.length : nl + 1;
    const colon = line.indexOf(':');
    const key = line.slice(0, colon);
    const v = line.slice(colon + 1).trim();
    if (key === 'pos') out.pos = Number(v);
    else if (key === 'flags') out.flags = parseInt(v, 8);
    else if (key === 'mnt_id') out.mnt_id = Number(v);
    else if (key === 'ino') out.ino = Number(v);
  }
  return out;
}
