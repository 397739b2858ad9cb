import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultKernel, Kernel, type Task } from '@bpf-iter/core';
import { take, toArray } from 'rxjs';
import {
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  bindKernel,
  bpf_iter_task_destroy,
  bpf_iter_task_new,
  bpf_iter_task_next,
  bpfForEach,
  bpfForEachAsync,
  iterStats,
  iterTask,
  liveIterators,
  setDefaultKernel,
  withKernel,
} from '../src/index.js';
import { checkIterContract } from '../src/testing.js';
import { fromIter } from '../src/rx.js';

const EINVAL = -22;

/**
 * Processes created in the order a(500), b(100), c(300): creation order is
 * not pid order. a has threads 501, 502; b has thread 101.
 */
function smallKernel() {
  const k = new Kernel();
  const a = k.createTask({ pid: 500, comm: 'a', mm: k.newMm() });
  const a2 = k.createTask({ pid: 501, comm: 'a', group: a });
  const a3 = k.createTask({ pid: 502, comm: 'a', group: a });
  const b = k.createTask({ pid: 100, comm: 'b' });
  const b2 = k.createTask({ pid: 101, comm: 'b', group: b });
  const c = k.createTask({ pid: 300, comm: 'c' });
  return { k, a, a2, a3, b, b2, c };
}

const pids = (ts: Iterable<Task>) => [...ts].map((t) => t.pid);

/** Runs the trio to NULL and returns new's result and the pids. */
function trio(k: Kernel, task: Task | null, flags: number): { ret: number; pids: number[] } {
  return withKernel(k, () => {
    const it = iterTask.alloc();
    const ret = bpf_iter_task_new(it, task, flags);
    const out: number[] = [];
    for (let t = bpf_iter_task_next(it); t !== null; t = bpf_iter_task_next(it)) out.push(t.pid);
    expect(bpf_iter_task_next(it)).toBeNull(); // NULL stays NULL
    bpf_iter_task_destroy(it);
    return { ret, pids: out };
  });
}

afterEach(() => setDefaultKernel(undefined));

describe('bpf_iter_task: constructor (§7.4, §7 items 5)', () => {
  it('flags 3 (and any unknown value) → -EINVAL and an empty iterator', () => {
    const { k, a } = smallKernel();
    for (const flags of [3, 4, 0x100, -1]) {
      expect(trio(k, null, flags)).toEqual({ ret: EINVAL, pids: [] });
      expect(trio(k, a, flags)).toEqual({ ret: EINVAL, pids: [] });
    }
  });

  it('PROC_THREADS with a NULL task → -EINVAL and empty', () => {
    const { k } = smallKernel();
    expect(trio(k, null, BPF_TASK_ITER_PROC_THREADS)).toEqual({ ret: EINVAL, pids: [] });
    const it = iterTask.open(null, BPF_TASK_ITER_PROC_THREADS);
    expect(it.error).toBe(EINVAL);
    expect(it.cause?.errno).toBe('EINVAL');
    it.destroy();
  });

  it('the kfuncs are registered with the kernel names, flags and parameters', () => {
    expect(iterTask.stateName).toBe('bpf_iter_task');
    expect(iterTask.stateSize).toBe(24);
    expect(iterTask.kfuncs.new.params.map((p) => p.name)).toEqual(['it', 'task__nullable', 'flags']);
  });
});

