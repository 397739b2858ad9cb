/**
 * Close-on-exec lives in the fd table (`files_struct`'s `close_on_exec`
 * bitmap), not in the file: open(O_CLOEXEC) sets the fd's bit and leaves
 * `f_flags` without O_CLOEXEC (build_open_flags strips it), dup() clears it
 * on the new fd, fork() copies the bitmap, close() clears the slot's bit.
 */
import { describe, expect, test } from 'vitest';
import { FilesStruct, Kernel, O_CLOEXEC } from '@bpf-iter/core';

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

describe('a listed lazy table (FilesLoader.list)', () => {
  /** A table listing `fds`, counting the files it makes. */
  function listed(fds: number[]): { files: FilesStruct; made: () => number; listed: () => number } {
    const k = new Kernel();
    let made = 0;
    let lists = 0;
    const files = new FilesStruct([], [], {
      list: () => {
        lists++;
        return { fds: Int32Array.from(fds), file: (i) => (made++, k.createFile(`/f${fds[i]}`)) };
      },
    });
    return { files, made: () => made, listed: () => lists };
  }

  test('walks the fds in order making each file only when it is looked up, one at a time', () => {
    const t = listed([0, 1, 5, 9]);
    expect(t.files.loaded).toBe(false);
    const seen: string[] = [];
    for (let fd = t.files.nextFd(0); fd >= 0; fd = t.files.nextFd(fd + 1)) seen.push(`${fd}:${t.files.lookupFd(fd)!.path}`);
    expect(seen).toEqual(['0:/f0', '1:/f1', '5:/f5', '9:/f9']);
    expect(t.made()).toBe(4);
    expect(t.listed()).toBe(1);
    expect(t.files.loaded).toBe(true);
    // Resume anywhere (a paused walk's cursor), a closed fd, the count: no file made.
    expect(t.files.nextFd(2)).toBe(5);
    expect(t.files.nextFd(10)).toBe(-1);
    expect(t.files.lookupFd(3)).toBeNull();
    expect(t.files.count).toBe(4);
    expect(t.made()).toBe(4);
  });

  test('one lookup twice is one object; the whole table keeps it, and holds each file as fd_install does', () => {
    const t = listed([2, 4]);
    const f = t.files.lookupFd(4)!;
    expect(t.files.lookupFd(4)).toBe(f);
    expect(f.fdRefs).toBe(1);
    expect(f.refcnt).toBe(1);
    const all = t.files.fd;
    expect(all[4]).toBe(f);
    expect(all.map((x) => x?.path ?? null)).toEqual([null, null, '/f2', null, '/f4']);
    expect(all[2]!.refcnt).toBe(1);
    expect(t.made()).toBe(2);
    // Made once: lookups now read the table.
    expect(t.files.lookupFd(2)).toBe(all[2]);
  });

  test('a table gone at its listing (list returns null) reads as empty', () => {
    const files = new FilesStruct([], [], { list: () => null });
    expect(files.nextFd(0)).toBe(-1);
    expect(files.lookupFd(0)).toBeNull();
    expect(files.count).toBe(0);
    expect(files.fd).toEqual([]);
  });
});
