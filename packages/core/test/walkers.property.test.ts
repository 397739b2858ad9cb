/**
 * Property tests of the walkers' resume semantics under interleaved mutation
 * (reference §4.1, §4.3, §4.4, §5.1, §5.5): a walk is driven step by step;
 * between any two steps, and across stop()/start() pauses (read boundaries),
 * a random kernel mutation is applied. Every object alive for the whole walk
 * must be visited exactly once, nothing twice, in the kernel's order, and
 * no reference may leak.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  AF_INET,
  BPF_MAP_TYPE_ARRAY,
  IPPROTO_UDP,
  IdrWalker,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  CssWalker,
  cgroupWalkNext,
  type Cgroup,
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  RcuList,
  TaskListWalker,
  type RcuNode,
  Kernel,
  PAGE_SIZE,
  SOCK_DGRAM,
  Socket,
  SockWalker,
  TaskFileWalker,
  TaskVmaWalker,
  TaskWalker,
  refStats,
  type BpfMap,
  type KFile,
  type PidNamespace,
  type SockEntry,
  type Task,
  type TaskFile,
  type TaskIterType,
  type TaskVma,
  type Vma,
  type Walker,
} from '@bpf-iter/core';

const RUNS = 150;

// ------------------------------------------------------------------ kernel shapes

interface ProcShape {
  threads: number;
  privateThread: boolean;
  fds: number;
  hole: boolean;
  vmas: number;
  kthread: boolean;
  exited: boolean;
}

const procShape = fc.record({
  threads: fc.integer({ min: 0, max: 2 }),
  privateThread: fc.boolean(),
  fds: fc.integer({ min: 0, max: 5 }),
  hole: fc.boolean(),
  vmas: fc.integer({ min: 0, max: 5 }),
  kthread: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  exited: fc.boolean(),
});
const kernelShape = fc.array(procShape, { minLength: 1, maxLength: 5 });

const VMA_BASE = 0x400000;

function buildKernel(shape: ProcShape[]): Kernel {
  const k = new Kernel();
  for (const p of shape) {
    if (p.kthread) {
      // A task without file table or address space.
      k.createTask({ comm: 'kworker', files: null, mm: null });
      continue;
    }
    const leader = k.createTask({ comm: 'proc', mm: k.newMm() });
    for (let i = 0; i < p.fds; i++) k.open(leader, `/tmp/f${i}`);
    if (p.hole && p.fds > 2) k.close(leader, 1);
    for (let i = 0; i < p.vmas; i++) k.mmap(leader, { addr: VMA_BASE + i * 3 * PAGE_SIZE, length: (1 + (i % 2)) * PAGE_SIZE });
    for (let i = 0; i < p.threads; i++) {
      const t = k.clone(leader, { privateFiles: p.privateThread && i === 0 });
      if (p.privateThread && i === 0) k.open(t, '/tmp/private');
    }
    if (p.exited) {
      // Leaves a hole in the pid space.
      const gone = k.createTask({ comm: 'short', mm: null });
      k.exit(gone);
    }
  }
  return k;
}

// ------------------------------------------------------------------ mutations

const OPS = [
  'fork', 'clone', 'clonePriv', 'exit', 'exitCur', 'exitCur', 'open', 'open', 'close', 'closeCur', 'dup',
  'mmap', 'mmapFixed', 'munmap', 'munmapPart', 'munmapCur', 'none',
] as const;
type Op = (typeof OPS)[number];
interface Cmd {
  op: Op;
  a: number;
  b: number;
}
const cmd: fc.Arbitrary<Cmd> = fc.record({ op: fc.constantFrom(...OPS), a: fc.nat(1000), b: fc.nat(1000) });
interface Step {
  pause: boolean;
  pauseCmd: Cmd;
  cmd: Cmd;
}
const steps = fc.array(fc.record({ pause: fc.boolean(), pauseCmd: cmd, cmd }), { maxLength: 40 });

/** What the walker currently holds. */
interface Ctx {
  task?: Task;
  fd?: number;
  vma?: Vma;
}

function liveTasks(k: Kernel): Task[] {
  return [...k.initPidNs.pids.entries()].map(([, t]) => t);
}

