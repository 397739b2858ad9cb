/** Tells a pin from a target name without loading either command (`cat` dispatches on it). */
import { BPF_FS_MOUNT } from '../constants.js';

/** True for a path on bpffs (a pin), as opposed to a target name. */
export function isBpffsPath(s: string): boolean {
  return s === BPF_FS_MOUNT || s.startsWith(BPF_FS_MOUNT + '/');
}
