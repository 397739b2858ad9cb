/**
 * The CLI robustness suite: the real bin as a child process, one case per
 * adversarial input. Each case asserts the exit code, the single stderr
 * line (or none) and the state file after. Cases run a few at a time.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnCli, tempState, type CliResult } from './helpers.js';

/** A state file with `dirs` and task-dumper pins at `pins` (as `pin task PATH` writes them). */
export function stateWith(dirs: unknown[], pins: unknown[], metas: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, bpffs: { version: 1, mount: '/sys/fs/bpf', dirs, pins }, pins: metas });
}
const taskPin = (path: string) => ({ path, kind: 'link', target: 'task', prog: { name: 'dump_task', sec: 'iter/task', origin: { module: 'bpf-iter:builtin', export: 'task' } }, link_info: '0'.repeat(32) });

interface Case {
  name: string;
  /** State file text before the run (none: no file). */
  state?: string;
  args: string[];
  code: number;
  /** The one stderr line; '' for none. */
  err: RegExp | '';
  out?: RegExp;
  /** Checks on the state file after (null: there is none). */
  after?: (state: { dirs: unknown[]; pins: { path: string }[] } | null) => void;
}

const paths = (s: { pins: { path: string }[] } | null) => s?.pins.map((p) => p.path);

export const CASES: Case[] = [
  // Paths walk like the kernel's; names with control characters are refused, names print escaped.
  { name: 'a/../b with a missing: ENOENT', args: ['pin', 'task', '/sys/fs/bpf/a/../b'], code: 1, err: /^bpf-iter: Error: ENOENT: no such file or directory: \/sys\/fs\/bpf\/a\/\.\.\/b$/, after: (s) => expect(s).toBeNull() },
  {
    name: 'a/../b with a a directory: pinned at b',
    state: stateWith(['/sys/fs/bpf/a'], []),
    args: ['pin', 'task', '/sys/fs/bpf/a/../b'],
    code: 0,
    err: '',
    after: (s) => expect(paths(s)).toEqual(['/sys/fs/bpf/b']),
  },
  {
    name: 'a/../b with a a pin: ENOTDIR',
    state: stateWith([], [taskPin('/sys/fs/bpf/a')]),
    args: ['pin', 'task', '/sys/fs/bpf/a/../b'],
    code: 1,
    err: /^bpf-iter: Error: ENOTDIR: /,
    after: (s) => expect(paths(s)).toEqual(['/sys/fs/bpf/a']),
  },
  { name: '//./ and trailing slash resolve', args: ['pin', 'task', '/sys/fs//bpf/./t/'], code: 0, err: '', after: (s) => expect(paths(s)).toEqual(['/sys/fs/bpf/t']) },
  { name: 'a newline in a name: EINVAL, escaped', args: ['pin', 'task', '/sys/fs/bpf/a\nb'], code: 1, err: /^bpf-iter: Error: EINVAL: names with control characters are refused: \/sys\/fs\/bpf\/a\\nb$/, after: (s) => expect(s).toBeNull() },
  { name: 'ESC in a name: EINVAL, escaped', args: ['mkdir', '/sys/fs/bpf/\x1b[31mred'], code: 1, err: /^bpf-iter: Error: EINVAL: .*\/sys\/fs\/bpf\/\\x1b\[31mred$/, after: (s) => expect(s).toBeNull() },
  {
    name: 'link show escapes a hand-made name',
    state: stateWith([], [taskPin('/sys/fs/bpf/x\x1b[2Jy')]),
    args: ['link', 'show'],
    code: 0,
    err: '',
    out: /\tpinned \/sys\/fs\/bpf\/x\\x1b\[2Jy\n/,
  },
  // One bad entry does not break every command; rm removes it; pathless ones are reported and dropped.
  {
    name: 'a bad dir entry: link show lists the rest and reports it',
    state: stateWith(['/etc/x'], [taskPin('/sys/fs/bpf/t')]),
    args: ['link', 'show'],
    code: 0,
    err: /^bpf-iter: Warning: state file .*: bad entry directory \/etc\/x: EPERM: .*; skipped \(bpf-iter rm \/etc\/x removes it\)$/,
    out: /\tpinned \/sys\/fs\/bpf\/t\n/,
  },
  {
    name: 'a bad dir entry: pin works and keeps it',
    state: stateWith(['/etc/x'], []),
    args: ['pin', 'task', '/sys/fs/bpf/t'],
    code: 0,
    err: '',
    after: (s) => {
      expect(s!.dirs).toEqual(['/etc/x']);
      expect(paths(s)).toEqual(['/sys/fs/bpf/t']);
    },
  },
  { name: 'a bad dir entry: rm removes it', state: stateWith(['/etc/x'], []), args: ['rm', '/etc/x'], code: 0, err: '', after: (s) => expect(s!.dirs).toEqual([]) },
  {
    name: 'a bad pin entry: cat says why, rm removes it',
    state: stateWith([], [{ ...taskPin('/sys/fs/bpf/bad'), target: 'nope' }, taskPin('/sys/fs/bpf/t')]),
    args: ['rm', '/sys/fs/bpf/bad'],
    code: 0,
    err: '',
    after: (s) => expect(paths(s)).toEqual(['/sys/fs/bpf/t']),
  },
  {
    name: 'a pin entry with a bad record: cat is one EINVAL line',
    state: stateWith([], [taskPin('/sys/fs/bpf/t')], { '/sys/fs/bpf/t': { kernel: 'synthetic:1', params: { pid: 'x' } } }),
    args: ['cat', '/sys/fs/bpf/t'],
    code: 1,
    err: /^bpf-iter: Error: EINVAL: cannot restore pin \/sys\/fs\/bpf\/t: bad pid$/,
  },
  {
    name: 'null and {} entries: reported, dropped at the next change',
    state: stateWith([null], [null, {}, taskPin('/sys/fs/bpf/t')]),
    args: ['pin', 'task', '/sys/fs/bpf/u'],
    code: 0,
    err: '',
    after: (s) => {
      expect(s!.dirs).toEqual([]);
      expect(paths(s)).toEqual(['/sys/fs/bpf/t', '/sys/fs/bpf/u']);
    },
  },
  {
    name: 'null and {} entries: link show, one line each, no TypeError',
    state: stateWith([], [null, {}]),
    args: ['link', 'show'],
    code: 0,
    err: /^bpf-iter: Warning: state file .*: bad entry pins\[\d\]: EINVAL: not a pin \((null|\{\})\); skipped \(dropped at the next change\)$/,
  },
  // Numbers are the kernel's types: u32 pid/tid/map ids; --set checked against the global's type.
  { name: '--pid 2^32: EINVAL, exit 2, not wrapped', args: ['cat', 'task', '--pid', '4294967296'], code: 2, err: /^bpf-iter: error: option '--pid <N>' argument '4294967296' is invalid\. EINVAL: out of range for a u32/ },
  { name: '--tid 2^32+1: EINVAL, exit 2', args: ['pin', 'task', '/sys/fs/bpf/t', '--tid', '4294967297'], code: 2, err: /^bpf-iter: error: option '--tid <N>' .*EINVAL: out of range for a u32/, after: (s) => expect(s).toBeNull() },
  { name: '--map -1: EINVAL, exit 2', args: ['cat', 'bpf_map_elem', '--map', '-1'], code: 2, err: /^bpf-iter: error: option '--map <ID>' .*EINVAL: expected a u32/ },
  { name: '--pid 2^32-1 is a u32: no such process, nothing printed', args: ['cat', 'task', '--pid', '4294967295'], code: 0, err: '', out: /^$/ },
  { name: '--set family=abc: EINVAL', args: ['pin', 'tcp', '/sys/fs/bpf/t', '--set', 'family=abc'], code: 1, err: /^bpf-iter: Error: EINVAL: --set family=abc: family is an integer/, after: (s) => expect(s).toBeNull() },
  { name: '--set family=1e400: EINVAL', args: ['pin', 'tcp', '/sys/fs/bpf/t', '--set', 'family=1e400'], code: 1, err: /^bpf-iter: Error: EINVAL: --set family=1e400: family is an integer/ },
  { name: 'a state that is not an object: one EINVAL line', state: 'null', args: ['link', 'show'], code: 1, err: /^bpf-iter: Error: EINVAL: state file .*: unknown format/ },
];

async function runCase(c: Case): Promise<{ r: CliResult; after: string | null }> {
  const { state } = tempState();
  if (c.state !== undefined) writeFileSync(state, c.state, { mode: 0o600 });
  const r = await spawnCli(c.args, state);
  return { r, after: existsSync(state) ? readFileSync(state, 'utf8') : null };
}

/** Runs the cases `n` at a time (each is a child process). */
export async function runCases(cases: Case[], n = 3): Promise<Map<Case, { r: CliResult; after: string | null }>> {
  const res = new Map<Case, { r: CliResult; after: string | null }>();
  for (let i = 0; i < cases.length; i += n) {
    const batch = cases.slice(i, i + n);
    const rs = await Promise.all(batch.map(runCase));
    batch.forEach((c, j) => res.set(c, rs[j]!));
  }
  return res;
}

/** Asserts one case's exit code, stderr line, stdout and state. */
export function checkCase(c: Case, { r, after }: { r: CliResult; after: string | null }): void {
  expect.soft(r.code, `${c.name}: ${r.stderr}`).toBe(c.code);
  const errLines = r.stderr.split('\n').filter(Boolean);
  if (c.err === '') expect.soft(errLines, c.name).toEqual([]);
  else {
    // One line per bad entry for warnings (a case may have several), exactly one for an error.
    if (c.code !== 0) expect.soft(errLines, c.name).toHaveLength(1);
    expect.soft(errLines.length, c.name).toBeGreaterThan(0);
    for (const l of errLines) expect.soft(l, c.name).toMatch(c.err);
  }
  if (c.out) expect.soft(r.stdout, c.name).toMatch(c.out);
  if (c.after) c.after(after === null ? null : (JSON.parse(after) as { bpffs: { dirs: unknown[]; pins: { path: string }[] } }).bpffs);
}

describe('CLI robustness (subprocess)', () => {
  it(`${CASES.length} cases: exit code, one stderr line, state after`, async () => {
    const res = await runCases(CASES);
    for (const c of CASES) checkCase(c, res.get(c)!);
  }, 300_000);
});
