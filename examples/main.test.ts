/**
 * Run as scripts, the examples end like the bin when their reader goes away
 * (`| head`): exit 0 and nothing on stderr, not an unhandled EPIPE.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `bash -c 'node --import tsx EXAMPLE | head -n 1'` and the example's own exit status. */
function pipeToHead(example: string): Promise<{ status: string; stdout: string; stderr: string }> {
  // The example's own exit status (bash's PIPESTATUS), printed last on stderr.
  const script = `node --import tsx --conditions=@bpf-iter/source ${example} | head -n 1; echo "status \${PIPESTATUS[0]}" >&2`;
  return new Promise((res) => {
    execFile('/bin/bash', ['-c', script], { cwd: ROOT }, (_err, stdout, stderr) => {
      const m = /status (\d+)\n?$/.exec(stderr);
      res({ status: m?.[1] ?? 'none', stdout, stderr: stderr.replace(/status \d+\n?$/, '') });
    });
  });
}

describe('examples piped to head', () => {
  for (const example of ['examples/task_vmas.ts', 'examples/open-coded-task.ts', 'examples/demo.ts']) {
    it(`${example}: exit 0, one line, no stderr`, async () => {
      const r = await pipeToHead(example);
      expect(r.stderr).toBe('');
      expect(r.status).toBe('0');
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    }, 60_000);
  }
});