describe('bpf_iter_task: semantics (§7.5.3)', () => {
  it('ALL_PROCS: the idle task (pid 0) first, then leaders in creation order, not pid order; the task argument is ignored', () => {
    const { k, b } = smallKernel();
    expect(trio(k, null, BPF_TASK_ITER_ALL_PROCS)).toEqual({ ret: 0, pids: [0, 500, 100, 300] });
    expect(trio(k, b, BPF_TASK_ITER_ALL_PROCS).pids).toEqual([0, 500, 100, 300]);
    const first = withKernel(k, () => {
      const loop = bpfForEach(iterTask, null, 0)[Symbol.iterator]();
      const v = loop.next().value as Task;
      loop.return();
      return v;
    });
    expect(first).toBe(k.initTask);
    expect(first.comm).toBe('swapper/0');
  });

  it('ALL_THREADS: per process the leader first, then its threads in thread-list order', () => {
    const { k } = smallKernel();
    expect(trio(k, null, BPF_TASK_ITER_ALL_THREADS)).toEqual({ ret: 0, pids: [0, 500, 501, 502, 100, 101, 300] });
  });

  it('PROC_THREADS: from the given thread to the end of its group; a non-leader start skips the earlier threads', () => {
    const { k, a, a2, a3, b2, c } = smallKernel();
    expect(trio(k, a, BPF_TASK_ITER_PROC_THREADS)).toEqual({ ret: 0, pids: [500, 501, 502] });
    expect(trio(k, a2, BPF_TASK_ITER_PROC_THREADS).pids).toEqual([501, 502]);
    expect(trio(k, a3, BPF_TASK_ITER_PROC_THREADS).pids).toEqual([502]);
    expect(trio(k, b2, BPF_TASK_ITER_PROC_THREADS).pids).toEqual([101]);
    expect(trio(k, c, BPF_TASK_ITER_PROC_THREADS).pids).toEqual([300]);
  });

  it('no pid-namespace filtering: tasks of a child namespace are visited with their global pids', () => {
    const { k, a } = smallKernel();
    const inner = k.fork(a, { newPidNs: true, comm: 'container-init' });
    expect(inner.vpid).toBe(1);
    expect(trio(k, null, BPF_TASK_ITER_ALL_PROCS).pids).toEqual([0, 500, 100, 300, inner.pid]);
  });

  it('works as written on the embedded default kernel, with nothing configured', () => {
    setDefaultKernel(undefined);
    let nr = 0;
    const seen: Task[] = [];
    for (const t of bpfForEach(iterTask, null, 0)) {
      seen.push(t);
      if (t.pid === t.tgid) nr++;
    }
    expect(seen[0]!.pid).toBe(0);
    expect(seen).toEqual(defaultKernel().processes.toArray());
    expect(nr).toBe(seen.length); // ALL_PROCS yields leaders only
    expect(nr).toBeGreaterThan(50);
  });

  it('reads the kernel from the context: withKernel, setDefaultKernel, bindKernel', () => {
    const { k } = smallKernel();
    expect(withKernel(k, () => pids(bpfForEach(iterTask, null, 0)))).toEqual([0, 500, 100, 300]);
    expect(pids(bpfForEach(bindKernel(iterTask, k), null, 0))).toEqual([0, 500, 100, 300]);
    setDefaultKernel(k);
    expect(pids(bpfForEach(iterTask, null, 0))).toEqual([0, 500, 100, 300]);
  });
});

describe('bpf_iter_task: mutation during the walk (RCU list nodes)', () => {
  it('the current process exiting mid-loop does not break the loop (ALL_PROCS)', () => {
    const { k, a } = smallKernel();
    const seen = withKernel(k, () => {
      const out: number[] = [];
      for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
        out.push(t.pid);
        if (t === a) k.exit(a);
      }
      return out;
    });
    expect(seen).toEqual([0, 500, 100, 300]);
    expect(a.dead).toBe(true);
  });

  it('the current process exiting mid-loop does not break the loop (ALL_THREADS): later processes are all visited once', () => {
    const { k, a } = smallKernel();
    const seen = withKernel(k, () => {
      const out: number[] = [];
      for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) {
        out.push(t.pid);
        if (t === a) k.exit(a);
      }
      return out;
    });
    expect(seen.slice(0, 2)).toEqual([0, 500]);
    expect(seen.slice(-3)).toEqual([100, 101, 300]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('a process that exits before the walk reaches it is skipped; one forked mid-walk is visited (list tail)', () => {
    const { k, a, c } = smallKernel();
    const seen = withKernel(k, () => {
      const out: number[] = [];
      for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
        out.push(t.pid);
        if (t === a) {
          k.exit(c);
          k.createTask({ pid: 7, comm: 'late' });
        }
      }
      return out;
    });
    expect(seen).toEqual([0, 500, 100, 7]);
  });

  it('the position already fetched is returned even if it exits meanwhile (as under RCU: next_task ran at the previous step)', () => {
    const { k, a, b } = smallKernel();
    const seen = withKernel(k, () => {
      const out: Task[] = [];
      for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
        out.push(t);
        if (t === a) k.exit(b);
      }
      return out;
    });
    expect(pids(seen)).toEqual([0, 500, 100, 300]);
    expect(seen[2]!.dead).toBe(true);
  });
});

