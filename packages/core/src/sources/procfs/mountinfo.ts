/** One line of `/proc/PID/mountinfo`. */
export interface MountInfo {
  mnt_id: number;
  major: number;
  minor: number;
  /** The path inside the filesystem that is mounted (`/` for a whole filesystem). */
  root: string;
  mountPoint: string;
  fstype: string;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo (`mnt_id parent major:minor root mountpoint opts [tags] - fstype source superopts`). */
export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0) continue;
    const [maj, min] = f[2]!.split(':');
    out.push({
      mnt_id: Number(f[0]),
      major: Number(maj),
      minor: Number(min),
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      fstype: f[sep + 1]!,
    });
  }
  return out;
}
