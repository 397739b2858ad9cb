/**
 * No code runs from a data file: `link show`, `rm`, `pin` and `cat` of
 * another pin never import a module named in the state file; `cat PIN`
 * imports the pin's own module only while it is what was pinned (sha256)
 * and no one else can write it. Subprocesses: an in-process import is cached.
 */
import { appendFileSync, chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errLine, spawnCli, SRC_INDEX, tempState } from './helpers.js';

/** A program module that leaves `marker` behind whenever it is imported. */
function markingModule(dir: string, marker: string): string {
  const file = join(dir, 'marking.mts');
  writeFileSync(
    file,
    `import { writeFileSync } from 'node:fs';
import { SEC, BPF_SEQ_PRINTF } from ${JSON.stringify(SRC_INDEX)};
writeFileSync(${JSON.stringify(marker)}, 'imported');
export const bss = { target_pid: 0 };
export const mark = SEC('iter/task', function mark(ctx, g) {
  if (ctx.task && ctx.task.tgid === g.bss.target_pid) BPF_SEQ_PRINTF(ctx.meta.seq, 'marked %d\\n', ctx.task.pid);
  return 0;
});
`,
  );
  return file;
}

describe('no code from a data file (subprocess)', () => {
  it('link show, rm, pin and cat of another pin import nothing; cat PIN imports its own, unchanged module', async () => {
    const { dir, state } = tempState();
    const marker = join(dir, 'marker');
    const mod = markingModule(dir, marker);
    let r = await spawnCli(['pin', mod, '/sys/fs/bpf/m', '--set', 'target_pid=1'], state);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true); // the user named it: imported
    rmSync(marker);
    for (const args of [['link', 'show'], ['pin', 'task', '/sys/fs/bpf/t'], ['cat', '/sys/fs/bpf/t'], ['rm', '/sys/fs/bpf/t'], ['link', 'show', '--json']]) {
      r = await spawnCli(args, state);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(existsSync(marker), args.join(' ')).toBe(false);
    }
    // The module pin is listed from its record: name, tag and globals as pinned.
    const rows = JSON.parse(r.stdout) as { prog_name: string; prog_tag: string; pinned: string[] }[];
    expect(rows).toEqual([expect.objectContaining({ prog_name: 'mark', pinned: ['/sys/fs/bpf/m'] })]);
    expect(rows[0]!.prog_tag).toMatch(/^[0-9a-f]{16}$/);
    r = await spawnCli(['cat', '/sys/fs/bpf/m'], state);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^marked 1\n/);
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    // Changed since the pin: not imported.
    appendFileSync(mod, '// changed\n');
    r = await spawnCli(['cat', '/sys/fs/bpf/m'], state);
    expect(r.code).toBe(1);
    expect(errLine(r)).toMatch(/^bpf-iter: Error: EPERM: cannot restore pin \/sys\/fs\/bpf\/m: .*changed since it was pinned/);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it('a module others can write, or one a hand-made state names without a sha256, is never imported', async () => {
    const { dir, state } = tempState();
    const marker = join(dir, 'marker');
    const mod = markingModule(dir, marker);
    expect((await spawnCli(['pin', mod, '/sys/fs/bpf/m'], state)).code).toBe(0);
    rmSync(marker);
    chmodSync(mod, 0o666);
    let r = await spawnCli(['cat', '/sys/fs/bpf/m'], state);
    expect(errLine(r)).toMatch(/^bpf-iter: Error: EPERM: cannot restore pin \/sys\/fs\/bpf\/m: program module .* is group\/world-writable/);
    chmodSync(mod, 0o644);
    // A state file naming a module the user never pinned (no sha256).
    const data = JSON.parse(readFileSync(state, 'utf8'));
    delete data.pins['/sys/fs/bpf/m'].sha256;
    writeFileSync(state, JSON.stringify(data));
    for (const args of [['link', 'show'], ['cat', '/sys/fs/bpf/m'], ['rm', '/sys/fs/bpf/m']]) {
      r = await spawnCli(args, state);
      expect(existsSync(marker), args.join(' ')).toBe(false);
      if (args[0] === 'cat') expect(errLine(r)).toMatch(/^bpf-iter: Error: EPERM: .*no sha256 recorded/);
      else expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);
});
