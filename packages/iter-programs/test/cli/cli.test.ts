/** The bpf-iter CLI, in-process (runCli with collected output). */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, errLine, SRC_INDEX, tempState, writeTaskProgram } from './helpers.js';

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);

describe('targets', () => {
  it('lists all 18 targets with ctx fields and link parameters', async () => {
    const { state } = tempState();
    const r = await cli(['targets', '--json'], state);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout) as { target: string; ctx: { field: string; type: string }[]; link_params: string[] }[];
    expect(all.map((t) => t.target).sort()).toEqual(
      ['bpf_link', 'bpf_map', 'bpf_map_elem', 'bpf_prog', 'bpf_sk_storage_map', 'cgroup', 'dmabuf', 'ipv6_route', 'kmem_cache', 'ksym', 'netlink', 'sockmap', 'task', 'task_file', 'task_vma', 'tcp', 'udp', 'unix'].sort(),
    );
    const tf = all.find((t) => t.target === 'task_file')!;
    expect(tf.ctx.map((f) => f.field)).toEqual(['task', 'fd', 'file']);
    expect(tf.link_params.join(' ')).toMatch(/--pid.*--tid/);
    expect(all.find((t) => t.target === 'udp')!.ctx.map((f) => f.field)).toEqual(['udp_sk', 'uid', 'bucket']);
    expect(all.find((t) => t.target === 'cgroup')!.link_params.join(' ')).toMatch(/--order/);
    const text = await cli(['targets'], state);
    expect(text.stdout).toMatch(/^task_file\n\tctx: meta, task \(task_struct \*, nullable\), fd \(u32\), file \(file \*, nullable\)\n/m);
  });
});