function pick<T>(xs: readonly T[], n: number): T | undefined {
  return xs.length ? xs[n % xs.length] : undefined;
}

function openFds(t: Task): number[] {
  const out: number[] = [];
  if (t.files) for (let fd = t.files.nextFd(0); fd >= 0; fd = t.files.nextFd(fd + 1)) out.push(fd);
  return out;
}

function applyTaskCmd(k: Kernel, c: Cmd, ctx: Ctx): void {
  const tasks = liveTasks(k);
  const t = pick(tasks, c.a);
  switch (c.op) {
    case 'fork':
      if (t) k.fork(t);
      return;
    case 'clone':
    case 'clonePriv':
      if (t) k.clone(t, { privateFiles: c.op === 'clonePriv' });
      return;
    case 'exit':
      // Exits are rarer than the rest, or the kernel empties quickly.
      if (t && c.b % 3 === 0) k.exit(t);
      return;
    case 'exitCur':
      if (ctx.task) k.exit(ctx.task);
      return;
    case 'open':
      if (t?.files) k.open(t, `/tmp/new${c.b}`);
      return;
    case 'close': {
      const fd = t && pick(openFds(t), c.b);
      if (t && fd !== undefined) k.close(t, fd);
      return;
    }
    case 'closeCur':
      if (ctx.task?.files && ctx.fd !== undefined && ctx.task.files.fd[ctx.fd]) k.close(ctx.task, ctx.fd);
      return;
    case 'dup': {
      const fd = t && pick(openFds(t), c.b);
      if (t && fd !== undefined) k.dup(t, fd);
      return;
    }
    case 'mmap':
      if (t?.mm) k.mmap(t, { length: (1 + (c.b % 3)) * PAGE_SIZE });
      return;
    case 'mmapFixed':
      if (t?.mm) k.mmap(t, { addr: VMA_BASE + (c.b % 20) * PAGE_SIZE, length: (1 + (c.b % 3)) * PAGE_SIZE });
      return;
    case 'munmap':
    case 'munmapPart': {
      const v = t?.mm && pick(t.mm.vmas(), c.b);
      if (t && v) {
        if (c.op === 'munmap') k.munmap(t, v.vm_start, v.vm_end - v.vm_start);
        else k.munmap(t, v.vm_start + PAGE_SIZE * (c.b % ((v.vm_end - v.vm_start) / PAGE_SIZE)), PAGE_SIZE);
      }
      return;
    }
    case 'munmapCur':
      if (ctx.task?.mm && ctx.vma) k.munmap(ctx.task, ctx.vma.vm_start, ctx.vma.vm_end - ctx.vma.vm_start);
      return;
    case 'none':
      return;
  }
}

// ------------------------------------------------------------------ the driver

interface Harness<T> {
  walker: Walker<T>;
  /** Keys of every object the walk should visit, as the kernel is now. */
  keys(): Set<string>;
  key(item: T): string;
  /** Lexicographically strictly ascending along the walk. */
  order(item: T): number[];
  ctx(item: T): Ctx;
  mutate(c: Cmd, ctx: Ctx): void;
  /** Items that are handed out but not shown (unhashed sockets). */
  shown?(item: T): boolean;
  /** The walk may (TGID) or must end when the object the cursor names vanishes. */
  cursorGone?(item: T): boolean;
  endsWhenCursorGone?: boolean;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -Infinity;
    const y = b[i] ?? -Infinity;
    if (x !== y) return x < y;
  }
  return false;
}