describe('bpf_iter_task: contract and destroy', () => {
  it('checkIterContract with an oracle written from §7.5.3', () => {
    const { k, a, a2, b, b2, c } = smallKernel();
    const oracle = (task: Task | null, flags: number): { ret: number; elements: Task[] } => {
      const procs = k.processes.toArray();
      switch (flags) {
        case 0:
          return { ret: 0, elements: procs };
        case 1:
          return { ret: 0, elements: procs.flatMap((p) => p.signal.threads.toArray()) };
        case 2: {
          if (!task) return { ret: EINVAL, elements: [] };
          const threads = task.signal.threads.toArray();
          return { ret: 0, elements: threads.slice(threads.indexOf(task)) };
        }
        default:
          return { ret: EINVAL, elements: [] };
      }
    };
    checkIterContract(iterTask, fc.tuple(fc.constantFrom<Task | null>(null, a, a2, b, b2, c, k.initTask), fc.integer({ min: -1, max: 6 })), {
      kernel: k,
      oracle,
      fc: { numRuns: 80 },
    });
    expect(liveIterators(iterTask)).toBe(0);
  });

  it('destroy runs exactly once on break, on throw and on normal end', () => {
    const { k } = smallKernel();
    withKernel(k, () => {
      const s0 = iterStats(iterTask);
      for (const t of bpfForEach(iterTask, null, 1)) if (t.pid === 500) break;
      expect(iterStats(iterTask).destroyed - s0.destroyed).toBe(1);
      expect(() => {
        for (const t of bpfForEach(iterTask, null, 1)) if (t.pid === 501) throw new Error('body');
      }).toThrow('body');
      expect(iterStats(iterTask).destroyed - s0.destroyed).toBe(2);
      expect([...bpfForEach(iterTask, null, 3)]).toEqual([]); // failed new: still destroyed once
      const s = iterStats(iterTask);
      expect(s.destroyed - s0.destroyed).toBe(3);
      expect(s.constructed - s0.constructed).toBe(3);
      expect(s.failed - s0.failed).toBe(1);
      expect(liveIterators(iterTask)).toBe(0);
    });
  });

  it('for await with an async body destroys once on break', async () => {
    const { k } = smallKernel();
    const s0 = iterStats(iterTask);
    const out: number[] = [];
    await withKernel(k, async () => {
      for await (const t of bpfForEachAsync(iterTask, null, 0)) {
        await Promise.resolve();
        out.push(t.pid);
        if (out.length === 2) break;
      }
    });
    expect(out).toEqual([0, 500]);
    expect(iterStats(iterTask).destroyed - s0.destroyed).toBe(1);
  });

  it('RxJS: fromIter(iterTask, null, 0).pipe(take(3)) emits 3 tasks and destroys once', () => {
    const { k } = smallKernel();
    const s0 = iterStats(iterTask);
    let got: number[] = [];
    withKernel(k, () => {
      fromIter(iterTask, null, 0)
        .pipe(take(3), toArray())
        .subscribe((ts) => (got = pids(ts)));
    });
    expect(got).toEqual([0, 500, 100]);
    const s = iterStats(iterTask);
    expect(s.constructed - s0.constructed).toBe(1);
    expect(s.destroyed - s0.destroyed).toBe(1);
    expect(liveIterators(iterTask)).toBe(0);
  });
});
