/**
 * Robustness: iterator programs read at random buffer sizes (1 B..64 KiB)
 * while the kernel changes between reads (fork, exit, open, close, mmap,
 * munmap, map update/delete). Per reference §2.3 and §4.1-§4.4 the byte
 * stream is made of whole objects, a survivor (alive for the whole walk) is
 * shown exactly once, nothing is shown twice, and per §5.2 a hash-map walk
 * may skip elements only when elements are deleted during it. Afterwards no
 * reference is outstanding and the fd table is as before.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { refStats } from '@bpf-iter/core';
import { attachIter, BPF_SEQ_PRINTF, fdTable, loadProgram, SEC, type BpfIterLinkInfoInit, type IterFd } from '../../src/internal.js';
import { mapFd } from '../../src/fds.js';
import { checkWalk, readSizeArb, scheduleArb, SEED, shapeArb, vmaId, World, type Op } from './world.js';

const RUNS = 100;

// Programs printing one identity line per object (the end call prints nothing).
const taskProg = SEC('iter/task', function ids_task(ctx: any) {
  if (ctx.task) BPF_SEQ_PRINTF(ctx.meta.seq, '%d\n', ctx.task.pid);
  return 0;
});
const fileProg = SEC('iter/task_file', function ids_file(ctx: any) {
  if (ctx.task && ctx.file) BPF_SEQ_PRINTF(ctx.meta.seq, '%d %d %d\n', ctx.task.pid, ctx.fd, ctx.file.f_inode.i_ino);
  return 0;
});
const vmaProg = SEC('iter/task_vma', function ids_vma(ctx: any) {
  if (ctx.task && ctx.vma) BPF_SEQ_PRINTF(ctx.meta.seq, '%s\n', vmaId(ctx.task.pid, ctx.vma.vm_start, ctx.vma.vm_end));
  return 0;
});
const elemProg = SEC('iter/bpf_map_elem', function ids_elem(ctx: any) {
  if (ctx.key) BPF_SEQ_PRINTF(ctx.meta.seq, '%u\n', ctx.key[0] | (ctx.key[1] << 8));
  return 0;
});

type Target = 'task' | 'task_file' | 'task_vma' | 'bpf_map_elem';
const PROGS = { task: taskProg, task_file: fileProg, task_vma: vmaProg, bpf_map_elem: elemProg };

/** Reads `it` to EOF with the given sizes (cyclically), applying scheduled ops before each read. */
function readWhileMutating(w: World, it: IterFd, sizes: readonly number[], schedule: readonly { at: number; op: Op }[]): string[] {
  const parts: Buffer[] = [];
  for (let i = 0; ; i++) {
    for (const s of schedule) if (s.at === i) w.apply(s.op);
    const b = it.read(sizes[i % sizes.length]!);
    if (b.length === 0) break;
    parts.push(b);
    if (i > 200_000) throw new Error('no EOF after 200,000 reads');
  }
  const text = Buffer.concat(parts).toString('latin1');
  // Objects are atomic (§2.3): the stream is whole lines only.
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').filter((l) => l !== '');
}

function walk(target: Target, shape: { fds: number; vmas: number }[], sizes: number[], schedule: { at: number; op: Op }[], lazy: boolean): void {
  const refs0 = refStats.outstanding;
  const fds0 = fdTable.list().join(',');
  const w = new World(shape, 12, lazy);
  const snap = () => (target === 'task' ? w.tasks() : target === 'task_file' ? w.files() : target === 'task_vma' ? w.vmas() : new Set(w.mapKeys().map(String)));
  const prog = loadProgram(PROGS[target], { kernel: w.kernel });
  let linkInfo: BpfIterLinkInfoInit | undefined;
  let mfd = -1;
  if (target === 'bpf_map_elem') {
    mfd = mapFd(w.map);
    linkInfo = { map: { map_fd: mfd } };
  }
  const link = attachIter(prog, { kernel: w.kernel, ...(linkInfo ? { linkInfo } : {}) });
  prog.put();
  if (mfd >= 0) fdTable.close(mfd);
  const it = link.open();
  // The fd holds the program, not the link (§3.8): dropping the link first must not matter.
  link.close();
  const before = snap();
  w.resetTouched();
  let seen: string[];
  try {
    seen = readWhileMutating(w, it, sizes, schedule);
  } finally {
    it.close();
  }
  const after = snap();
  const excluded = target === 'task_vma' ? (id: string) => w.vmaTouched(id) : undefined;
  let err = checkWalk(seen, before, after, excluded);
  // §5.2: concurrent deletes may make a hash walk skip or repeat elements.
  if (target === 'bpf_map_elem' && w.deletes > 0) err = null;
  expect(err, `${target}: ${err}\nseen ${seen.join(' | ')}`).toBeNull();
  // Every reference a walk took is back, every fd closed.
  expect(refStats.outstanding).toBe(refs0);
  expect(fdTable.list().join(',')).toBe(fds0);
}

describe('programs under random interleavings (seeded)', () => {
  for (const lazy of [false, true]) {
    // lazy: fd tables and address spaces read on first access, as the lazy host source (openHost) builds them.
    for (const target of ['task', 'task_file', 'task_vma', 'bpf_map_elem'] as const) {
      test(`${target}${lazy ? ' (lazy tables)' : ''}: survivors once, nothing twice, no leak (${RUNS} runs)`, () => {
        fc.assert(
          fc.property(shapeArb, fc.array(readSizeArb, { minLength: 1, maxLength: 8 }), scheduleArb, (shape, sizes, schedule) => walk(target, shape, sizes, schedule, lazy)),
          { seed: SEED, numRuns: RUNS },
        );
      });
    }
  }
});
