/**
 * The cgroup v2 path of a task from `/proc/PID/task/TID/cgroup` (the `0::`
 * line), or null when the task has none (a v1-only system). A cgroup removed
 * while the task is in it shows as `... (deleted)`; the suffix is dropped.
 */
export function parseCgroupV2Path(text: string): string | null {
  let at = text.startsWith('0::') ? 0 : text.indexOf('\n0::');
  if (at < 0) return null;
  if (at > 0) at++;
  const end = text.indexOf('\n', at);
  let p = text.slice(at + 3, end < 0 ? text.length : end);
  if (p.endsWith(' (deleted)')) p = p.slice(0, -' (deleted)'.length);
  return p;
}
