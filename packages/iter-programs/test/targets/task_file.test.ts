/** The `task_file` target (reference §4.3, §4.5 items 5-6; seed "Creating a File Iterator with Parameters"). */
import { describe, expect, it } from 'vitest';
import { BPF_SEQ_PRINTF } from '../../src/index.js';
import { dumpTaskFile } from '../../src/targets/task_file.js';
import type { Kernel, Task } from '@bpf-iter/core';
import { drain, recorder, session, smallKernel } from './helpers.js';

const HEADER = '    tgid      pid       fd      file\n';
const hexAddr = (k: Kernel, t: Task, fd: number) => t.files!.fd[fd]!.f_op.hex;
const line = (tgid: number, pid: number, fd: number, hex: string) =>
  `${String(tgid).padStart(8)} ${String(pid).padStart(8)} ${String(fd).padStart(8)} ${hex}\n`;

/** init(1) with fds 0-2; P(30) with fds 0..8 of several kinds and two threads sharing its table (31, 32). */
function kernel() {
  const { k, init } = smallKernel();
  for (const p of ['/dev/null', '/dev/null', '/dev/null']) k.open(init, p, { f_op: k.fops('null_fops') });
  const p = k.createTask({ pid: 30, comm: 'p', parent: init, mm: k.newMm() });
  k.open(p, '/dev/pts/0', { f_op: k.fops('tty_fops') });
  k.open(p, '/dev/pts/0', { f_op: k.fops('tty_fops') });
  k.open(p, '/dev/pts/0', { f_op: k.fops('tty_fops') });
  k.open(p, 'anon_inode:[eventpoll]', { f_op: k.fops('eventpoll_fops') });
  k.open(p, 'pipe:[1]', { f_op: k.fops('pipefifo_fops') });
  k.open(p, '/etc/passwd');
  k.open(p, 'anon_inode:[eventfd]', { f_op: k.fops('eventfd_fops') });
  k.open(p, 'anon_inode:[timerfd]', { f_op: k.fops('timerfd_fops') });
  k.open(p, '/var/log/x');
  const t1 = k.clone(p, { comm: 'p-t1' });
  const t2 = k.clone(p, { comm: 'p-t2' });
  return { k, init, p, t1, t2 };
}

