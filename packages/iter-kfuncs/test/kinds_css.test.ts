import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel, type Cgroup, type Task } from '@bpf-iter/core';
import {
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_SELF_ONLY,
  CSS_TASK_ITER_PROCS,
  CSS_TASK_ITER_THREADED,
  bpf_iter_css_destroy,
  bpf_iter_css_new,
  bpf_iter_css_next,
  bpf_iter_css_task_destroy,
  bpf_iter_css_task_new,
  bpf_iter_css_task_next,
  bpfForEach,
  iterCss,
  iterCssTask,
  iterStats,
  liveIterators,
} from '../src/index.js';
import { checkIterContract } from '../src/testing.js';
import { fromIter } from '../src/rx.js';
import { take, toArray } from 'rxjs';

const EINVAL = -22;

/** The §5 item 8 tree: root with children A (child A1) and B. */
function cgKernel() {
  const k = new Kernel();
  const root = k.cgroupRoot;
  const A = k.mkdirCgroup(root, 'A');
  const A1 = k.mkdirCgroup(A, 'A1');
  const B = k.mkdirCgroup(root, 'B');
  return { k, root, A, A1, B };
}

const names = (cs: Iterable<Cgroup>) => [...cs].map((c) => (c.parent ? c.name : 'root'));

function cssTrio(start: Cgroup, flags: number): { ret: number; names: string[] } {
  const it = iterCss.alloc();
  const ret = bpf_iter_css_new(it, start, flags);
  const out: Cgroup[] = [];
  for (let c = bpf_iter_css_next(it); c !== null; c = bpf_iter_css_next(it)) out.push(c);
  bpf_iter_css_destroy(it);
  return { ret, names: names(out) };
}