describe('cat TARGET', () => {
  it('task_file prints the seed table', async () => {
    const r = await cli(['cat', 'task_file'], tempState().state);
    expect(r.code).toBe(0);
    const l = lines(r.stdout);
    expect(l[0]).toMatch(/^\s+tgid\s+pid\s+fd\s+file$/);
    expect(l.length).toBeGreaterThan(10);
    for (const x of l.slice(1, 50)) expect(x).toMatch(/^\s*\d+\s+\d+\s+\d+\s+[0-9a-f]+$/);
  });

  it('task_vma --pid 1 prints /proc/1/maps lines of pid 1 only', async () => {
    const r = await cli(['cat', 'task_vma', '--pid', '1'], tempState().state);
    expect(r.code).toBe(0);
    const l = lines(r.stdout);
    expect(l.length).toBeGreaterThan(5);
    for (const x of l) expect(x).toMatch(/^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][sp] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+/);
    const json = await cli(['cat', 'task_vma', '--pid', '1', '--json'], tempState().state);
    const objs = lines(json.stdout).map((x) => JSON.parse(x));
    expect(objs).toHaveLength(l.length);
    expect(new Set(objs.map((o) => o.tgid))).toEqual(new Set([1]));
    expect(objs[0].start).toBe('0x' + l[0]!.split('-')[0]);
  });

  it('tcp --family selects one /proc format; synthetic:SEED is another kernel', async () => {
    const st = tempState().state;
    const v4 = await cli(['cat', 'tcp', '--family', '4'], st);
    const v6 = await cli(['cat', 'tcp', '--family', '6'], st);
    expect(lines(v4.stdout)[0]).toMatch(/^ {2}sl {2}local_address rem_address/);
    expect(lines(v6.stdout)[0]).toMatch(/^ {2}sl {2}local_address {25}remote_address/);
    for (const x of lines(v4.stdout).slice(1)) expect(x).toMatch(/^\s*\d+: [0-9A-F]{8}:[0-9A-F]{4} /);
    const other = await cli(['cat', 'task', '--kernel', 'synthetic:7'], st);
    const dflt = await cli(['cat', 'task', '--kernel', 'synthetic'], st);
    expect(other.code).toBe(0);
    expect(other.stdout).not.toBe(dflt.stdout);
    expect((await cli(['cat', 'task', '--kernel', 'synthetic:1'], st)).stdout).toBe(dflt.stdout);
  });

  it('--json: every line parses, with the stable fields per target', async () => {
    const st = tempState().state;
    const want: Record<string, string[]> = {
      task: ['tgid', 'pid', 'comm', 'state', 'uid'],
      task_file: ['tgid', 'pid', 'fd', 'path', 'inode', 'f_op', 'f_op_name'],
      tcp: ['family', 'state', 'local', 'remote', 'uid', 'inode'],
      bpf_map: ['id', 'type', 'name'],
      unix: ['family', 'state', 'inode'],
      ksym: ['name', 'type', 'value'],
    };
    for (const [t, keys] of Object.entries(want)) {
      const r = await cli(['cat', t, '--json'], st);
      expect(r.code, r.stderr).toBe(0);
      const objs = lines(r.stdout).map((x) => JSON.parse(x) as Record<string, unknown>);
      expect(objs.length, t).toBeGreaterThan(0);
      for (const k of keys) expect(objs[0], `${t}.${k}`).toHaveProperty(k);
    }
  });

  it('cgroup --order walks from --cgroup; bpf_map_elem --map ID', async () => {
    const st = tempState().state;
    const r = await cli(['cat', 'cgroup', '--cgroup', '/system.slice', '--order', 'descendants_pre', '--json'], st);
    expect(r.code, r.stderr).toBe(0);
    const paths = lines(r.stdout).map((x) => JSON.parse(x).path as string);
    expect(paths[0]).toBe('/system.slice');
    for (const p of paths) expect(p.startsWith('/system.slice')).toBe(true);
    const maps = lines((await cli(['cat', 'bpf_map', '--json'], st)).stdout).map((x) => JSON.parse(x));
    const id = maps.find((m) => m.type === 'hash' || m.type === 'array')?.id ?? maps[0].id;
    const elems = await cli(['cat', 'bpf_map_elem', '--map', String(id)], st);
    expect(elems.code, elems.stderr).toBe(0);
    for (const x of lines(elems.stdout)) expect(x).toMatch(/^key: [0-9a-f]* value: [0-9a-f]*$/);
  });
});

describe('errors', () => {
  it('print one bpf-iter: Error: ERRNO line and exit 1', async () => {
    const st = tempState().state;
    const cases: [string[], RegExp][] = [
      [['cat', 'no_such_target'], /^bpf-iter: Error: ENOENT: .*no_such_target/],
      [['cat', 'task', '--pid', '1', '--tid', '1'], /^bpf-iter: Error: EINVAL: /],
      [['cat', 'cgroup'], /^bpf-iter: Error: EINVAL: .*--order/],
      [['cat', 'cgroup', '--cgroup', '/nope', '--order', 'self_only'], /^bpf-iter: Error: ENOENT: /],
      [['cat', 'bpf_map_elem', '--map', '99999'], /^bpf-iter: Error: ENOENT: map id 99999/],
      [['cat', 'tcp', '--pid', '1'], /^bpf-iter: Error: EINVAL: target tcp takes no --pid/],
      [['cat', 'task', '--family', '4'], /^bpf-iter: Error: EINVAL: --family/],
      [['cat', '/sys/fs/bpf/missing'], /^bpf-iter: Error: ENOENT: no such file or directory: \/sys\/fs\/bpf\/missing$/],
      [['run', '/nonexistent/prog.mts'], /^bpf-iter: Error: ENOENT: /],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args, st);
      expect(r.code, args.join(' ')).toBe(1);
      expect(errLine(r), args.join(' ')).toMatch(re);
      expect(r.stdout).toBe('');
    }
  });

  it('usage errors exit 2 with one line', async () => {
    const st = tempState().state;
    for (const args of [['cat'], ['cat', 'task', '--bogus'], ['cat', 'task', '--pid', 'x'], ['cat', 'cgroup', '--order', 'sideways'], ['frobnicate'], ['cat', 'task', '--kernel', 'hots'], ['prog', 'show', '--kernel', 'mars']]) {
      const r = await cli(args, st);
      expect(r.code, args.join(' ')).toBe(2);
      expect(errLine(r)).toMatch(/^bpf-iter: error: /);
      expect(r.stdout).toBe('');
    }
    // The --kernel line names the errno and the accepted values.
    expect(errLine(await cli(['cat', 'task', '--kernel', 'hots'], st))).toMatch(/^bpf-iter: error: EINVAL: --kernel must be .* not 'hots'$/);
    expect((await cli(['--help'], st)).code).toBe(0);
  });
});

