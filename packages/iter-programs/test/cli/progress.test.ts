/** Progress on stderr: a status line while a live kernel is read, only on a terminal, cleared after. */
import { Writable } from 'node:stream';
import { bpfAvailable } from '@bpf-iter/core';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { tempState } from './helpers.js';

class Sink extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  columns = 100;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[], ttyErr: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink(false);
  const stderr = new Sink(ttyErr);
  const code = await runCli(args, { stdout, stderr, env: { BPF_ITER_STATE: tempState().state } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const avail = bpfAvailable();
const why = avail.ok ? '' : ` — SKIPPED on this host: ${avail.errno}: ${avail.reason}`;

describe('progress', () => {
  it.skipIf(!avail.ok)(`--kernel bpf: a status line on a terminal stderr, cleared at the end; none on a pipe${why}`, async () => {
    // kmem_cache: a small read; the output is not compared (other processes change the host).
    const tty = await run(['cat', 'kmem_cache', '--kernel', 'bpf'], true);
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stderr).toContain('bpf-iter: reading the running kernel through BPF iterators');
    // Cleared: the last thing written erases the line (CSI K), so the terminal is left clean.
    expect(tty.stderr.endsWith('\x1b[1G\x1b[2K')).toBe(true);
    const pipe = await run(['cat', 'kmem_cache', '--kernel', 'bpf'], false);
    expect(pipe.code, pipe.stderr).toBe(0);
    expect(pipe.stderr).toBe('');
    expect(pipe.stdout.split('\n')[0]).toBe(tty.stdout.split('\n')[0]);
    expect(tty.stdout.length).toBeGreaterThan(0);
  }, 60_000);

  it('the embedded kernel and the lazy host source are not long work: no status line', async () => {
    for (const a of [['cat', 'task'], ['cat', 'kmem_cache', '--kernel', 'host']]) {
      const r = await run(a, true);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
  }, 60_000);
});
