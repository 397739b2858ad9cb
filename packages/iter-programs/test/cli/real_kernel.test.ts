/**
 * The CLI's link parameters on the real kernel, each proven by what the
 * kernel then iterates: `--tid`, `--pid-fd`, `--cgroup`/`--order`, and
 * `map { id | pinned | name }` for bpf_map_elem; plus the usage errors.
 * Skips with the reason only where BPF cannot run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cgroup2MountPoint } from '@bpf-iter/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, suiteTitle } from '../../../core/test/bpf_fixture.js';
import { attachIter, openObject } from '../../src/index.js';
import { cli, tempState } from './helpers.js';

const HDR = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar _license[] SEC("license") = "GPL";\n';
const FILES = `${HDR}SEC("iter/task_file") int files(struct bpf_iter__task_file *ctx)
{ struct task_struct *t = ctx->task; if (!t || !ctx->file) return 0; BPF_SEQ_PRINTF(ctx->meta->seq, "%d %d %d\\n", t->tgid, t->pid, ctx->fd); return 0; }
`;
const CGROUP = `${HDR}SEC("iter/cgroup") int cg(struct bpf_iter__cgroup *ctx)
{ struct cgroup *c = ctx->cgroup; if (!c) return 0; BPF_SEQ_PRINTF(ctx->meta->seq, "%llu %d\\n", c->kn->id, c->level); return 0; }
`;
const ELEMS = `${HDR}struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 3); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("iter/bpf_map_elem") int elems(struct bpf_iter__bpf_map_elem *ctx)
{ __u32 *k = ctx->key; __u64 *v = ctx->value; if (!k || !v) return 0; BPF_SEQ_PRINTF(ctx->meta->seq, "%u %llu\\n", *k, *v); return 0; }
`;

const a = availability('CLI on the real kernel');

describe.skipIf(!a.ok)(suiteTitle('CLI on the real kernel: link parameters', a), () => {
  let dir: string;
  let state: string;
  let child: ChildProcess;
  let pid: number;
  const f = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-cli-real-'));
    state = tempState().state;
    child = spawn('sleep', ['1000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    pid = child.pid!;
    await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--pid, --tid and --pid-fd select the same single-threaded process: its fds exactly', async () => {
    const src = f('files.bpf.c', FILES);
    const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((x, y) => x - y);
    const want = fds.map((fd) => `${pid} ${pid} ${fd}\n`).join('');
    for (const opt of ['--pid', '--tid', '--pid-fd']) {
      const r = await cli(['run', src, opt, String(pid)], state);
      expect(r.stderr, opt).toBe('');
      expect(r.stdout, opt).toBe(want);
    }
    expect((await cli(['run', src, '--pid', String(pid), '--tid', String(pid)], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: --pid, --tid and --pid-fd are exclusive/);
    expect((await cli(['run', src, '--pid-fd', '999999999'], state)).stderr).toMatch(/^bpf-iter: Error: ESRCH: pidfd_open\(999999999\)/);
    // The kernel records a tid link as such.
    using obj = openObject(src).load();
    using link = attachIter(obj.program('files'), { linkInfo: { task: { tid: pid } } });
    expect(link.info().iter.task).toEqual({ tid: pid, pid: 0 });
  });

  it('--cgroup / --order: self_only of / is the root of the default hierarchy (cgroup id 1) alone; descendants_pre starts there', async () => {
    const src = f('cg.bpf.c', CGROUP);
    const r = await cli(['run', src, '--cgroup', '/', '--order', 'self_only'], state);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 0\n');
    const pre = await cli(['run', src, '--cgroup', '/', '--order', 'descendants_pre'], state);
    const lines = pre.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe('1 0');
    for (const l of lines.slice(1)) expect(Number(l.split(' ')[1])).toBeGreaterThan(0);
    const mnt = cgroup2MountPoint();
    if (mnt) {
      // Every directory of the cgroup2 mount is one cgroup, whose id is its inode number.
      const dirs = execFileSync('find', [mnt, '-mindepth', '1', '-type', 'd'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      expect(lines.length).toBe(1 + dirs.length);
      expect(new Set(lines.slice(1).map((l) => Number(l.split(' ')[0])))).toEqual(new Set(dirs.map((d) => statSync(d).ino)));
      expect((await cli(['run', src, '--cgroup', '/no/such/cgroup', '--order', 'self_only'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: cgroup .*\/no\/such\/cgroup/);
    } else {
      expect((await cli(['run', src, '--cgroup', '/no/such/cgroup', '--order', 'self_only'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: cgroup \/no\/such\/cgroup: no cgroup2 hierarchy is mounted/);
    }
    // The kernel's own check: a cgroup iterator needs a walk order.
    expect((await cli(['run', src], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: prog 'cg': attach iter/);
  });

  it('map { name | pinned | id }: each names its map (ENOENT for one that is not there), and the bpf_map_elem iterator walks it', async () => {
    const src = f('elems.bpf.c', ELEMS);
    const path = `/sys/fs/bpf/bpf_iter_test_elems_${process.pid}`;
    // A map of its own (bpftool creates and pins it), named by pin and by id.
    const mapPath = `/sys/fs/bpf/bpf_iter_test_map_${process.pid}`;
    execFileSync('bpftool', ['map', 'create', mapPath, 'type', 'array', 'key', '4', 'value', '8', 'entries', '2', 'name', 'tmap']);
    try {
      execFileSync('bpftool', ['map', 'update', 'pinned', mapPath, 'key', '1', '0', '0', '0', 'value', '42', '0', '0', '0', '0', '0', '0', '0']);
      const id = (JSON.parse(execFileSync('bpftool', ['map', 'show', 'pinned', mapPath, '-j'], { encoding: 'utf8' })) as { id: number }).id;
      const first = await cli(['iter', 'pin', src, path, 'map', 'name', 'counts'], state);
      if (/^bpf-iter: Error: EPERM: load .*elems\.bpf\.c/.test(first.stderr)) {
        // This kernel refuses bpf_map_elem programs (bpftool prog load gets the same EPERM): the CLI says so, once.
        console.warn(`bpf_map_elem walk not checked here: ${first.stderr.trim()}`);
        return;
      }
      expect(first.stderr).toBe('');
      try {
        expect(execFileSync('cat', [path], { encoding: 'utf8' })).toBe('0 0\n1 0\n2 0\n');
      } finally {
        rmSync(path);
      }
      const pinned = await cli(['iter', 'pin', src, path, 'map', 'pinned', mapPath], state);
      expect(pinned.stderr).toBe('');
      try {
        expect(execFileSync('cat', [path], { encoding: 'utf8' })).toBe('0 0\n1 42\n');
      } finally {
        rmSync(path);
      }
      expect((await cli(['run', src, '--map', String(id)], state)).stdout).toBe('0 0\n1 42\n');
      expect((await cli(['run', src], state)).stderr).toMatch(/^bpf-iter: Error: EBADF: /); // a map target without a map
    } finally {
      rmSync(mapPath);
    }
  });

  it('map MAP errors: unknown form, both --map and map MAP, a map that is not there', async () => {
    const src = f('files3.bpf.c', FILES);
    const path = `/sys/fs/bpf/bpf_iter_test_nomap_${process.pid}`;
    expect((await cli(['iter', 'pin', src, path, 'map', 'bogus', 'x'], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: map bogus: expected id, pinned or name/);
    expect((await cli(['iter', 'pin', src, path, 'map', 'id', '1', '--map', '1'], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: --map and map MAP are exclusive/);
    expect((await cli(['iter', 'pin', src, path, 'map', 'id', '4000000000'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: bpf_map_get_fd_by_id\(4000000000\)/);
    expect((await cli(['iter', 'pin', src, path, 'map', 'pinned', '/sys/fs/bpf/no-such-map'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: bpf_obj_get\(\/sys\/fs\/bpf\/no-such-map\)/);
    expect((await cli(['iter', 'pin', src, path, 'map', 'name', 'nope'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: no map 'nope'/);
    expect(() => statSync(path)).toThrow(/ENOENT/); // nothing was pinned
  });

  it('usage errors: --kernel other than bpf, a missing program, a path off bpffs', async () => {
    const src = f('files2.bpf.c', FILES);
    expect((await cli(['run', src, '--kernel', 'host'], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: a BPF object runs on the real kernel/);
    expect((await cli(['run', src, '--prog', 'nope'], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: no program 'nope'/);
    expect((await cli(['iter', 'pin', src, join(dir, 'not-bpffs')], state)).stderr).toMatch(/^bpf-iter: Error: EINVAL: pin link at .*not on BPF FS/);
    expect((await cli(['run', join(dir, 'missing.bpf.o')], state)).stderr).toMatch(/^bpf-iter: Error: ENOENT: /);
    // `pin OBJ PATH` is `iter pin OBJ PATH`: a real pin.
    const path = `/sys/fs/bpf/bpf_iter_test_pin_${process.pid}`;
    const r = await cli(['pin', src, path, '--pid', String(pid)], state);
    expect(r.stderr).toBe('');
    try {
      expect(execFileSync('cat', [path], { encoding: 'utf8' }).split('\n').filter(Boolean).length).toBe(readdirSync(`/proc/${pid}/fd`).length);
    } finally {
      rmSync(path);
    }
    // A program of a closed object: EBADF.
    const o = openObject(src).load();
    const p = o.program('files');
    o.close();
    expect(() => attachIter(p)).toThrow(/^EBADF/);
  });
});
