/** The `task_vma` target (reference §4.4, §4.5 items 7-8). */
import { describe, expect, it } from 'vitest';
import { BPF_SEQ_PRINTF } from '../../src/index.js';
import { dumpTaskVma } from '../../src/targets/task_vma.js';
import { mkdev, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from '@bpf-iter/core';
import { drain, recorder, session, smallKernel } from './helpers.js';

/** P(50) with VMAs A (file, r-xp), B (anon rw-p, named [heap]), C (shared file rw-s), D (anonymous, no name). */
function kernel() {
  const { k, init } = smallKernel();
  const p = k.createTask({ pid: 50, comm: 'p', parent: init, mm: k.newMm() });
  const bin = k.createFile('/usr/bin/p', { inode: { i_ino: 1234, s_dev: mkdev(8, 1) } });
  const shm = k.createFile('/dev/shm/x', { inode: { i_ino: 77, s_dev: mkdev(0, 25) } });
  k.mmap(p, { addr: 0x400000, length: 0x2000, prot: VM_READ | VM_EXEC, file: bin, offset: 0x1000 });
  k.mmap(p, { addr: 0x600000, length: 0x21000, prot: VM_READ | VM_WRITE, name: '[heap]' });
  k.mmap(p, { addr: 0x7f0000001000, length: 0x1000, prot: VM_READ | VM_WRITE | VM_SHARED, file: shm });
  k.mmap(p, { addr: 0x7ffd00000000, length: 0x3000, prot: VM_READ | VM_WRITE });
  return { k, init, p };
}

// /proc/PID/maps: "start-end perms offset maj:min ino " padded to 72 columns, then ' ' + name.
const MAPS = [
  '00400000-00402000 r-xp 00001000 08:01 1234                               /usr/bin/p\n',
  '00600000-00621000 rw-p 00000000 00:00 0                                  [heap]\n',
  '7f0000001000-7f0000002000 rw-s 00000000 00:19 77                         /dev/shm/x\n',
  '7ffd00000000-7ffd00003000 rw-p 00000000 00:00 0 \n',
];

describe('task_vma target', () => {
  it('the default dumper prints /proc/PID/maps lines for the modelled mm', () => {
    const { k } = kernel();
    const s = session(k, dumpTaskVma, { linkInfo: { task: { pid: 50 } } });
    expect(s.text()).toBe(MAPS.join(''));
    expect(MAPS[0]!.indexOf('/usr/bin/p')).toBe(73);
    s.close();
  });

  it('tasks without mm are skipped; threads sharing the table are skipped in ALL mode', () => {
    const { k, p } = kernel();
    k.clone(p);
    const r = recorder('task_vma', (ctx) => (ctx.task ? `${ctx.task.pid}:${ctx.vma.vm_start.toString(16)}` : 'end'));
    const s = session(k, r.spec);
    s.text();
    // init has an empty mm; p's thread shares its table
    expect(r.calls).toEqual(['50:400000', '50:600000', '50:7f0000001000', '50:7ffd00000000', 'end']);
    s.close();
  });

  it('TID mode on a task without mm is empty', () => {
    const { k } = kernel();
    k.createTask({ pid: 2, comm: 'kthreadd', mm: null, files: null });
    const r = recorder('task_vma', (ctx) => (ctx.vma ? ctx.vma.vm_start : 'end'));
    const s = session(k, r.spec, { linkInfo: { task: { tid: 2 } } });
    s.text();
    expect(r.calls).toEqual(['end']);
    s.close();
  });

  it('tiny-buffer reads show each VMA once, in order (§4.5 item 7)', () => {
    const { k } = kernel();
    const r = recorder('task_vma', (ctx) => (ctx.vma ? ctx.vma.vm_start : 'end'), (ctx) => {
      if (ctx.vma) BPF_SEQ_PRINTF(ctx.meta.seq, '%lx\n', ctx.vma.vm_start);
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { pid: 50 } } });
    for (const n of [1, 3, 4]) {
      r.calls.length = 0;
      const fd = s.open();
      expect(drain(fd, n).toString()).toBe('400000\n600000\n7f0000001000\n7ffd00000000\n');
      fd.close();
      expect(r.calls).toEqual([0x400000, 0x600000, 0x7f0000001000, 0x7ffd00000000, 'end']);
    }
    const d = session(k, dumpTaskVma, { linkInfo: { task: { pid: 50 } } });
    const fd = d.open();
    expect(drain(fd, 4).toString()).toBe(MAPS.join(''));
    fd.close();
    d.close();
    s.close();
  });

  it('VMA B unmapped while the iterator is paused after A: the next read shows C (§4.5 item 8)', () => {
    const { k, p } = kernel();
    const r = recorder('task_vma', (ctx) => (ctx.vma ? ctx.vma.vm_start : 'end'), (ctx) => {
      if (ctx.vma) BPF_SEQ_PRINTF(ctx.meta.seq, '%lx\n', ctx.vma.vm_start);
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { pid: 50 } } });
    const fd = s.open();
    // 1-byte read: A shown, B fetched and not shown.
    expect(fd.read(1).toString()).toBe('4');
    k.munmap(p, 0x600000, 0x21000);
    expect(drain(fd, 1).toString()).toBe('00000\n7f0000001000\n7ffd00000000\n');
    fd.close();
    expect(r.calls).toEqual([0x400000, 0x7f0000001000, 0x7ffd00000000, 'end']);
    s.close();
  });

  it('a VMA replaced while paused is shown as what now covers its last byte', () => {
    const { k, p } = kernel();
    const r = recorder('task_vma', (ctx) => (ctx.vma ? `${ctx.vma.vm_start.toString(16)}-${ctx.vma.vm_end.toString(16)}` : 'end'), (ctx) => {
      if (ctx.vma) BPF_SEQ_PRINTF(ctx.meta.seq, 'x\n');
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { pid: 50 } } });
    const fd = s.open();
    fd.read(1);
    // B (600000-621000, fetched and not shown) is replaced by a larger mapping over its range.
    k.mmap(p, { addr: 0x5f0000, length: 0x40000, prot: VM_READ });
    drain(fd, 1);
    fd.close();
    expect(r.calls).toEqual(['400000-402000', '5f0000-630000', '7f0000001000-7f0000002000', '7ffd00000000-7ffd00003000', 'end']);
    // A shrunk B that no longer reaches prev_vm_end - 1: the next VMA above follows.
    r.calls.length = 0;
    const { k: k2, p: p2 } = kernel();
    const s2 = session(k2, r.spec, { linkInfo: { task: { pid: 50 } } });
    const fd2 = s2.open();
    fd2.read(1);
    k2.munmap(p2, 0x610000, 0x11000);
    drain(fd2, 1);
    fd2.close();
    expect(r.calls).toEqual(['400000-402000', '7f0000001000-7f0000002000', '7ffd00000000-7ffd00003000', 'end']);
    s2.close();
    s.close();
  });

  it('fdinfo and link info of a TID task_vma link', () => {
    const { k } = kernel();
    const s = session(k, dumpTaskVma, { linkInfo: { task: { tid: 50 } } });
    expect(s.link.fdinfo().endsWith('target_name:\ttask_vma\ntask_type:\tTID\ntid:\t50\n')).toBe(true);
    expect(s.link.info().iter.task.tid).toBe(50);
    expect(s.text()).toBe(MAPS.join(''));
    s.close();
  });

  it('TID mode: reads after EOF return 0 and do not run the program again (§2.6)', () => {
    const { k } = kernel();
    const r = recorder('task_vma', (ctx) => (ctx.vma ? ctx.vma.vm_start : 'end'), (ctx) => {
      if (ctx.vma) BPF_SEQ_PRINTF(ctx.meta.seq, 'v\n');
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { task: { tid: 50 } } });
    const fd = s.open();
    expect(fd.read(65536).toString()).toBe('v\nv\nv\nv\n');
    expect(fd.read(65536).length).toBe(0);
    expect(fd.read(65536).length).toBe(0);
    fd.close();
    expect(r.calls).toEqual([0x400000, 0x600000, 0x7f0000001000, 0x7ffd00000000, 'end']);
    s.close();
  });
});