function drive<T>(h: Harness<T>, plan: Step[]): { shown: string[]; survivors: string[]; disrupted: boolean } {
  const before = refStats.outstanding;
  const initial = h.keys();
  const removed = new Set<string>();
  const noteRemovals = (): void => {
    const now = h.keys();
    for (const x of initial) if (!now.has(x)) removed.add(x);
  };
  const w = h.walker;
  const shown: string[] = [];
  let lastOrder: number[] | null = null;
  let disrupted = false;
  let cur = w.start();
  for (let i = 0; cur; i++) {
    if (i > 2000) throw new Error('walk does not terminate');
    const step = plan[i];
    if (step?.pause) {
      w.stop();
      // Paused between reads: the walker holds nothing.
      expect(refStats.outstanding).toBe(before);
      h.mutate(step.pauseCmd, h.ctx(cur));
      noteRemovals();
      const gone = h.cursorGone?.(cur) ?? false;
      cur = w.start();
      if (gone) {
        disrupted = true;
        if (h.endsWhenCursorGone) expect(cur).toBeNull();
      }
      if (!cur) break;
    }
    if (h.shown?.(cur) ?? true) {
      const o = h.order(cur);
      if (lastOrder) expect(lexLess(lastOrder, o), `order ${lastOrder} then ${o}`).toBe(true);
      lastOrder = o;
      shown.push(h.key(cur));
    }
    if (step) {
      h.mutate(step.cmd, h.ctx(cur));
      noteRemovals();
    }
    const gone = h.cursorGone?.(cur) ?? false;
    cur = w.next();
    if (gone) {
      disrupted = true;
      if (h.endsWhenCursorGone) expect(cur).toBeNull();
    }
  }
  w.stop();
  expect(refStats.outstanding).toBe(before);
  const survivors = [...initial].filter((x) => !removed.has(x));
  return { shown, survivors, disrupted };
}

function checkOnce(r: { shown: string[]; survivors: string[]; disrupted: boolean }, allowDisruption: boolean): void {
  expect(new Set(r.shown).size, `duplicates in ${r.shown}`).toBe(r.shown.length);
  if (allowDisruption && r.disrupted) return;
  const seen = new Set(r.shown);
  for (const s of r.survivors) expect(seen.has(s), `survivor ${s} not visited; shown ${r.shown}`).toBe(true);
}

// ------------------------------------------------------------------ task selections

interface Selection {
  type: TaskIterType;
  pid: number;
}

function chooseSelection(k: Kernel, type: TaskIterType, sel: number): Selection {
  const tasks = liveTasks(k);
  if (type === 'ALL') return { type, pid: 0 };
  if (type === 'TID') return { type, pid: pick(tasks, sel)?.pid ?? 12345 };
  // Prefer processes with threads.
  const leaders = tasks.filter((t) => t.isLeader);
  const multi = leaders.filter((t) => t.signal.nr_threads > 1);
  return { type, pid: pick(multi.length ? multi : leaders, sel)?.pid ?? 12345 };
}

/** The tasks a walk with `skip` (task_file/task_vma) should visit now. */
function selected(k: Kernel, ns: PidNamespace, s: Selection, skipDupFiles: boolean): Task[] {
  const inNs = [...ns.pids.entries()].map(([, t]) => t);
  let ts: Task[];
  if (s.type === 'ALL') ts = inNs;
  else if (s.type === 'TID') ts = inNs.filter((t) => t.pidNr(ns) === s.pid);
  else ts = inNs.filter((t) => t.tgidNr(ns) === s.pid && ns.pids.get(s.pid)?.isLeader);
  if (skipDupFiles && s.type !== 'TID') ts = ts.filter((t) => t.isLeader || t.files !== t.group_leader.files);
  return ts;
}

const taskType = fc.constantFrom<TaskIterType>('ALL', 'ALL', 'TGID', 'TID');

