/**
 * `--kernel bpf`: the seed's task_file table from the running kernel,
 * through real BPF iterator programs, with real f_op addresses. Skipped
 * (with the reason in the suite name) where BPF cannot run.
 */
import { readdirSync, readlinkSync } from 'node:fs';
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
