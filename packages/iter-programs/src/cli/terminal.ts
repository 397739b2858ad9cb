/**
 * Whether a command's stdout or stderr is a terminal, told by its fd where
 * the bin gave one (`CliIo.fds`): an fstat rules out files, pipes and
 * /dev/null without creating the Node stream (whose modules cost
 * milliseconds to load), `isatty` decides the rest.
 */
import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { CliIo } from './stream.js';

/** `S_IFMT` and `S_IFCHR` (a terminal is a character device). */
export const S_IFMT = 0o170000;
export const S_IFCHR = 0o020000;

/** True when `fd` is a terminal. Character devices of major 1 (null, zero, full, random...) never are. */
export function isTerminalFd(fd: number): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false;
  }
  if ((st.mode & S_IFMT) !== S_IFCHR) return false;
  // new_encode_dev: the major is bits 8-19.
  if (Math.floor(st.rdev / 256) % 4096 === 1) return false;
  return isatty(fd);
}

/** True when `io`'s stdout or stderr is a terminal: by its fd in the bin, else by the stream's `isTTY`. */
export function isTerminal(io: CliIo, which: 'stdout' | 'stderr'): boolean {
  const fd = io.fds?.[which];
  if (fd !== undefined) return isTerminalFd(fd);
  return (io[which] as { isTTY?: boolean }).isTTY === true;
}