describe('TaskWalker under mutation', () => {
  test('survivors once, ascending tids (ALL) / thread order (TGID), TGID ends when its thread vanishes, no leaks', () => {
    fc.assert(
      fc.property(kernelShape, taskType, fc.nat(100), steps, (shape, type, sel, plan) => {
        const k = buildKernel(shape);
        const ns = k.initPidNs;
        const s = chooseSelection(k, type, sel);
        const h: Harness<Task> = {
          walker: new TaskWalker(k, { ns, type, pid: s.pid }),
          keys: () => new Set(selected(k, ns, s, false).map((t) => String(t.pid))),
          key: (t) => String(t.pid),
          order: (t) => [t.pidNr(ns)],
          ctx: (t) => ({ task: t }),
          mutate: (c, ctx) => applyTaskCmd(k, c, ctx),
          cursorGone: (t) => t.dead,
          endsWhenCursorGone: type === 'TGID' || type === 'TID',
        };
        const r = drive(h, plan);
        checkOnce(r, type === 'TGID');
        if (type === 'TID' && r.shown.length) expect(r.shown).toEqual([String(s.pid)]);
        if (type === 'TGID' && r.shown.length) expect(r.shown[0]).toBe(String(s.pid));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('TaskFileWalker under mutation', () => {
  test('open fds of surviving tasks once each, (tid, fd) ascending, shared tables once, no leaks', () => {
    const ids = new WeakMap<KFile, number>();
    let nextId = 1;
    const fileId = (f: KFile): number => {
      let id = ids.get(f);
      if (id === undefined) ids.set(f, (id = nextId++));
      return id;
    };
    fc.assert(
      fc.property(kernelShape, taskType, fc.nat(100), steps, (shape, type, sel, plan) => {
        const k = buildKernel(shape);
        const ns = k.initPidNs;
        const s = chooseSelection(k, type, sel);
        const h: Harness<TaskFile> = {
          walker: new TaskFileWalker(k, { ns, type, pid: s.pid }),
          keys: () => {
            const out = new Set<string>();
            for (const t of selected(k, ns, s, true)) for (const fd of openFds(t)) out.add(`${t.pid}:${fd}:${fileId(t.files!.fd[fd]!)}`);
            return out;
          },
          key: (x) => `${x.task.pid}:${x.fd}:${fileId(x.file)}`,
          order: (x) => [x.task.pidNr(ns), x.fd],
          ctx: (x) => ({ task: x.task, fd: x.fd }),
          mutate: (c, ctx) => applyTaskCmd(k, c, ctx),
          cursorGone: (x) => x.task.dead,
          endsWhenCursorGone: type === 'TGID' || type === 'TID',
        };
        const r = drive(h, plan);
        checkOnce(r, type === 'TGID');
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('TaskVmaWalker under mutation', () => {
  test('VMAs of surviving tasks once each, (tid, vm_end) ascending, no leaks', () => {
    fc.assert(
      fc.property(kernelShape, taskType, fc.nat(100), steps, (shape, type, sel, plan) => {
        const k = buildKernel(shape);
        const ns = k.initPidNs;
        const s = chooseSelection(k, type, sel);
        const h: Harness<TaskVma> = {
          walker: new TaskVmaWalker(k, { ns, type, pid: s.pid }),
          keys: () => {
            const out = new Set<string>();
            for (const t of selected(k, ns, s, true)) for (const v of t.mm?.vmas() ?? []) out.add(`${t.pid}:${v.vm_start}-${v.vm_end}`);
            return out;
          },
          key: (x) => `${x.task.pid}:${x.vma.vm_start}-${x.vma.vm_end}`,
          order: (x) => [x.task.pidNr(ns), x.vma.vm_end],
          ctx: (x) => ({ task: x.task, vma: x.vma }),
          mutate: (c, ctx) => applyTaskCmd(k, c, ctx),
          cursorGone: (x) => x.task.dead,
          endsWhenCursorGone: type === 'TID',
        };
        const r = drive(h, plan);
        checkOnce(r, type === 'TGID');
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('IdrWalker under mutation (bpf_map)', () => {
  const mapCmd = fc.record({ op: fc.constantFrom('create', 'destroy', 'destroyCur', 'none'), a: fc.nat(100) });
  test('ids strictly ascending, surviving maps once, maps created above the cursor may appear, no leaks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.nat(7), { maxLength: 4 }),
        fc.array(fc.record({ pause: fc.boolean(), pauseCmd: mapCmd, cmd: mapCmd }), { maxLength: 30 }),
        (n, destroyFirst, plan) => {
          const k = new Kernel();
          const spec = { map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1 };
          const maps: BpfMap[] = [];
          for (let i = 0; i < n; i++) maps.push(k.createMap(spec));
          for (const d of destroyFirst) if (maps[d] && !maps[d].dead) k.destroyMap(maps[d]); // sparse ids
          const mutate = (c: { op: string; a: number }, ctx: { map?: BpfMap }): void => {
            const live = [...k.maps.entries()].map(([, m]) => m);
            if (c.op === 'create') k.createMap(spec);
            else if (c.op === 'destroy' && live.length) k.destroyMap(live[c.a % live.length]!);
            else if (c.op === 'destroyCur' && ctx.map && !ctx.map.dead) k.destroyMap(ctx.map);
          };
          const h: Harness<BpfMap> = {
            walker: new IdrWalker(k.maps),
            keys: () => new Set([...k.maps.entries()].map(([id]) => String(id))),
            key: (m) => String(m.id),
            order: (m) => [m.id],
            ctx: (m) => ({ map: m }) as Ctx,
            mutate: (c, ctx) => mutate(c as unknown as { op: string; a: number }, ctx as { map?: BpfMap }),
          };
          const r = drive(h, plan as unknown as Step[]);
          checkOnce(r, false);
          // Everything shown was a live (not destroyed before the walk) map.
          for (const id of r.shown) expect(Number(id)).toBeGreaterThan(0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('SockWalker under mutation (batches and cookie resume)', () => {
  const sockCmd = fc.record({ op: fc.constantFrom('add', 'close', 'close', 'closeCur', 'none'), a: fc.nat(100) });
  test('surviving sockets once, (bucket, cookie) ascending, unhashed ones never shown, no leaks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }),
        fc.array(fc.record({ pause: fc.boolean(), pauseCmd: sockCmd, cmd: sockCmd }), { maxLength: 30 }),
        (buckets, plan) => {
          const k = new Kernel();
          const bucketOf = new Map<Socket, number>();
          const add = (bucket: number): Socket => {
            const sk = new Socket({ proto: 'udp', skc_family: AF_INET, sk_type: SOCK_DGRAM, sk_protocol: IPPROTO_UDP, skc_state: 7, skc_rcv_saddr: new Uint8Array(4), skc_daddr: new Uint8Array(4), skc_num: 1000, ino: k.allocIno(), cookie: k.allocCookie() });
            k.addSocket(sk, bucket);
            bucketOf.set(sk, bucket);
            return sk;
          };
          for (const b of buckets) add(b);
          const mutate = (c: { op: string; a: number }, ctx: { sk?: Socket }): void => {
            const live = k.sockets('udp');
            if (c.op === 'add') add(c.a % 4);
            else if (c.op === 'close' && live.length) k.closeSocket(live[c.a % live.length]!);
            else if (c.op === 'closeCur' && ctx.sk) k.closeSocket(ctx.sk);
          };
          const h: Harness<SockEntry> = {
            walker: new SockWalker(k, 'udp'),
            keys: () => new Set(k.sockets('udp').map((sk) => String(sk.cookie))),
            key: (e) => String(e.sk.cookie),
            order: (e) => [e.bucket, Number(e.sk.cookie)],
            ctx: (e) => ({ sk: e.sk }) as Ctx,
            mutate: (c, ctx) => mutate(c as unknown as { op: string; a: number }, ctx as { sk?: Socket }),
            shown: (e) => e.sk.hashed,
          };
          const r = drive(h, plan as unknown as Step[]);
          checkOnce(r, false);
          // The bucket reported is the one the socket lives in.
          for (const sk of k.sockets('udp')) expect(k.udp.buckets[bucketOf.get(sk)!]).toContain(sk);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/**
 * The open-coded task walk as the kernel writes it (`bpf_iter_task_next`
 * over `init_task.tasks` and each `signal->thread_head`, one task ahead),
 * stepping list nodes only: what TaskListWalker, which steps a flattened
 * array while no list changes, must return step for step.
 */
class NodeTaskWalk {
  proc: RcuNode<Task> | null;
  pos: RcuNode<Task> | null;
  constructor(
    k: Kernel,
    readonly flags: number,
  ) {
    this.proc = k.initTask.signal.listNode;
    this.pos = k.initTask.threadNode;
  }
  next(): Task | null {
    const pos = this.pos;
    if (!pos) return null;
    if (this.flags === BPF_TASK_ITER_ALL_THREADS) {
      this.pos = RcuList.nextLive(pos);
      if (this.pos) return pos.value;
    }
    this.proc = RcuList.nextLive(this.proc!);
    this.pos = this.proc ? this.proc.value.threadNode : null;
    return pos.value;
  }
}

describe('TaskListWalker under mutation (open-coded task walk)', () => {
  test('several walkers, started before and after changes, return what the node walk returns, step for step', () => {
    const flagsArb = fc.constantFrom(BPF_TASK_ITER_ALL_PROCS, BPF_TASK_ITER_ALL_THREADS);
    fc.assert(
      fc.property(kernelShape, fc.array(fc.record({ flags: flagsArb, at: fc.nat(40) }), { minLength: 1, maxLength: 4 }), steps, (shape, starts, plan) => {
        const k = buildKernel(shape);
        const walks: { w: TaskListWalker; ref: NodeTaskWalk; done: boolean }[] = [];
        for (let i = 0; i <= plan.length + 20; i++) {
          for (const s of starts) if (s.at === i) walks.push({ w: new TaskListWalker(k, s.flags, null), ref: new NodeTaskWalk(k, s.flags), done: false });
          for (const x of walks) {
            if (x.done) continue;
            const got = x.w.next();
            expect(got).toBe(x.ref.next());
            if (got === null) {
              x.done = true;
              expect(x.w.next()).toBeNull();
            } else expect(x.w.start()).toBe(got);
          }
          const step = plan[i];
          if (step && step.pause) applyTaskCmd(k, step.cmd, { task: walks.length ? (walks[0]!.w.start() ?? undefined) : undefined });
          // bpf_iter_task_destroy mid-walk: later walkers may reuse the flattened walk's array.
          if (step && step.pauseCmd.a % 5 === 0 && walks.length) {
            const x = walks[step.pauseCmd.b % walks.length]!;
            x.w.release();
            x.done = true;
          }
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('CssWalker under mutation (open-coded css walk)', () => {
  test('walkers of a subtree return what cgroupWalkNext returns step for step, restart after NULL included, while cgroups come and go', () => {
    const op = fc.record({ op: fc.constantFrom('mkdir', 'mkdir', 'rmdir', 'hold', 'release', 'destroy', 'none'), a: fc.nat(1000) });
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ order: fc.constantFrom(BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_POST), root: fc.nat(20), at: fc.nat(30) }), { minLength: 1, maxLength: 4 }),
        fc.array(op, { maxLength: 40 }),
        (tree, starts, plan) => {
          const k = new Kernel();
          const all: Cgroup[] = [k.cgroupRoot];
          let names = 0;
          for (const p of tree) all.push(k.mkdirCgroup(pick(all, p)!, `c${names++}`));
          const held: Cgroup[] = [];
          const walks: { w: CssWalker; pos: Cgroup | null; order: number; root: Cgroup; destroyed: boolean }[] = [];
          for (let i = 0; i < plan.length + 30; i++) {
            for (const s of starts) {
              const root = pick(all.filter((c) => !c.dead), s.root)!;
              if (s.at === i) walks.push({ w: new CssWalker(root, s.order), pos: null, order: s.order, root, destroyed: false });
            }
            for (const x of walks) {
              if (x.destroyed) continue;
              x.pos = cgroupWalkNext(x.order, x.pos, x.root);
              expect(x.w.next()).toBe(x.pos);
            }
            const c = plan[i];
            if (!c) continue;
            const live = all.filter((g) => !g.dead);
            const g = pick(live, c.a)!;
            if (c.op === 'mkdir') all.push(k.mkdirCgroup(g, `c${names++}`));
            else if (c.op === 'rmdir' && g.parent && g.tasks.size === 0 && g.childList().length === 0) k.rmdirCgroup(g);
            else if (c.op === 'hold') held.push(g.get());
            else if (c.op === 'release' && held.length) held.splice(c.a % held.length, 1)[0]!.put();
            else if (c.op === 'destroy' && walks.length) {
              // bpf_iter_css_destroy mid-walk: later walkers may reuse the flattened walk's array.
              const x = walks[c.a % walks.length]!;
              x.w.release();
              x.destroyed = true;
            }
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});
