/**
 * Pid namespaces (reference §4.1 "Pid namespace", §4.5 item 2): a reader in
 * a child namespace sees only that namespace's tasks, numbered there, and
 * its filters are interpreted there.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Kernel, TaskFileWalker, TaskWalker, refStats, type PidNamespace, type Task, type TaskIterType } from '@bpf-iter/core';

function walk(k: Kernel, ns: PidNamespace, type: TaskIterType, pid = 0): Task[] {
  const w = new TaskWalker(k, { ns, type, pid });
  const out: Task[] = [];
  for (let t = w.start(); t; t = w.next()) out.push(t);
  w.stop();
  return out;
}

function world() {
  const k = new Kernel();
  const init = k.createTask({ comm: 'init' });
  const a = k.fork(init, { comm: 'a' });
  const c1 = k.fork(init, { comm: 'container', newPidNs: true });
  const ns = c1.pidNs;
  const c2 = k.fork(c1, { comm: 'c2' });
  const c2t = k.clone(c2, { comm: 'c2-thread' });
  const b = k.fork(a, { comm: 'b' });
  const n1 = k.fork(c2, { comm: 'nested', newPidNs: true });
  const nns = n1.pidNs;
  const n2 = k.fork(n1, { comm: 'n2' });
  return { k, init, a, b, c1, c2, c2t, ns, n1, n2, nns };
}

describe('pid numbering', () => {
  test('fork with newPidNs makes the child pid 1 inside a new namespace below the parent’s', () => {
    const { k, init, c1, ns, n1, nns } = world();
    expect(ns).not.toBe(k.initPidNs);
    expect(ns.parent).toBe(k.initPidNs);
    expect(ns.level).toBe(1);
    expect(c1.pidNr(ns)).toBe(1);
    expect(c1.vpid).toBe(1);
    expect(ns.child_reaper).toBe(c1);
    expect(c1.pidNr(k.initPidNs)).toBe(c1.pid);
    expect(c1.pid).toBeGreaterThan(init.pid);
    expect(nns.parent).toBe(ns);
    expect(nns.level).toBe(2);
    expect(n1.pidNr(nns)).toBe(1);
    expect(k.findTask(1, ns)).toBe(c1);
    expect(k.findTask(1, nns)).toBe(n1);
    expect(k.findTask(1)).toBe(init);
  });

  test('task.pidNr(ns) at each level; 0 where the task has no number', () => {
    const { k, init, a, c1, c2, c2t, ns, n1, n2, nns } = world();
    // Inside the container: 1, 2, 3 for c1, c2 and c2's thread.
    expect([c1, c2, c2t].map((t) => t.pidNr(ns))).toEqual([1, 2, 3]);
    expect(c2t.tgidNr(ns)).toBe(2);
    expect(c2t.tgidNr(k.initPidNs)).toBe(c2.pid);
    // The nested namespace's tasks have numbers at all three levels.
    expect([n1, n2].map((t) => t.pidNr(nns))).toEqual([1, 2]);
    expect([n1, n2].map((t) => t.pidNr(ns))).toEqual([4, 5]);
    expect([n1, n2].map((t) => t.pidNr(k.initPidNs))).toEqual([n1.pid, n2.pid]);
    // Tasks outside a namespace have no number in it.
    for (const t of [init, a]) {
      expect(t.pidNr(ns)).toBe(0);
      expect(t.pidNr(nns)).toBe(0);
    }
    expect(c1.pidNr(nns)).toBe(0);
    expect(k.initPidNs.isAncestorOf(nns)).toBe(true);
    expect(nns.isAncestorOf(ns)).toBe(false);
  });

  test('a thread cloned in a namespace gets its number there; exits free the numbers at every level', () => {
    const { k, c2, c2t, ns } = world();
    k.exit(c2t);
    expect(k.findTask(3, ns)).toBeUndefined();
    expect(k.findTask(c2t.pid)).toBeUndefined();
    const again = k.clone(c2);
    expect(again.pidNr(ns)).toBeGreaterThan(5); // cyclic allocation: no immediate reuse
  });
});

describe('TaskWalker in a child namespace', () => {
  test('ALL yields only tasks of the namespace (and its descendants), in their ascending numbers there', () => {
    const { k, c1, c2, c2t, ns, n1, n2, nns } = world();
    expect(walk(k, ns, 'ALL')).toEqual([c1, c2, c2t, n1, n2]);
    expect(walk(k, nns, 'ALL')).toEqual([n1, n2]);
    expect(walk(k, k.initPidNs, 'ALL').length).toBe(k.taskCount);
  });

  test('cursor values are numbers in the reader’s namespace', () => {
    const { k, c2, ns } = world();
    const w = new TaskWalker(k, { ns, type: 'ALL', pid: 0 });
    w.start();
    expect(w.next()).toBe(c2);
    expect(w.cursor.tid).toBe(2);
    w.stop();
  });

  test('TID and TGID filters are interpreted in the reader’s namespace', () => {
    const { k, init, c1, c2, c2t, ns, n1, n2, nns } = world();
    expect(walk(k, ns, 'TID', 1)).toEqual([c1]);
    expect(walk(k, ns, 'TID', 3)).toEqual([c2t]);
    expect(walk(k, ns, 'TGID', 2)).toEqual([c2, c2t]);
    expect(walk(k, ns, 'TGID', 3)).toEqual([]); // a thread id, not a process id
    expect(walk(k, nns, 'TGID', 2)).toEqual([n2]);
    // The global number of a container task means something else (or nothing) inside.
    expect(walk(k, ns, 'TID', c2.pid)).not.toContain(c2);
    // In the initial namespace, 1 is init.
    expect(walk(k, k.initPidNs, 'TID', 1)).toEqual([init]);
    expect(walk(k, ns, 'TID', n1.pidNr(ns))).toEqual([n1]);
  });

  test('task_file in a child namespace never reports an outside task', () => {
    const { k, init, c1, ns } = world();
    k.open(init, '/outside');
    k.open(c1, '/inside');
    const w = new TaskFileWalker(k, { ns, type: 'ALL', pid: 0 });
    const got: string[] = [];
    for (let x = w.start(); x; x = w.next()) got.push(x.file.path);
    w.stop();
    expect(got).toContain('/inside');
    expect(got).not.toContain('/outside');
  });

  test('property: with forks inside/outside and exits interleaved, a child-namespace walk never yields an outside task', () => {
    const cmd = fc.record({ op: fc.constantFrom('forkIn', 'forkOut', 'clone', 'exit', 'exitCur', 'nest', 'pause'), a: fc.nat(100) });
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), fc.integer({ min: 0, max: 4 }), (plan, pre) => {
        const k = new Kernel();
        const init = k.createTask({ comm: 'init' });
        const root = k.fork(init, { newPidNs: true });
        const ns = root.pidNs;
        for (let i = 0; i < pre; i++) k.fork(i % 2 ? init : root);
        const inside = (): Task[] => [...ns.pids.entries()].map(([, t]) => t);
        const outside = (): Task[] => [...k.initPidNs.pids.entries()].map(([, t]) => t).filter((t) => t.pidNr(ns) === 0);
        const initial = new Set(inside());
        const gone = new Set<Task>();
        const before = refStats.outstanding;
        const w = new TaskWalker(k, { ns, type: 'ALL', pid: 0 });
        const seen: Task[] = [];
        let last = 0;
        let cur = w.start();
        for (let i = 0; cur; i++) {
          expect(cur.pidNr(ns)).toBeGreaterThan(last);
          expect(ns.isAncestorOf(cur.pidNs)).toBe(true);
          last = cur.pidNr(ns);
          seen.push(cur);
          const c = plan[i];
          if (c) {
            const ins = inside().filter((t) => !t.dead);
            const outs = outside();
            const pick = <T,>(xs: T[]): T | undefined => xs[c.a % Math.max(1, xs.length)];
            const t = c.op === 'forkOut' ? pick(outs) : pick(ins);
            if (c.op === 'forkIn' && t) k.fork(t);
            if (c.op === 'forkOut' && t) k.fork(t);
            if (c.op === 'nest' && t) k.fork(t, { newPidNs: true });
            if (c.op === 'clone' && t) k.clone(t);
            if (c.op === 'exit' && t && c.a % 2) k.exit(pick([...ins, ...outs])!);
            if (c.op === 'exitCur') k.exit(cur);
            for (const x of initial) if (x.dead) gone.add(x);
            if (c.op === 'pause') {
              w.stop();
              cur = w.start();
              if (cur && cur === seen[seen.length - 1]) cur = w.next();
              continue;
            }
          }
          cur = w.next();
        }
        w.stop();
        expect(refStats.outstanding).toBe(before);
        expect(new Set(seen).size).toBe(seen.length);
        for (const t of initial) if (!gone.has(t)) expect(seen).toContain(t);
      }),
      { numRuns: 150 },
    );
  });
});
