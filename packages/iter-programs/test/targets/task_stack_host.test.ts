/**
 * bpf_get_task_stack on a host model: the stack of this process's main
 * thread comes from /proc/self/task/TID/stack (resolved with kallsyms), read
 * at the call: the same frames the kernel shows there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readHost } from '@bpf-iter/core';
import { bpf_get_task_stack, SEC } from '../../src/index.js';
import { session } from './helpers.js';

function readable(): string | null {
  try {
    readFileSync(`/proc/self/task/${process.pid}/stack`, 'latin1');
    return null;
  } catch (e) {
    return `/proc/self/task/${process.pid}/stack is not readable (${(e as { code?: string }).code}; root needed)`;
  }
}
const why = readable();

describe.skipIf(why !== null)(`bpf_get_task_stack on the host${why ? ` (skipped: ${why})` : ''}`, () => {
  it("this process's main thread: the frames of its /proc stack file, each at kallsyms(name) + offset", () => {
    const k = readHost({ threads: true, files: false, vmas: false, sockets: false, routes: false, ksyms: true, slabs: false, cgroups: false });
    const me = k.findTask(process.pid)!;
    let n = -1;
    const buf = new Uint8Array(8 * 64);
    const s = session(k, SEC('iter/task', (ctx: any) => (ctx.task === me ? ((n = bpf_get_task_stack(me, buf, buf.length, 0)), 0) : 0), { name: 'stack' }));
    s.text();
    s.close();
    // The helper read the stack file at the call: its innermost frames are the file's own read path.
    const lines = readFileSync(`/proc/self/task/${process.pid}/stack`, 'latin1').trim().split('\n');
    expect(n).toBeGreaterThanOrEqual(3 * 8);
    expect(n % 8).toBe(0);
    const byName = new Map<string, bigint>();
    for (let i = 0; i < k.ksyms.count; i++) if (!byName.has(k.ksyms.names[i]!)) byName.set(k.ksyms.names[i]!, k.ksyms.values[i]!);
    const [, name, off] = /\] ([^+]+)\+0x([0-9a-f]+)/.exec(lines[0]!)!;
    expect(name).toBe('proc_pid_stack');
    expect(new DataView(buf.buffer).getBigUint64(0, true)).toBe(byName.get(name!)! + BigInt('0x' + off));
  });
});
