/**
 * `--kernel bpf`: the seed's task_file table from the running kernel,
 * through real BPF iterator programs, with real f_op addresses. Skipped
 * (with the reason in the suite name) where BPF cannot run.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { bpfAvailable } from '@bpf-iter/core';
import { describe, expect, it } from 'vitest';
import { cli, tempState } from './helpers.js';

const avail = bpfAvailable();
const why = avail.ok ? '' : ` — SKIPPED on this host: ${avail.errno}: ${avail.reason}`;
if (!avail.ok) console.warn(`cli --kernel bpf${why}`);

describe.skipIf(!avail.ok)(`bpf-iter cat task_file --kernel bpf${why}`, () => {
  it('prints the seed table for this process with one real f_op per file kind', async () => {
    const r = await cli(['cat', 'task_file', '--kernel', 'bpf', '--pid', String(process.pid)], tempState().state);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe('    tgid      pid       fd      file');
    const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
    // The fds of this process the kernel saw, against /proc/self/fd (fds opened around the read may differ).
    const procFds = new Set(readdirSync('/proc/self/fd').map(Number));
    const seen = rows.map((f) => Number(f[2]));
    expect(seen.filter((fd) => procFds.has(fd)).length).toBeGreaterThan(2);
    for (const f of rows) {
      expect(Number(f[0])).toBe(process.pid);
      expect(f[3]).toMatch(/^ffffffff[0-9a-f]{8}$/); // a kernel text/data address, not made up
    }
    // Files of one kind share one f_op: every socket fd of this process prints the same address.
    const socketFds = seen.filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    });
    const addrs = new Set(rows.filter((f) => socketFds.includes(Number(f[2]))).map((f) => f[3]));
    expect(addrs.size).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(!avail.ok)(`bpf-iter cat task_vma|kmem_cache --kernel bpf: every target yields objects${why}`, () => {
  it("task_vma --pid P prints P's mappings: the ranges, offsets, devices, inodes and paths of /proc/P/maps", async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const r = await cli(['cat', 'task_vma', '--kernel', 'bpf', '--pid', String(child.pid)], tempState().state);
      expect(r.code, r.stderr).toBe(0);
      // [vsyscall] is the gate VMA: /proc appends it, it is in no mm, the kernel's iterator never shows it.
      const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n').filter((l) => l && !l.endsWith('[vsyscall]'));
      const got = r.stdout.split('\n').filter(Boolean);
      expect(got.map((l) => l.split(' ')[0])).toEqual(maps.map((l) => l.split(' ')[0]));
      // File mappings byte for byte (path included); anonymous special mappings ([vvar]) are not named by the iterator.
      const files = (ls: string[]): string[] => ls.filter((l) => / \/\S/.test(l));
      expect(files(got).length).toBeGreaterThan(2);
      expect(files(got)).toEqual(files(maps));
    } finally {
      child.kill();
    }
  });

  it('kmem_cache prints every cache of /proc/slabinfo with its object size and slab geometry', async () => {
    const before = readFileSync('/proc/slabinfo', 'utf8');
    const r = await cli(['cat', 'kmem_cache', '--kernel', 'bpf'], tempState().state);
    expect(r.code, r.stderr).toBe(0);
    const rows = (text: string, skip: number): Map<string, string> =>
      new Map(
        text
          .split('\n')
          .slice(skip)
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/))
          .map((f) => [f[0]!, `${f[3]} ${f[4]} ${f[5]}`]),
      );
    // Caches that existed before the command and still do after (some come and go with their users).
    const first = rows(before, 2);
    const want = [...rows(readFileSync('/proc/slabinfo', 'utf8'), 2)].filter(([name]) => first.has(name));
    const got = rows(r.stdout, 1);
    expect(want.length).toBeGreaterThan(10);
    for (const [name, geometry] of want) expect(got.get(name), name).toBe(geometry);
  });

  it('a target the bpf source cannot read is an error with the errno and the reason, exit 1 — never empty output', async () => {
    const r = await cli(['cat', 'bpf_map_elem', '--kernel', 'bpf'], tempState().state);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^bpf-iter: Error: EOPNOTSUPP: bpf_map_elem: /);
  });
});
