/**
 * Close-on-exec lives in the fd table (`files_struct`'s `close_on_exec`
 * bitmap), not in the file: open(O_CLOEXEC) sets the fd's bit and leaves
 * `f_flags` without O_CLOEXEC (build_open_flags strips it), dup() clears it
 * on the new fd, fork() copies the bitmap, close() clears the slot's bit.
 */
import { describe, expect, test } from 'vitest';
import { Kernel, O_CLOEXEC } from '@bpf-iter/core';

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;

describe('close_on_exec', () => {
  test('open(O_CLOEXEC) sets the fd bit, not f_flags; dup clears it; fork copies it; close clears it', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'p' });
    const a = k.open(t, '/etc/passwd', { flags: O_RDWR | O_NONBLOCK | O_CLOEXEC });
    const b = k.open(t, '/etc/hosts', { flags: O_RDWR });
    const files = t.files!;
    expect(files.fd[a]!.f_flags).toBe(O_RDWR | O_NONBLOCK);
    expect(files.fd[b]!.f_flags).toBe(O_RDWR);
    expect([...files.close_on_exec]).toEqual([a]);
    const c = k.dup(t, a);
    expect(files.close_on_exec.has(c)).toBe(false);
    expect(files.fd[c]).toBe(files.fd[a]); // one file, two fds: the flag is per fd
    const child = k.fork(t);
    expect([...child.files!.close_on_exec]).toEqual([a]);
    expect(child.files!.close_on_exec).not.toBe(files.close_on_exec);
    k.close(t, a);
    expect(files.close_on_exec.has(a)).toBe(false);
    expect(child.files!.close_on_exec.has(a)).toBe(true);
    // The slot is reused without the old bit.
    expect(k.open(t, '/etc/group')).toBe(a);
    expect(files.close_on_exec.has(a)).toBe(false);
  });

  test('createFile strips O_CLOEXEC from f_flags', () => {
    const k = new Kernel();
    expect(k.createFile('/x', { flags: O_CLOEXEC | O_RDWR }).f_flags).toBe(O_RDWR);
  });
});