describe('bpf_iter_css (§7.5.5)', () => {
  it('orders match the reference tree (§5 item 8): PRE, POST, ANCESTORS_UP, CHILDREN', () => {
    const { root, A, A1 } = cgKernel();
    expect(cssTrio(root, BPF_CGROUP_ITER_DESCENDANTS_PRE)).toEqual({ ret: 0, names: ['root', 'A', 'A1', 'B'] });
    expect(cssTrio(root, BPF_CGROUP_ITER_DESCENDANTS_POST)).toEqual({ ret: 0, names: ['A1', 'A', 'B', 'root'] });
    expect(cssTrio(A1, BPF_CGROUP_ITER_ANCESTORS_UP)).toEqual({ ret: 0, names: ['A1', 'A', 'root'] });
    expect(cssTrio(root, BPF_CGROUP_ITER_CHILDREN)).toEqual({ ret: 0, names: ['A', 'B'] });
    expect(cssTrio(A, BPF_CGROUP_ITER_DESCENDANTS_PRE).names).toEqual(['A', 'A1']);
    expect(cssTrio(A, BPF_CGROUP_ITER_DESCENDANTS_POST).names).toEqual(['A1', 'A']);
    expect(cssTrio(A1, BPF_CGROUP_ITER_CHILDREN)).toEqual({ ret: 0, names: [] });
  });

  it('ANCESTORS_UP from a leaf at depth 2 yields 3 elements (§7 item 6)', () => {
    const { A1 } = cgKernel();
    expect(A1.level).toBe(2);
    expect([...bpfForEach(iterCss, A1, BPF_CGROUP_ITER_ANCESTORS_UP)]).toHaveLength(3);
  });

  it('SELF_ONLY (1), 0 and any other order → -EINVAL and an empty iterator (§7 item 6)', () => {
    const { A } = cgKernel();
    for (const flags of [BPF_CGROUP_ITER_SELF_ONLY, 0, 6, -1]) expect(cssTrio(A, flags)).toEqual({ ret: EINVAL, names: [] });
  });

  it('quirk: next after NULL restarts the walk from the beginning; bpfForEach never does that', () => {
    const { A } = cgKernel();
    const it = iterCss.open(A, BPF_CGROUP_ITER_DESCENDANTS_PRE);
    const seq = Array.from({ length: 7 }, () => bpf_iter_css_next(it));
    expect(seq.map((c) => c?.name ?? null)).toEqual(['A', 'A1', null, 'A', 'A1', null, 'A']);
    it.destroy();
    expect(names(bpfForEach(iterCss, A, BPF_CGROUP_ITER_DESCENDANTS_PRE))).toEqual(['A', 'A1']);
    // A failed constructor stays empty: nothing to restart.
    const bad = iterCss.open(A, 1);
    expect([bpf_iter_css_next(bad), bpf_iter_css_next(bad)]).toEqual([null, null]);
    bad.destroy();
  });

  it('a child created mid-walk is visited; a removed (dying) cgroup stays listed while referenced', () => {
    const { k, root, A, B } = cgKernel();
    const seen: string[] = [];
    for (const c of bpfForEach(iterCss, root, BPF_CGROUP_ITER_DESCENDANTS_PRE)) {
      seen.push(c.parent ? c.name : 'root');
      if (c === A) k.mkdirCgroup(root, 'C');
    }
    expect(seen).toEqual(['root', 'A', 'A1', 'B', 'C']);
    const ref = B.get(); // keeps B dying instead of freed
    k.rmdirCgroup(B);
    expect(names(bpfForEach(iterCss, root, BPF_CGROUP_ITER_CHILDREN))).toEqual(['A', 'B', 'C']);
    ref.put();
    expect(names(bpfForEach(iterCss, root, BPF_CGROUP_ITER_CHILDREN))).toEqual(['A', 'C']);
  });

  it('checkIterContract (next after NULL not checked: the quirk) with an oracle from §5.11', () => {
    const { root, A, A1, B } = cgKernel();
    const pre = (c: Cgroup): Cgroup[] => [c, ...c.childList().flatMap(pre)];
    const post = (c: Cgroup): Cgroup[] => [...c.childList().flatMap(post), c];
    const up = (c: Cgroup): Cgroup[] => (c.parent ? [c, ...up(c.parent)] : [c]);
    const oracle = (start: Cgroup, flags: number) => {
      switch (flags) {
        case 2: return { ret: 0, elements: pre(start) };
        case 3: return { ret: 0, elements: post(start) };
        case 4: return { ret: 0, elements: up(start) };
        case 5: return { ret: 0, elements: start.childList() };
        default: return { ret: EINVAL, elements: [] };
      }
    };
    checkIterContract(iterCss, fc.tuple(fc.constantFrom(root, A, A1, B), fc.integer({ min: -1, max: 7 })), {
      oracle,
      extraNextCalls: 0,
      fc: { numRuns: 80 },
    });
    expect(liveIterators(iterCss)).toBe(0);
  });

  it('destroy runs exactly once on break, throw and RxJS take', () => {
    const { root } = cgKernel();
    const s0 = iterStats(iterCss);
    for (const c of bpfForEach(iterCss, root, 2)) if (c.name === 'A') break;
    expect(() => {
      for (const c of bpfForEach(iterCss, root, 3)) if (c.name === 'A') throw new Error('body');
    }).toThrow('body');
    let got: string[] = [];
    fromIter(iterCss, root, 2).pipe(take(2), toArray()).subscribe((cs) => (got = names(cs)));
    expect(got).toEqual(['root', 'A']);
    expect(iterStats(iterCss).destroyed - s0.destroyed).toBe(3);
    expect(liveIterators(iterCss)).toBe(0);
  });
});

/** A cgroup "svc" with process P (threads P, P2, P3) and Q; R stays in the root. */
function taskKernel() {
  const k = new Kernel();
  const svc = k.mkdirCgroup(k.cgroupRoot, 'svc');
  const P = k.createTask({ pid: 40, comm: 'p', cgroup: svc });
  const P2 = k.createTask({ pid: 41, comm: 'p', group: P });
  const P3 = k.createTask({ pid: 42, comm: 'p', group: P });
  const Q = k.createTask({ pid: 30, comm: 'q', cgroup: svc });
  const R = k.createTask({ pid: 50, comm: 'r' });
  return { k, svc, P, P2, P3, Q, R };
}

