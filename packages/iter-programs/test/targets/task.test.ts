/** The `task` target (reference §3.3, §3.5, §3.6, §4.1, §4.2, §4.5). */
import { describe, expect, it } from 'vitest';
import { BPF_SEQ_PRINTF, bpf_link_create, loadProgram, procFdinfo, fdTable, neg } from '../../src/internal.js';
import { dumpTask } from '../../src/targets/task.js';
import { pidfd_open } from '../../src/fds.js';
import { withKernel, type Kernel, type Task } from '@bpf-iter/core';
import { drain, errOf, recorder, session, smallKernel } from './helpers.js';

type Row = [number, number, bigint] | ['end', bigint];
const pick = (ctx: any): Row => (ctx.task ? [ctx.task.pid, ctx.task.tgid, ctx.meta.seq_num] : ['end', ctx.meta.seq_num]);

/** init(1); proc A (pid 20) with threads 21, 22; proc B with pid 7 (created later, smaller pid). */
function kernel(): { k: Kernel; init: Task; a: Task; a1: Task; a2: Task; b: Task } {
  const { k, init } = smallKernel();
  const a = k.createTask({ pid: 20, comm: 'a', parent: init, mm: k.newMm() });
  const a1 = k.createTask({ pid: 21, comm: 'a1', group: a });
  const a2 = k.createTask({ pid: 22, comm: 'a2', group: a });
  const b = k.createTask({ pid: 7, comm: 'b', parent: init });
  return { k, init, a, a1, a2, b };
}

function runTask(k: Kernel, linkInfo?: object, as?: Task): Row[] {
  const r = recorder('task', pick);
  const s = session(k, r.spec, { linkInfo: linkInfo ?? null });
  s.text(as);
  s.close();
  return r.calls;
}

