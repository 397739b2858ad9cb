/**
 * No invented kernel value is shown as real: `cat task_file --kernel host`
 * prints an f_op address only where the host knows it (kallsyms data
 * symbols, CONFIG_KALLSYMS_ALL as root), else `?` (text) and null (--json);
 * unix sockets' uid, which /proc/net/unix does not print, is null.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { F_OP_UNKNOWN } from '@bpf-iter/core';
import { cli, tempState } from './helpers.js';

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

/** Addresses of kallsyms' data symbols (what a real f_op can be), as %lx prints them. */
function kallsymsData(): Set<string> {
  const out = new Set<string>();
  for (const l of readFileSync('/proc/kallsyms', 'latin1').split('\n')) {
    const [addr, type] = l.split(' ');
    if (addr && type && /^[dDrRbB]$/.test(type) && !/^0+$/.test(addr)) out.add(addr.replace(/^0+/, ''));
  }
  return out;
}

describe('bpf-iter cat --kernel host: unknown values are never printed as real', () => {
  it('text: each file column is a kallsyms data address or the sentinel', async () => {
    const r = await cli(['cat', 'task_file', '--kernel', 'host', '--pid', String(process.pid)], tempState().state);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(r.stdout).slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.length).toBeGreaterThan(2);
    const data = kallsymsData();
    for (const [, , fd, file] of rows) expect(file === F_OP_UNKNOWN || data.has(file!), `fd ${fd}: ${file}`).toBe(true);
    if (data.size < 1000) expect(rows.every((x) => x[3] === F_OP_UNKNOWN)).toBe(true); // no data symbols: nothing is known
  });

  it('--json: f_op is a known address or null, f_op_name the kind', async () => {
    const r = await cli(['cat', 'task_file', '--kernel', 'host', '--pid', String(process.pid), '--json'], tempState().state);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(r.stdout).map((l) => JSON.parse(l) as { f_op: string | null; f_op_name: string });
    const data = kallsymsData();
    for (const o of rows) {
      if (o.f_op !== null) expect(data.has(o.f_op.slice(2))).toBe(true);
      expect(o.f_op_name).toMatch(/^\w+$/);
    }
  });

  it('cat unix --json: uid is null (/proc/net/unix prints none); the synthetic kernel has its own', async () => {
    const host = await cli(['cat', 'unix', '--kernel', 'host', '--json'], tempState().state);
    expect(host.code, host.stderr).toBe(0);
    const rows = lines(host.stdout).map((l) => JSON.parse(l) as { uid: number | null });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((o) => o.uid === null)).toBe(true);
    const syn = await cli(['cat', 'unix', '--json'], tempState().state);
    expect(lines(syn.stdout).every((l) => typeof (JSON.parse(l) as { uid: unknown }).uid === 'number')).toBe(true);
  });
});
