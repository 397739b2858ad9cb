/**
 * The light-skeleton loader (libbpf's gen_loader, run by the kernel) against
 * libbpf's own load of the same object: the same bytes from the same
 * iterator over a child's fds, the kernel's errno for a bad link info on
 * both, and every program, map, link and iterator fd closed once. Skips
 * with the reason where BPF cannot run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { attachKernelIter, attachLightIter, createIterFd, loadLightObject } from '@bpf-iter/core/internal';
import { buildBpfPrograms, openObject, type BpfError } from '@bpf-iter/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, suiteTitle } from './bpf_fixture.js';

const avail = availability('light loader');

/** Reads an iterator fd to EOF and closes it. */
function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `union bpf_iter_link_info` with `task.pid` (offset 4) or `task.tid` (offset 0). */
function taskInfo(key: 'pid' | 'tid', v: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(v, key === 'pid' ? 4 : 0);
  return b;
}

function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

describe.skipIf(!avail.ok)(suiteTitle('loadLightObject: a light-skeleton load of a prebuilt iterator', avail), () => {
  let child: ChildProcess;
  let obj: string;
  beforeAll(async () => {
    obj = join(buildBpfPrograms(), 'text_task_file.bpf.o');
    // A child whose fds do not move while both reads run: its stdio, a pipe, /dev/null twice.
    child = spawn(process.execPath, ['-e', "require('fs').openSync('/dev/null','r');require('fs').openSync('/dev/null','r');console.log('up');setInterval(()=>{},1e6)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  });
  afterAll(() => {
    child?.kill();
  });

  /** The dump of `info` through libbpf's load (openObject + attach iter). */
  function viaLibbpf(info: Buffer | null): string {
    using o = openObject(obj);
    o.load();
    const link = attachKernelIter(o.firstIterProgram(), info, info?.length ?? 0);
    try {
      return drain(link.createIterFd());
    } finally {
      link.destroy();
    }
  }

  /** The same through the light loader. */
  function viaLight(info: Buffer | null): string {
    using o = loadLightObject(obj);
    const linkFd = attachLightIter(o.firstIterProgram(), info);
    try {
      return drain(createIterFd(linkFd));
    } finally {
      closeSync(linkFd);
    }
  }

  it("prints the same bytes as libbpf's load for a child's fds (task.pid), and the same for task.tid", () => {
    const pid = child.pid!;
    const light = viaLight(taskInfo('pid', pid));
    expect(light).toBe(viaLibbpf(taskInfo('pid', pid)));
    const rows = light.trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThanOrEqual(5); // stdio, the pipe, the two /dev/null
    for (const r of rows) expect(r.trim().split(/\s+/)[0]).toBe(String(pid));
    expect(viaLight(taskInfo('tid', pid))).toBe(viaLibbpf(taskInfo('tid', pid)));
  });

  it("a link info the kernel refuses is the kernel's errno on both loads", () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(1, 0); // tid and pid both set: the kernel takes one
    bad.writeUInt32LE(1, 4);
    const errnoOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return (e as BpfError).errno;
      }
      return 'no error';
    };
    const light = errnoOf(() => viaLight(bad));
    expect(light).toBe('EINVAL');
    expect(errnoOf(() => viaLibbpf(bad))).toBe(light);
  });

  it('closes every fd it made: the program and map fds with the object, exactly once', () => {
    const before = openFds();
    const o = loadLightObject(obj);
    expect(o.programs.map((p) => p.section)).toEqual(['iter/task_file']);
    expect(o.maps.map((m) => m.name)).toEqual(['text_tas.rodata']);
    expect(openFds().length).toBe(before.length + 2);
    o.close();
    o.close(); // idempotent: the fds are not closed twice (another fd may reuse the number)
    expect(openFds()).toEqual(before);
    expect(() => o.firstIterProgram()).toThrow(/EBADF/);
  });

  it('a missing object is an error with the errno, no fd left open', () => {
    const before = openFds();
    expect(() => loadLightObject(join(buildBpfPrograms(), 'no_such.bpf.o'))).toThrow(/ENOENT/);
    expect(openFds()).toEqual(before);
  });
});
