import { describe, expect, it } from 'vitest';
import { defaultKernel, Kernel, KmemCache } from '@bpf-iter/core';
import { liveIterators, setDefaultKernel } from '@bpf-iter/iter-kfuncs';
import { iterKernelKinds } from './open-coded-task.js';

/** A kernel small enough to know the answers by hand. */
function handKernel(): Kernel {
  const k = new Kernel();
  const svc = k.mkdirCgroup(k.cgroupRoot, 'svc');
  const init = k.createTask({ pid: 1, comm: 'init', mm: k.newMm() });
  k.mmap(init, { addr: 0x400000, length: 0x2000 });
  k.mmap(init, { addr: 0x7f0000000000 - 0x3000, length: 0x3000 });
  k.createTask({ pid: 2, comm: 'init', group: init });
  const d = k.createTask({ pid: 10, comm: 'd', cgroup: svc });
  k.createTask({ pid: 11, comm: 'd', group: d });
  k.createTask({ pid: 12, comm: 'd', group: d });
  k.createTask({ pid: 20, comm: 'e', cgroup: svc });
  k.addKmemCache(new KmemCache('small', 64, 64, 8, 0, 1, 1, 1));
  k.addKmemCache(new KmemCache('big', 4096, 4096, 8, 0, 1, 1, 8));
  return k;
}

describe('examples/open-coded-task.ts (C port of an open-coded iterator program)', () => {
  it('prints and returns the expected figures on a hand-built kernel', () => {
    const lines: string[] = [];
    const r = iterKernelKinds((l) => lines.push(l), handKernel());
    // ALL_PROCS counts the idle task too (pid 0 == tgid 0), as the C loop does.
    expect(r).toEqual({
      nrProcs: 4,
      nrThreads: 7,
      initThreads: 2,
      cgroups: [
        { path: '/', procs: 1 }, // the idle task is not a member of any cgroup list; init is
        { path: '/svc', procs: 2 },
      ],
      initVmas: 2,
      initMappedBytes: 0x5000,
      biggestCache: 'big',
    });
    expect(lines).toEqual([
      'processes 4 threads 7 (init: 2)',
      '/: 1 processes',
      '  /svc: 2 processes',
      'init: 2 vmas, 20480 bytes mapped',
      'biggest slab object: big',
    ]);
    expect(liveIterators()).toBe(0);
  });

  it('runs on the embedded default kernel with nothing configured', () => {
    setDefaultKernel(undefined);
    const lines: string[] = [];
    const r = iterKernelKinds((l) => lines.push(l));
    const k = defaultKernel();
    expect(r.nrProcs).toBe(k.processes.size);
    expect(r.nrThreads).toBe(k.taskCount + 1); // + the idle task
    expect(r.initThreads).toBe(k.task(1).signal.nr_threads);
    expect(r.cgroups[0]).toEqual({ path: '/', procs: expect.any(Number) });
    // Every process but the idle task is attached to exactly one cgroup.
    expect(r.cgroups.reduce((n, c) => n + c.procs, 0)).toBe(k.processes.size - 1);
    expect(r.initVmas).toBe(k.task(1).mm!.vmaCount);
    expect(r.biggestCache).toBe('task_struct');
    expect(lines[0]).toBe(`processes ${r.nrProcs} threads ${r.nrThreads} (init: ${r.initThreads})`);
    expect(lines.at(-1)).toBe('biggest slab object: task_struct');
  });
});
