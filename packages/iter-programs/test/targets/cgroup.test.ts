/** The `cgroup` target (reference §3.3, §3.5, §3.6, §5.11, §5 items 8-10). */
import { describe, expect, it } from 'vitest';
import {
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_SELF_ONLY,
  Kernel,
  withKernel,
  type Cgroup,
} from '@bpf-iter/core';
import { BPF_SEQ_PRINTF, fdTable } from '../../src/internal.js';
import { cgroup_open } from '../../src/fds.js';
import { dumpCgroup } from '../../src/targets/cgroup.js';
import { errOf, recorder, session } from './helpers.js';

/** root → A(A1), B */
function tree() {
  const k = new Kernel();
  const root = k.cgroupRoot;
  const A = k.mkdirCgroup(root, 'A');
  const A1 = k.mkdirCgroup(A, 'A1');
  const B = k.mkdirCgroup(root, 'B');
  return { k, root, A, A1, B };
}

const names = (k: Kernel, order: number, start?: Cgroup) => {
  const r = recorder('cgroup', (ctx) => (ctx.cgroup ? ctx.cgroup.path : null));
  const s = session(k, r.spec, { linkInfo: { cgroup: { order, cgroup_id: start ? start.id : 0 } } });
  s.text();
  s.close();
  return r.calls;
};

describe('cgroup target', () => {
  it('attach errors: order 0 → EINVAL, fd and id → EINVAL, unknown id → ENOENT, bad fd → EBADF', () => {
    const { k, A } = tree();
    const r = recorder('cgroup', () => 0);
    expect(errOf(() => session(k, r.spec))).toBe('EINVAL');
    expect(errOf(() => session(k, r.spec, { linkInfo: { cgroup: { order: 0, cgroup_id: A.id } } }))).toBe('EINVAL');
    expect(errOf(() => session(k, r.spec, { linkInfo: { cgroup: { order: 6 } } }))).toBe('EINVAL');
    const fd = withKernel(k, () => cgroup_open('/A', k));
    expect(fd).toBeGreaterThan(0);
    expect(errOf(() => session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_SELF_ONLY, cgroup_fd: fd, cgroup_id: A.id } } }))).toBe('EINVAL');
    expect(errOf(() => session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_SELF_ONLY, cgroup_id: 4242 } } }))).toBe('ENOENT');
    expect(errOf(() => session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_SELF_ONLY, cgroup_fd: 99999 } } }))).toBe('EBADF');
    const s = session(k, recorder('cgroup', (ctx) => ctx.cgroup?.path ?? null).spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_SELF_ONLY, cgroup_fd: fd } } });
    s.close();
    fdTable.close(fd);
  });

  it('orders (§5 item 8)', () => {
    const { k, root, A, A1 } = tree();
    expect(names(k, BPF_CGROUP_ITER_DESCENDANTS_PRE, root)).toEqual(['/', '/A', '/A/A1', '/B', null]);
    expect(names(k, BPF_CGROUP_ITER_DESCENDANTS_PRE)).toEqual(['/', '/A', '/A/A1', '/B', null]);
    expect(names(k, BPF_CGROUP_ITER_DESCENDANTS_POST)).toEqual(['/A/A1', '/A', '/B', '/', null]);
    expect(names(k, BPF_CGROUP_ITER_ANCESTORS_UP, A1)).toEqual(['/A/A1', '/A', '/', null]);
    expect(names(k, BPF_CGROUP_ITER_SELF_ONLY, A)).toEqual(['/A', null]);
    expect(names(k, BPF_CGROUP_ITER_CHILDREN, root)).toEqual(['/A', '/B', null]);
    expect(names(k, BPF_CGROUP_ITER_DESCENDANTS_PRE, A)).toEqual(['/A', '/A/A1', null]);
  });

  it('16-byte reads with 64-byte objects: 4 reads, then EOPNOTSUPP (§5 item 9)', () => {
    const { k } = tree();
    const r = recorder('cgroup', (ctx) => ctx.cgroup?.path ?? null, (ctx) => {
      if (ctx.cgroup) BPF_SEQ_PRINTF(ctx.meta.seq, '%s', 'x'.repeat(63) + '\n');
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_DESCENDANTS_PRE } } });
    const fd = s.open();
    for (let i = 0; i < 4; i++) expect(fd.read(16).length).toBe(16);
    expect(errOf(() => fd.read(16))).toBe('EOPNOTSUPP');
    fd.close();
    // with a big enough buffer everything comes in one read
    expect(s.text()).toBe(('x'.repeat(63) + '\n').repeat(4));
    s.close();
  });

  it('a program returning 1 on the 2nd element: 2 elements plus the end call (§5 item 10)', () => {
    const { k } = tree();
    const r = recorder('cgroup', (ctx) => [ctx.cgroup?.path ?? null, ctx.meta.seq_num], (ctx) => {
      BPF_SEQ_PRINTF(ctx.meta.seq, '%s\n', ctx.cgroup ? ctx.cgroup.path : 'epilogue');
      return ctx.meta.seq_num === 1n && ctx.cgroup ? 1 : 0;
    });
    const s = session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_DESCENDANTS_PRE } } });
    expect(s.text()).toBe('/\n/A\nepilogue\n');
    expect(r.calls).toEqual([['/', 0n], ['/A', 1n], [null, 1n]]);
    s.close();
  });

  it('a dead (removed but referenced) cgroup is skipped with a seq_num gap', () => {
    const { k, A1, B } = tree();
    const C = k.mkdirCgroup(k.cgroupRoot, 'C');
    B.get();
    k.rmdirCgroup(B);
    expect(B.dead).toBe(true);
    const r = recorder('cgroup', (ctx) => [ctx.cgroup?.path ?? null, ctx.meta.seq_num]);
    const s = session(k, r.spec, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_DESCENDANTS_PRE } } });
    s.text();
    expect(r.calls).toEqual([['/', 0n], ['/A', 1n], [A1.path, 2n], [C.path, 4n], [null, 4n]]);
    s.close();
    B.put();
  });

  it('fdinfo: cgroup_path then "order: <name>" with a space; link info cgroup_id and order', () => {
    const { k, A, A1 } = tree();
    const s = session(k, dumpCgroup, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_DESCENDANTS_PRE, cgroup_id: A.id } } });
    expect(s.link.fdinfo().endsWith('target_name:\tcgroup\ncgroup_path:\t/A\norder: descendants_pre\n')).toBe(true);
    expect(s.link.info().iter.cgroup).toEqual({ cgroup_id: BigInt(A.id), order: BPF_CGROUP_ITER_DESCENDANTS_PRE });
    s.close();
    for (const [order, name] of [
      [BPF_CGROUP_ITER_DESCENDANTS_POST, 'descendants_post'],
      [BPF_CGROUP_ITER_ANCESTORS_UP, 'ancestors_up'],
      [BPF_CGROUP_ITER_SELF_ONLY, 'self_only'],
    ] as const) {
      const t = session(k, dumpCgroup, { linkInfo: { cgroup: { order, cgroup_id: A1.id } } });
      expect(t.link.fdinfo().endsWith(`cgroup_path:\t/A/A1\norder: ${name}\n`)).toBe(true);
      t.close();
    }
    const root = session(k, dumpCgroup, { linkInfo: { cgroup: { order: BPF_CGROUP_ITER_SELF_ONLY } } });
    expect(root.link.fdinfo().endsWith('cgroup_path:\t/\norder: self_only\n')).toBe(true);
    root.close();
  });
});
