/**
 * Robustness: an iterator fd created inside a pid namespace (`asTask`)
 * never shows a task outside that namespace (reference §4.1: the namespace
 * is captured when the iterator fd is created), whatever the mutations
 * between reads — for the task, task_file and task_vma targets. Tasks forked
 * inside the namespace during the walk may appear; tasks outside never.
 */
import { expect, test } from 'vitest';
import fc from 'fast-check';
import { asTask, refStats, type PidNamespace, type Task } from '@bpf-iter/core';
import { attachIter, BPF_SEQ_PRINTF, loadProgram, SEC } from '../../src/index.js';
import { readSizeArb, scheduleArb, SEED, shapeArb, World, type Op } from './world.js';

const RUNS = 100;

// Prints the global pid of the task behind each object (end call: nothing).
const progs = ['task', 'task_file', 'task_vma'].map((t) =>
  SEC(`iter/${t}`, function pid_of(ctx: any) {
    if (ctx.task && (t === 'task' || ctx.file || ctx.vma)) BPF_SEQ_PRINTF(ctx.meta.seq, '%d\n', ctx.task.pid);
    return 0;
  }),
);

function inNs(t: Task, ns: PidNamespace): boolean {
  for (let n: PidNamespace | null = t.pidNs; n; n = n.parent) if (n === ns) return true;
  return false;
}

test(`iterators created in a pid namespace stay inside it (task, task_file, task_vma; ${RUNS} runs each)`, () => {
  fc.assert(
    fc.property(
      shapeArb,
      fc.nat({ max: 2 }),
      fc.array(readSizeArb, { minLength: 1, maxLength: 6 }),
      scheduleArb,
      fc.nat({ max: 3 }),
      (shape, which, sizes, schedule, nsChildren) => {
        const refs0 = refStats.outstanding;
        const w = new World(shape);
        const k = w.kernel;
        // A container: its init (pid 1 inside) with a few children of its own.
        const init = k.fork(w.procs[0]!, { newPidNs: true });
        const ns = init.pidNs;
        k.open(init, '/ns/file');
        k.mmap(init, { length: 4096 });
        const inside = [init];
        for (let i = 0; i < nsChildren; i++) inside.push(k.fork(init));
        // Ops also act on container processes: they are part of w.procs.
        w.procs.push(...inside);
        const prog = loadProgram(progs[which]!, { kernel: k });
        const link = attachIter(prog, { kernel: k });
        prog.put();
        const it = asTask(init, () => link.open());
        link.close();
        let text = '';
        try {
          for (let i = 0; ; i++) {
            for (const s of schedule as { at: number; op: Op }[]) if (s.at === i) w.apply(s.op);
            const b = it.read(sizes[i % sizes.length]!);
            if (b.length === 0) break;
            text += b.toString('latin1');
          }
        } finally {
          it.close();
        }
        // Parse the whole stream: 1-byte reads split lines.
        const pids = text.split('\n').filter(Boolean).map(Number);
        expect(pids.length).toBeGreaterThan(0);
        for (const pid of pids) {
          const t = w.procs.find((p) => p.pid === pid);
          expect(t, `pid ${pid} is not a world process`).toBeDefined();
          expect(inNs(t!, ns), `pid ${pid} outside the reader's namespace`).toBe(true);
        }
        expect(refStats.outstanding).toBe(refs0);
      },
    ),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});