describe('run', () => {
  it('runs the first program of a module; --set filters; --prog picks another', async () => {
    const { dir, state } = tempState();
    const prog = writeTaskProgram(dir);
    const all = lines((await cli(['run', prog], state)).stdout);
    expect(all.length).toBeGreaterThan(20);
    const r = await cli(['run', prog, '--set', 'target_pid=1', '--set', 'label=hi'], state);
    expect(r.code, r.stderr).toBe(0);
    const l = lines(r.stdout);
    expect(l.length).toBeGreaterThan(0);
    for (const x of l) expect(x).toMatch(/^hi 1 \d+ \S+/);
    const hex = lines((await cli(['run', prog, '--set', 'target_pid=0x1'], state)).stdout);
    expect(hex).toEqual(l.map((x) => x.replace(/^hi/, 'task')));
    const viaLink = lines((await cli(['run', prog, '--pid', '1', '--set', 'label=hi'], state)).stdout);
    expect(viaLink).toEqual(l);
    const maps = await cli(['run', prog, '--prog', 'other'], state);
    expect(lines(maps.stdout)[0]).toMatch(/^map \d+$/);
  });

  it('--set is checked against the global\'s type: EINVAL for n=abc, n=1e400, flag=yes; nothing run', async () => {
    const { dir, state } = tempState();
    const file = join(dir, 'typed.mts');
    writeFileSync(
      file,
      `import { SEC, BPF_SEQ_PRINTF } from ${JSON.stringify(SRC_INDEX)};
export const bss = { n: 0, big: 0n, flag: false, ratio: 0.5, label: 'x' };
export const p = SEC('iter/task', function p(ctx, g) {
  if (ctx.task && ctx.task.tgid === 1 && ctx.task.pid === 1) BPF_SEQ_PRINTF(ctx.meta.seq, '%s %s %s %s %s\\n', String(g.bss.n), String(g.bss.big), String(g.bss.flag), String(g.bss.ratio), g.bss.label);
  return 0;
});
`,
    );
    for (const [set, want] of [
      ['n=abc', /^bpf-iter: Error: EINVAL: --set n=abc: n is an integer/],
      ['n=1e400', /^bpf-iter: Error: EINVAL: --set n=1e400: n is an integer/],
      ['n=9007199254740993', /^bpf-iter: Error: EINVAL: --set n=9007199254740993: n is an integer within/],
      ['n=1.5', /^bpf-iter: Error: EINVAL: --set n=1.5: n is an integer/],
      ['flag=yes', /^bpf-iter: Error: EINVAL: --set flag=yes: flag is a bool: true or false$/],
      ['big=0x1p3', /^bpf-iter: Error: EINVAL: --set big=0x1p3: big is an integer/],
      ['ratio=1e400', /^bpf-iter: Error: EINVAL: --set ratio=1e400: ratio is a finite number$/],
    ] as const) {
      const r = await cli(['run', file, '--set', set], state);
      expect(r.code, set).toBe(1);
      expect(errLine(r), set).toMatch(want);
      expect(r.stdout, set).toBe('');
    }
    const ok = await cli(['run', file, '--set', 'n=-0x10', '--set', 'big=18446744073709551615', '--set', 'flag=true', '--set', 'ratio=2.5e-1', '--set', 'label=1e400'], state);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('-16 18446744073709551615 true 0.25 1e400\n');
  });

  it('unknown --set name → EINVAL; unknown --prog → ENOENT', async () => {
    const { dir, state } = tempState();
    const prog = writeTaskProgram(dir);
    const r = await cli(['run', prog, '--set', 'nope=1'], state);
    expect(r.code).toBe(1);
    expect(errLine(r)).toMatch(/^bpf-iter: Error: EINVAL: unknown global 'nope'/);
    const p = await cli(['run', prog, '--prog', 'zzz'], state);
    expect(errLine(p)).toMatch(/^bpf-iter: Error: ENOENT: no program 'zzz'/);
  });
});

