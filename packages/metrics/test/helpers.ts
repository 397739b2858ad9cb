/** Shared by the metrics tests: what `bpf-iter cat task` counts. */
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { runCli } from '../../iter-programs/src/cli/cli.js';

/** Tasks by state as `bpf-iter cat task --json --kernel SPEC` prints them. */
export async function catTaskStates(kernel: string): Promise<Record<string, number>> {
  let text = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((text += c.toString()), cb()) });
  const stderr = new Writable({ write: (_c, _e, cb) => cb() });
  const code = await runCli(['cat', 'task', '--json', '--kernel', kernel], { stdout, stderr, env: {} });
  expect(code).toBe(0);
  const out: Record<string, number> = {};
  for (const l of text.split('\n').filter(Boolean)) {
    const s = (JSON.parse(l) as { state: string }).state;
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

