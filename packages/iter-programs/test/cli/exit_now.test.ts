/**
 * The bin exits at once (process.exit, no heap teardown) only after a
 * command that ran no user code and left nothing running: `targets`,
 * `version`, `cat TARGET` (a built-in dumper), whether it succeeded or not.
 * Every other command ends when the event loop drains, as Node's own
 * processes do (a program module's timers, `serve`'s server).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCliWhole } from '../../src/cli/cli.js';
import { tempState } from './helpers.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[], state = tempState().state): Promise<{ code: number; exitNow: boolean; stdout: string }> {
  const stdout = new Sink();
  const r = await runCliWhole(args, { stdout, stderr: new Sink(), env: { BPF_ITER_STATE: state } });
  return { ...r, stdout: stdout.text };
}

describe('exitNow', () => {
  it('targets, version and cat TARGET (built-in dumpers) may exit at once, failed or not', async () => {
    for (const args of [['targets'], ['version'], ['cat', 'task'], ['cat', 'kmem_cache', '--kernel', 'host']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.exitNow, args.join(' ')).toBe(true);
      expect(r.stdout.length, args.join(' ')).toBeGreaterThan(0);
    }
    const bad = await run(['cat', 'nosuch']);
    expect(bad.code).toBe(1);
    expect(bad.exitNow).toBe(true);
  }, 60_000);

  it('a program module, a pin, a usage error and no command wait for the event loop', async () => {
    const { dir, state } = tempState();
    const prog = join(dir, 'p.mjs');
    writeFileSync(prog, `import { SEC, bpf_seq_printf } from '@bpf-iter/iter-programs';\nexport const p = SEC('iter/task', function p(ctx) { if (ctx.task) bpf_seq_printf(ctx.meta.seq, '%d\\\\n', ctx.task.pid); return 0; });\n`);
    const cases: string[][] = [['run', prog], ['pin', 'task', '/sys/fs/bpf/exit_now_t'], ['cat', '/sys/fs/bpf/exit_now_t'], ['cat'], []];
    for (const args of cases) {
      const r = await run(args, state);
      expect(r.exitNow, args.join(' ')).toBe(false);
    }
  }, 60_000);
});