function cssTaskTrio(css: Cgroup, flags: number): { ret: number; pids: number[] } {
  const it = iterCssTask.alloc();
  const ret = bpf_iter_css_task_new(it, css, flags);
  const out: number[] = [];
  for (let t = bpf_iter_css_task_next(it); t !== null; t = bpf_iter_css_task_next(it)) out.push(t.pid);
  expect([bpf_iter_css_task_next(it), bpf_iter_css_task_next(it)]).toEqual([null, null]); // stays NULL
  bpf_iter_css_task_destroy(it);
  return { ret, pids: out };
}

describe('bpf_iter_css_task (§7.5.6)', () => {
  it('flags 0: every thread attached to the cgroup, in attach order', () => {
    const { svc } = taskKernel();
    expect(cssTaskTrio(svc, 0)).toEqual({ ret: 0, pids: [40, 41, 42, 30] });
    expect(iterCssTask.stateSize).toBe(8);
    expect(iterCssTask.kfuncs.new.params.map((x) => x.name)).toEqual(['it', 'css', 'flags']);
  });

  it('CSS_TASK_ITER_PROCS: thread-group leaders only; PROCS|THREADED the same (no threaded subtree in the model)', () => {
    const { svc } = taskKernel();
    expect(cssTaskTrio(svc, CSS_TASK_ITER_PROCS)).toEqual({ ret: 0, pids: [40, 30] });
    expect(cssTaskTrio(svc, CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED)).toEqual({ ret: 0, pids: [40, 30] });
  });

  it('THREADED (2) alone and any other flags → -EINVAL and empty (§7 item 7)', () => {
    const { svc } = taskKernel();
    for (const flags of [CSS_TASK_ITER_THREADED, 4, 5, -1]) expect(cssTaskTrio(svc, flags)).toEqual({ ret: EINVAL, pids: [] });
  });

  it('only tasks of that cgroup (not descendants); an empty cgroup yields nothing', () => {
    const { k, svc, R } = taskKernel();
    const child = k.mkdirCgroup(svc, 'child');
    k.attachCgroup(R, child);
    expect(cssTaskTrio(svc, 0).pids).toEqual([40, 41, 42, 30]);
    expect(cssTaskTrio(child, 0).pids).toEqual([50]);
    expect(cssTaskTrio(k.mkdirCgroup(k.cgroupRoot, 'empty'), 0)).toEqual({ ret: 0, pids: [] });
  });

  it('a task exiting mid-walk does not break it; a task attached mid-walk is visited', () => {
    const { k, svc, P, R } = taskKernel();
    const seen: number[] = [];
    for (const t of bpfForEach(iterCssTask, svc, 0)) {
      seen.push(t.pid);
      if (t === P) {
        k.exit(P); // the whole process: P2, P3 go too
        k.attachCgroup(R, svc);
      }
    }
    expect(seen).toEqual([40, 30, 50]);
  });

  it('checkIterContract with an oracle from §7.5.6', () => {
    const { k, svc } = taskKernel();
    const oracle = (css: Cgroup, flags: number): { ret: number; elements: Task[] } => {
      if (![0, 1, 3].includes(flags)) return { ret: EINVAL, elements: [] };
      const all = css.tasks.toArray();
      return { ret: 0, elements: flags & 1 ? all.filter((t) => t.pid === t.tgid) : all };
    };
    checkIterContract(iterCssTask, fc.tuple(fc.constantFrom(svc, k.cgroupRoot), fc.integer({ min: -1, max: 6 })), {
      oracle,
      fc: { numRuns: 60 },
    });
    expect(liveIterators(iterCssTask)).toBe(0);
  });

  it('destroy runs exactly once on break and throw', () => {
    const { svc } = taskKernel();
    const s0 = iterStats(iterCssTask);
    for (const t of bpfForEach(iterCssTask, svc, 0)) if (t.pid === 41) break;
    expect(() => {
      for (const t of bpfForEach(iterCssTask, svc, 1)) if (t.pid === 30) throw new Error('body');
    }).toThrow('body');
    expect(iterStats(iterCssTask).destroyed - s0.destroyed).toBe(2);
    expect(liveIterators(iterCssTask)).toBe(0);
  });
});