describe('pin / cat PATH / link show / rm', () => {
  it('pins persist across invocations; every cat is a fresh, complete iteration', async () => {
    const { state } = tempState();
    const direct = await cli(['cat', 'task_file', '--pid', '1'], state);
    expect((await cli(['pin', 'task_file', '/sys/fs/bpf/tf', '--pid', '1'], state)).code).toBe(0);
    const a = await cli(['cat', '/sys/fs/bpf/tf'], state);
    const b = await cli(['cat', '/sys/fs/bpf/tf'], state);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(direct.stdout);
    expect(b.stdout).toBe(a.stdout);
    const show = await cli(['link', 'show'], state);
    expect(show.stdout).toMatch(/^\d+: iter {2}prog \d+ {2}target_name task_file {2}task_type PID {2}pid 1\n/m);
    expect(show.stdout).toMatch(/\tpinned \/sys\/fs\/bpf\/tf\n/);
    const json = JSON.parse((await cli(['link', 'show', '--json'], state)).stdout);
    expect(json).toEqual([expect.objectContaining({ type: 'iter', target_name: 'task_file', task_type: 'PID', pid: 1, prog_name: 'dump_task_file', pinned: ['/sys/fs/bpf/tf'] })]);
    expect((await cli(['rm', '/sys/fs/bpf/tf'], state)).code).toBe(0);
    const gone = await cli(['cat', '/sys/fs/bpf/tf'], state);
    expect(gone.code).toBe(1);
    expect(errLine(gone)).toBe('bpf-iter: Error: ENOENT: no such file or directory: /sys/fs/bpf/tf');
    expect(JSON.parse((await cli(['link', 'show', '--json'], state)).stdout)).toEqual([]);
  });

  it('pins a program module with --set, cgroup/map links, kernels; link show prints their parameters', async () => {
    const { dir, state } = tempState();
    const prog = writeTaskProgram(dir);
    expect((await cli(['mkdir', '/sys/fs/bpf/d'], state)).code).toBe(0);
    expect((await cli(['pin', prog, '/sys/fs/bpf/d/p', '--set', 'target_pid=1'], state)).stderr).toBe('');
    expect((await cli(['pin', 'cgroup', '/sys/fs/bpf/cg', '--cgroup', '/system.slice', '--order', 'children'], state)).stderr).toBe('');
    expect((await cli(['pin', 'bpf_map_elem', '/sys/fs/bpf/elems', '--map', '1'], state)).stderr).toBe('');
    expect((await cli(['pin', 'tcp', '/sys/fs/bpf/tcp6', '--family', '6', '--kernel', 'synthetic:3'], state)).stderr).toBe('');
    const p = await cli(['cat', '/sys/fs/bpf/d/p'], state);
    expect(p.stdout).toBe((await cli(['run', prog, '--set', 'target_pid=1'], state)).stdout);
    expect((await cli(['cat', '/sys/fs/bpf/tcp6'], state)).stdout).toBe((await cli(['cat', 'tcp', '--family', '6', '--kernel', 'synthetic:3'], state)).stdout);
    expect((await cli(['cat', '/sys/fs/bpf/cg'], state)).stdout).toBe((await cli(['cat', 'cgroup', '--cgroup', '/system.slice', '--order', 'children'], state)).stdout);
    const rows = JSON.parse((await cli(['link', 'show', '--json'], state)).stdout) as Record<string, unknown>[];
    const by = (t: string) => rows.find((r) => r.target_name === t)!;
    expect(by('cgroup')).toMatchObject({ cgroup_path: '/system.slice', order: 'children', pinned: ['/sys/fs/bpf/cg'] });
    expect(by('bpf_map_elem')).toMatchObject({ map_id: 1 });
    expect(by('tcp')).toMatchObject({ kernel: 'synthetic:3' });
    expect(by('task')).toMatchObject({ prog_name: 'dump_tasks', task_type: 'ALL', pinned: ['/sys/fs/bpf/d/p'] });
    const text = (await cli(['link', 'show'], state)).stdout;
    expect(text).toMatch(/target_name cgroup {2}cgroup_id \d+ {2}cgroup_path \/system.slice {2}order children/);
    expect(text).toMatch(/target_name bpf_map_elem {2}map_id 1\n/);
  });

  it('bpffs rules: EEXIST, ENOENT for a missing dir, EPERM outside the mount or with a dot', async () => {
    const { state } = tempState();
    expect((await cli(['pin', 'task', '/sys/fs/bpf/t'], state)).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['pin', 'task', '/sys/fs/bpf/t'], /^bpf-iter: Error: EEXIST: /],
      [['pin', 'task', '/sys/fs/bpf/nodir/t'], /^bpf-iter: Error: ENOENT: /],
      [['pin', 'task', '/tmp/t'], /^bpf-iter: Error: EPERM: /],
      [['pin', 'task', '/sys/fs/bpf/a.b'], /^bpf-iter: Error: EPERM: .*'\.'/],
      [['mkdir', '/sys/fs/bpf/t'], /^bpf-iter: Error: EEXIST: /],
      [['rm', '/sys/fs/bpf/none'], /^bpf-iter: Error: ENOENT: /],
      [['cat', '/sys/fs/bpf/t', '--pid', '1'], /^bpf-iter: Error: EINVAL: .*is a pin/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args, state);
      expect(r.code, args.join(' ')).toBe(1);
      expect(errLine(r), args.join(' ')).toMatch(re);
    }
    // Failed pins changed nothing.
    expect(JSON.parse((await cli(['link', 'show', '--json'], state)).stdout)).toHaveLength(1);
  });

  it('a pin whose module is gone reports why when used, and can still be removed', async () => {
    const { dir, state } = tempState();
    const prog = writeTaskProgram(dir);
    expect((await cli(['pin', prog, '/sys/fs/bpf/p'], state)).code).toBe(0);
    const { rmSync } = await import('node:fs');
    rmSync(prog);
    const r = await cli(['cat', '/sys/fs/bpf/p'], state);
    expect(r.code).toBe(1);
    expect(errLine(r)).toMatch(/^bpf-iter: Error: ENOENT: cannot restore pin \/sys\/fs\/bpf\/p: .*no longer exists/);
    expect(errLine(await cli(['pin', 'task', '/sys/fs/bpf/p'], state))).toMatch(/EEXIST/);
    // Like a kernel program whose object file was deleted, the pin is still listed (from its record).
    const show = await cli(['link', 'show'], state);
    expect(show.code).toBe(0);
    expect(show.stderr).toBe('');
    expect(show.stdout).toMatch(/\tpinned \/sys\/fs\/bpf\/p\n/);
    expect((await cli(['rm', '/sys/fs/bpf/p'], state)).code).toBe(0);
    expect((await cli(['pin', 'task', '/sys/fs/bpf/p'], state)).code).toBe(0);
  });
});
