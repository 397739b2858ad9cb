/** bpftool's conventions: -V/version, global -j/-p, iter pin, prog show, map show, help per command. */
import { describe, expect, it } from 'vitest';
import { cli, errLine, tempState, writeTaskProgram } from './helpers.js';

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);

describe('bpftool conventions', () => {
  it('-V / --version / version (-j: JSON)', async () => {
    const st = tempState().state;
    for (const a of [['-V'], ['--version'], ['version']]) {
      const r = await cli(a, st);
      expect(r.code, a.join(' ')).toBe(0);
      expect(r.stdout, a.join(' ')).toMatch(/^bpf-iter v\d+\.\d+\.\d+\nusing node v\d+\.\d+\.\d+\nkernels: synthetic, host, bpf\n$/);
    }
    const j = await cli(['-j', 'version'], st);
    expect(JSON.parse(j.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), node_version: process.versions.node, kernels: ['synthetic', 'host', 'bpf'] });
    expect(lines(j.stdout)).toHaveLength(1);
  });

  it('-j is one line of JSON, -p indented (implies -j), before or after the command; no-output commands print null', async () => {
    const st = tempState().state;
    expect((await cli(['-j', 'pin', 'task', '/sys/fs/bpf/t'], st)).stdout).toBe('null\n');
    for (const a of [['-j', 'link', 'show'], ['link', 'show', '--json'], ['link', 'show', '-j']]) {
      const r = await cli(a, st);
      expect(lines(r.stdout), a.join(' ')).toHaveLength(1);
      expect(JSON.parse(r.stdout)[0], a.join(' ')).toMatchObject({ target_name: 'task', pinned: ['/sys/fs/bpf/t'] });
    }
    const p = await cli(['-p', 'link', 'show'], st);
    expect(lines(p.stdout).length).toBeGreaterThan(5);
    expect(p.stdout).toMatch(/^\[\n {2}\{\n {4}"id": /);
    const t = await cli(['targets', '-p'], st);
    const tj = await cli(['targets', '-j'], st);
    expect(lines(tj.stdout)).toHaveLength(1);
    expect(lines(t.stdout).length).toBeGreaterThan(1);
    expect(JSON.parse(t.stdout)).toEqual(JSON.parse(tj.stdout));
    // cat: -j is the JSON dumper (one object per line), -p indents each object.
    const cj = lines((await cli(['cat', 'task', '-j', '--pid', '1'], st)).stdout).map((l) => JSON.parse(l));
    expect(cj[0]).toMatchObject({ tgid: 1 });
    const cp = await cli(['-p', 'cat', 'task', '--pid', '1'], st);
    expect(cp.stdout).toMatch(/^\{\n {2}"tgid": 1,\n/);
    expect((await cli(['-j', 'rm', '/sys/fs/bpf/t'], st)).stdout).toBe('null\n');
    const run = await cli(['-j', 'run', writeTaskProgram(tempState().dir)], st);
    expect(run.code).toBe(1);
    expect(errLine(run)).toMatch(/^bpf-iter: Error: EINVAL: -j\/--json applies to targets/);
  });

  it('iter pin is pin; a -p pin keeps its indentation', async () => {
    const st = tempState().state;
    expect((await cli(['iter', 'pin', 'task', '/sys/fs/bpf/it', '--pid', '1'], st)).code).toBe(0);
    expect((await cli(['cat', '/sys/fs/bpf/it'], st)).stdout).toBe((await cli(['cat', 'task', '--pid', '1'], st)).stdout);
    expect((await cli(['-p', 'iter', 'pin', 'task', '/sys/fs/bpf/ij', '--pid', '1'], st)).stdout).toBe('null\n');
    expect((await cli(['cat', '/sys/fs/bpf/ij'], st)).stdout).toBe((await cli(['cat', 'task', '-p', '--pid', '1'], st)).stdout);
  });

  it("prog show --kernel MODEL: the model's programs and the pinned ones; id/name/tag select; map show: the maps", async () => {
    const { dir, state } = tempState();
    const prog = writeTaskProgram(dir);
    // A seeded kernel is built afresh by each invocation (the default one is shared in-process), so ids repeat.
    const K = ['--kernel', 'synthetic:9'];
    expect((await cli(['pin', prog, '/sys/fs/bpf/p', ...K], state)).code).toBe(0);
    const progs = JSON.parse((await cli(['-j', 'prog', 'show', ...K], state)).stdout) as { id: number; type: string; name: string; tag: string; attach_func_name?: string }[];
    const mine = progs.find((p) => p.name === 'dump_tasks')!;
    expect(mine).toMatchObject({ type: 'tracing', attach_func_name: 'bpf_iter_task' });
    expect(mine.tag).toMatch(/^[0-9a-f]{16}$/);
    // The tag is the one the link reports.
    const link = JSON.parse((await cli(['-j', 'link', 'show'], state)).stdout)[0];
    expect(link).toMatchObject({ prog_id: mine.id, prog_tag: mine.tag });
    const text = (await cli(['prog', 'show', 'id', String(mine.id), ...K], state)).stdout;
    expect(text).toBe(`${mine.id}: tracing  name dump_tasks  tag ${mine.tag}\n\tattach_func_name bpf_iter_task  uid 0\n`);
    expect(JSON.parse((await cli(['-j', 'prog', 'show', 'tag', mine.tag, ...K], state)).stdout)).toEqual([mine]);
    const none = await cli(['prog', 'show', 'id', '99999', ...K], state);
    expect(none.code).toBe(1);
    expect(errLine(none)).toBe('bpf-iter: Error: ENOENT: no program with id 99999');
    expect(errLine(await cli(['prog', 'show', 'pinned', 'x'], state))).toMatch(/^bpf-iter: Error: EINVAL: expected id ID \| name NAME \| tag TAG/);
    const maps = JSON.parse((await cli(['-j', 'map', 'show', ...K], state)).stdout) as { id: number; type: string; bytes_key: number; max_entries: number }[];
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) expect(m).toEqual(expect.objectContaining({ id: expect.any(Number), type: expect.any(String), bytes_key: expect.any(Number), bytes_value: expect.any(Number), max_entries: expect.any(Number), flags: expect.any(Number) }));
    const m0 = maps[0]!;
    expect((await cli(['map', 'show', 'id', String(m0.id), ...K], state)).stdout).toMatch(new RegExp(`^${m0.id}: ${m0.type}  name \\S*  flags 0x[0-9a-f]+\\n\\tkey ${m0.bytes_key}B  value \\d+B  max_entries ${m0.max_entries}\\n$`));
    // A bad --kernel is a usage error: exit 2, one line naming the errno.
    const bad = await cli(['map', 'show', '--kernel', 'mars'], state);
    expect(bad.code).toBe(2);
    expect(errLine(bad)).toMatch(/^bpf-iter: error: EINVAL: --kernel/);
  });

  it('help per command (bpftool: PROG help)', async () => {
    const st = tempState().state;
    for (const a of [['help', 'prog'], ['prog', 'help'], ['link', '--help'], ['iter', 'pin', '--help'], ['map', 'show', '--help']]) {
      const r = await cli(a, st);
      expect(r.code, a.join(' ')).toBe(0);
      expect(r.stdout, a.join(' ')).toMatch(/^Usage: bpf-iter /);
    }
  });
});