describe('task_file target', () => {
  it("the seed's example: pid = P prints the header and one %8d %8d %8d %lx line per fd 0..n ascending", () => {
    const { k, p } = kernel();
    const s = session(k, dumpTaskFile, { linkInfo: { task: { pid: 30 } } });
    const text = s.text();
    let want = HEADER;
    for (let fd = 0; fd <= 8; fd++) want += line(30, 30, fd, hexAddr(k, p, fd));
    expect(text).toBe(want);
    // the f_op address is the file kind's: equal kinds print equal addresses
    expect(hexAddr(k, p, 0)).toBe(hexAddr(k, p, 2));
    expect(hexAddr(k, p, 0)).not.toBe(hexAddr(k, p, 3));
    expect(text.split('\n')[1]).toMatch(/^ {6}30 {7}30 {8}0 [0-9a-f]+$/);
    s.close();
  });

  it('threads sharing the leader\'s table are never reported (ALL and TGID)', () => {
    const { k } = kernel();
    const r = recorder('task_file', (ctx) => (ctx.task ? `${ctx.task.tgid}/${ctx.task.pid}/${ctx.fd}` : 'end'));
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual(['1/1/0', '1/1/1', '1/1/2', ...Array.from({ length: 9 }, (_, i) => `30/30/${i}`), 'end']);
    s.close();
  });

  it('TID mode does not apply the shared-table skip: a sharing thread reports the shared fds', () => {
    const { k, t1 } = kernel();
    const r = recorder('task_file', (ctx) => (ctx.task ? `${ctx.task.pid}/${ctx.fd}` : 'end'));
    const s = session(k, r.spec, { linkInfo: { task: { tid: t1.pid } } });
    s.text();
    expect(r.calls).toEqual([...Array.from({ length: 9 }, (_, i) => `${t1.pid}/${i}`), 'end']);
    s.close();
  });

  it('a thread with a private table (clone without CLONE_FILES) is reported separately', () => {
    const { k, p, t2 } = kernel();
    const priv = k.clone(p, { comm: 'priv', privateFiles: true });
    k.close(priv, 3);
    k.open(priv, '/tmp/only-mine', { fd: 12 });
    const r = recorder('task_file', (ctx) => (ctx.task ? `${ctx.task.pid}/${ctx.fd}` : 'end'));
    const s = session(k, r.spec, { linkInfo: { task: { pid: 30 } } });
    s.text();
    const mine = [0, 1, 2, 4, 5, 6, 7, 8, 12].map((fd) => `${priv.pid}/${fd}`);
    expect(r.calls).toEqual([...Array.from({ length: 9 }, (_, i) => `30/${i}`), ...mine, 'end']);
    expect(r.calls.some((c) => c.startsWith(`${t2.pid}/`))).toBe(false);
    s.close();
  });

  it('fds {0,1,2,5}: visited as 0,1,2,5 attributed to the leader only (§4.5 item 5)', () => {
    const { k, init } = smallKernel();
    const q = k.createTask({ pid: 40, comm: 'q', parent: init });
    for (let i = 0; i < 6; i++) k.open(q, `/f${i}`);
    k.close(q, 3);
    k.close(q, 4);
    k.clone(q);
    const r = recorder('task_file', (ctx) => (ctx.task ? `${ctx.task.tgid}/${ctx.task.pid}/${ctx.fd}/${ctx.file.path}` : 'end'));
    const s = session(k, r.spec, { linkInfo: { task: { pid: 40 } } });
    s.text();
    expect(r.calls).toEqual(['40/40/0//f0', '40/40/1//f1', '40/40/2//f2', '40/40/5//f5', 'end']);
    s.close();
  });

  it('reading 1 byte at a time gives the same bytes as one 64 KiB read', () => {
    const { k } = kernel();
    const s = session(k, dumpTaskFile);
    const big = s.text();
    const fd = s.open();
    const small = drain(fd, 1).toString();
    fd.close();
    expect(small).toBe(big);
    for (const n of [2, 7, 37, 38, 39, 40]) {
      const f = s.open();
      expect(drain(f, n).toString()).toBe(big);
      f.close();
    }
    s.close();
  });

  it('a read that ends between fd 1 and fd 2 resumes at fd 2, or at the next open fd if fd 2 was closed (§4.5 item 6)', () => {
    const { k, p } = kernel();
    const r = recorder('task_file', (ctx) => (ctx.task ? ctx.fd : 'end'), (ctx) => {
      if (ctx.task) BPF_SEQ_PRINTF(ctx.meta.seq, '%d\n', ctx.fd);
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { pid: 30 } } });
    // fd 2 still open: nothing lost, nothing repeated
    let fd = s.open();
    expect(fd.read(4).toString()).toBe('0\n1\n');
    expect(drain(fd, 4).toString()).toBe('2\n3\n4\n5\n6\n7\n8\n');
    fd.close();
    // fd 2 closed while paused (it was fetched, not shown)
    r.calls.length = 0;
    fd = s.open();
    expect(fd.read(4).toString()).toBe('0\n1\n');
    k.close(p, 2);
    k.close(p, 3);
    expect(drain(fd, 4).toString()).toBe('4\n5\n6\n7\n8\n');
    fd.close();
    expect(r.calls).toEqual([0, 1, 4, 5, 6, 7, 8, 'end']);
    s.close();
  });

  it('tasks without a file table are skipped; the end call has task and file NULL', () => {
    const { k, init } = smallKernel();
    k.open(init, '/x');
    k.createTask({ pid: 2, comm: 'kthreadd', files: null });
    const r = recorder('task_file', (ctx) => [ctx.task?.pid ?? null, ctx.fd, ctx.file ? ctx.file.path : null]);
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[1, 0, '/x'], [null, 0, null]]);
    s.close();
  });

  it('fdinfo of a pid-filtered task_file link', () => {
    const { k } = kernel();
    const s = session(k, dumpTaskFile, { linkInfo: { task: { pid: 30 } } });
    expect(s.link.fdinfo().endsWith('target_name:\ttask_file\ntask_type:\tPID\npid:\t30\n')).toBe(true);
    s.close();
  });
});