describe('task target', () => {
  it('ALL visits every thread in ascending tid order, then the end call', () => {
    const { k } = kernel();
    expect(runTask(k)).toEqual([
      [1, 1, 0n],
      [7, 7, 1n],
      [20, 20, 2n],
      [21, 20, 3n],
      [22, 20, 4n],
      ['end', 4n],
    ]);
  });

  it('ALL skips freed pid numbers and sees zombies', () => {
    const { k, b, a2 } = kernel();
    k.exit(b, { zombie: true });
    k.exit(a2);
    expect(runTask(k).map((r) => r[0])).toEqual([1, 7, 20, 21, 'end']);
  });

  it('TID on a non-leader thread yields exactly that thread', () => {
    const { k } = kernel();
    expect(runTask(k, { task: { tid: 21 } })).toEqual([[21, 20, 0n], ['end', 0n]]);
  });

  it('TGID (pid) on a 3-thread process yields 3 runs, leader first, plus the end call', () => {
    const { k } = kernel();
    expect(runTask(k, { task: { pid: 20 } })).toEqual([[20, 20, 0n], [21, 20, 1n], [22, 20, 2n], ['end', 2n]]);
  });

  it('pid = a non-leader tid yields nothing (looked up as a thread-group id)', () => {
    const { k } = kernel();
    expect(runTask(k, { task: { pid: 21 } })).toEqual([['end', 0n]]);
  });

  it('tid and pid both set: EINVAL; tid and pid_fd: EINVAL', () => {
    const { k } = kernel();
    const r = recorder('task', pick);
    expect(errOf(() => session(k, r.spec, { linkInfo: { task: { tid: 20, pid: 20 } } }))).toBe('EINVAL');
    expect(errOf(() => session(k, r.spec, { linkInfo: { task: { pid: 20, pid_fd: 3 } } }))).toBe('EINVAL');
  });

  it('a non-existent pid/tid creates the link; the iteration is only the end call (task NULL)', () => {
    const { k } = kernel();
    expect(runTask(k, { task: { pid: 4242 } })).toEqual([['end', 0n]]);
    expect(runTask(k, { task: { tid: 4242 } })).toEqual([['end', 0n]]);
  });

  it('pid_fd from pidfd_open selects the process (TGID mode)', () => {
    const { k } = kernel();
    const pfd = withKernel(k, () => pidfd_open(20));
    expect(pfd).toBeGreaterThan(0);
    const r = recorder('task', pick);
    const s = session(k, r.spec, { linkInfo: { task: { pid_fd: pfd } } });
    s.text();
    expect(r.calls.map((c) => c[0])).toEqual([20, 21, 22, 'end']);
    expect(s.link.info().iter.task).toEqual({ tid: 0, pid: 20 });
    expect(s.link.fdinfo()).toMatch(/task_type:\tPID\npid:\t20\n$/);
    s.close();
    fdTable.close(pfd);
  });

  it('a bad pid_fd: EBADF (closed fd, or an fd that is not a pidfd)', () => {
    const { k } = kernel();
    const r = recorder('task', pick);
    expect(errOf(() => session(k, r.spec, { linkInfo: { task: { pid_fd: 987654 } } }))).toBe('EBADF');
    const prog = loadProgram(r.spec);
    const pf = fdTable.install(prog); // a program fd is not a pidfd
    expect(errOf(() => session(k, r.spec, { linkInfo: { task: { pid_fd: pf } } }))).toBe('EBADF');
    fdTable.close(pf);
  });

  it('bpf_link_create surfaces the attach errors as -errno', () => {
    const { k } = kernel();
    const prog = loadProgram(recorder('task', pick).spec);
    const pf = fdTable.install(prog.get());
    expect(withKernel(k, () => bpf_link_create(pf, 0, 'BPF_TRACE_ITER', { iter_info: { task: { tid: 1, pid: 1 } } }))).toBe(neg('EINVAL'));
    fdTable.close(pf);
    prog.put();
  });

  it('fdinfo ends with target_name, task_type and pid/tid lines; link info fills tid/pid', () => {
    const { k } = kernel();
    const P = 20;
    const s = session(k, dumpTask, { linkInfo: { task: { pid: P } } });
    expect(s.link.fdinfo().endsWith(`target_name:\ttask\ntask_type:\tPID\npid:\t${P}\n`)).toBe(true);
    expect(s.link.info().iter.task).toEqual({ tid: 0, pid: P });
    s.close();
    const t = session(k, dumpTask, { linkInfo: { task: { tid: 21 } } });
    expect(t.link.fdinfo().endsWith('target_name:\ttask\ntask_type:\tTID\ntid:\t21\n')).toBe(true);
    expect(t.link.info().iter.task).toEqual({ tid: 21, pid: 0 });
    t.close();
    const a = session(k, dumpTask);
    expect(a.link.fdinfo().endsWith('target_name:\ttask\ntask_type:\tALL\n')).toBe(true);
    expect(a.link.info().iter.task).toEqual({ tid: 0, pid: 0 });
    a.close();
  });

  it('procFdinfo of an installed link fd shows the same lines', () => {
    const { k } = kernel();
    const prog = loadProgram(dumpTask);
    const pf = fdTable.install(prog.get());
    const lf = withKernel(k, () => bpf_link_create(pf, 0, 'BPF_TRACE_ITER', { iter_info: { task: { pid: 7 } } }));
    expect(lf).toBeGreaterThan(0);
    expect(procFdinfo(lf)).toMatch(/link_type:\titer\n[^]*target_name:\ttask\ntask_type:\tPID\npid:\t7\n$/);
    fdTable.close(lf);
    fdTable.close(pf);
    prog.put();
  });

  describe('pid namespaces (§4.1)', () => {
    /** init(1) forks C into a new namespace (C is 1 there), C forks D (2 there) and has thread C1 (3 there). */
    function nsKernel() {
      const { k, init } = smallKernel();
      k.createTask({ pid: 100, comm: 'outsider', parent: init });
      const c = k.fork(init, { comm: 'c', newPidNs: true });
      const d = k.fork(c, { comm: 'd' });
      const c1 = k.clone(c, { comm: 'c1' });
      return { k, init, c, d, c1 };
    }
    const pickNs = (ctx: any) => (ctx.task ? ctx.task.pid : null);

    it('a reader inside a child namespace sees only that namespace\'s tasks, ordered by its numbers', () => {
      const { k, c, d, c1 } = nsKernel();
      expect([c.vpid, d.pidNr(c.pidNs), c1.pidNr(c.pidNs)]).toEqual([1, 2, 3]);
      const r = recorder('task', pickNs);
      const s = session(k, r.spec);
      s.text(d);
      // the program still sees global ids
      expect(r.calls).toEqual([c.pid, d.pid, c1.pid, null]);
      r.calls.length = 0;
      s.text();
      expect(r.calls.length).toBe(5 + 1);
      s.close();
    });

    it('filter numbers are interpreted in the namespace of the iterator creator', () => {
      const { k, c, d, c1 } = nsKernel();
      const r = recorder('task', pickNs);
      const s = session(k, r.spec, { linkInfo: { task: { pid: 2 } } });
      s.text(c);
      expect(r.calls).toEqual([d.pid, null]);
      r.calls.length = 0;
      // From the initial namespace, pid 2 is not a process of this kernel.
      s.text();
      expect(r.calls).toEqual([null]);
      s.close();
      const t = session(k, r.spec, { linkInfo: { task: { pid: 1 } } });
      r.calls.length = 0;
      t.text(d);
      expect(r.calls).toEqual([c.pid, c1.pid, null]);
      t.close();
      const u = session(k, r.spec, { linkInfo: { task: { tid: 3 } } });
      r.calls.length = 0;
      u.text(c);
      expect(r.calls).toEqual([c1.pid, null]);
      u.close();
    });
  });

  it('resume across reads at a 1-byte buffer gives the same bytes and seq_nums as one big read', () => {
    const { k } = kernel();
    const s = session(k, dumpTask);
    const big = s.text();
    const fd = s.open();
    let small = '';
    for (;;) {
      const b = fd.read(1);
      if (!b.length) break;
      small += b.toString();
    }
    fd.close();
    expect(small).toBe(big);
    expect(big.split('\n').length - 2).toBe(5);
    s.close();
  });

  it('ALL mode: a task that vanishes while the walk is paused on it is skipped; the next larger tid follows', () => {
    const { k, b } = kernel();
    const s = session(k, dumpTask);
    const fd = s.open();
    // The first read shows pid 1 and fetches (but does not show) pid 7.
    const first = fd.read(1).toString();
    expect(first).toBe(' ');
    k.exit(b);
    const rest = first + drain(fd, 1).toString();
    fd.close();
    expect(rest.trimEnd().split('\n').slice(1).map((l) => Number(l.trim().split(/ +/)[1]))).toEqual([1, 20, 21, 22]);
    s.close();
  });

  it('TGID mode: the iteration ends if the paused-on thread vanished', () => {
    const { k, a1 } = kernel();
    const r = recorder('task', pick, (ctx) => {
      if (ctx.task) BPF_SEQ_PRINTF(ctx.meta.seq, '%d\n', ctx.task.pid);
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { pid: 20 } } });
    const fd = s.open();
    expect(fd.read(1).toString()).toBe('2');
    // 21 was fetched but not shown; it exits before the next generating read.
    k.exit(a1);
    expect(drain(fd, 1).toString()).toBe('0\n');
    fd.close();
    expect(r.calls.map((c) => c[0])).toEqual([20, 'end']);
    s.close();
  });
});
