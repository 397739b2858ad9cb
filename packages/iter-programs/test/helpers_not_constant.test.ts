/**
 * No helper is a stub: every helper any target's func proto offers has an
 * implementation, it is not a constant function, and called twice with
 * different inputs (inside a program of a target that offers it) it
 * answers differently or changes state. A helper added to the protos
 * without a probe here fails the test.
 */
import { describe, expect, it } from 'vitest';
import {
  AF_INET,
  asTask,
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_SK_STORAGE,
  BPF_MAP_TYPE_TASK_STORAGE,
  TCP_ESTABLISHED,
  type BpfMap,
  type Kernel,
  type Socket,
  type Task,
} from '@bpf-iter/core';
import { BPF_FUNC_IDS, bpf_iter_func_proto, findTarget, listTargets, SEC, SO_SNDBUF, SOL_SOCKET, type ProgLike, currentRun } from '../src/internal.js';
import { mkSock, session, smallKernel } from './targets/helpers.js';

type Fn = (...args: any[]) => any;

interface Env {
  k: Kernel;
  a: Task;
  b: Task;
  hash: BpfMap;
  arr: BpfMap;
  taskStore: BpfMap;
  skStore: BpfMap;
  sk: Socket;
  sk2: Socket;
}

const u32 = (n: number) => Uint8Array.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
const spin = () => {
  let x = 0;
  for (let i = 0; i < 100_000; i++) x += i;
  return x;
};
/** The same call as task `t` (what `current` is). */
const as = <R>(t: Task, f: () => R): R => asTask(t, f);
const seqCount = () => currentRun()!.seq.count;

/** Two calls of each helper that must differ (result or observed state). */
const PROBES: Record<string, (f: Fn, e: Env) => [unknown, unknown]> = {
  bpf_map_lookup_elem: (f, e) => [f(e.hash, 1), f(e.hash, 2)],
  bpf_map_update_elem: (f, e) => [f(e.hash, 7, u32(1), 1), f(e.hash, 7, u32(1), 1)],
  bpf_map_delete_elem: (f, e) => [f(e.hash, 1), f(e.hash, 1)],
  bpf_for_each_map_elem: (f, e) => [f(e.arr, () => 0, null, 0), f(e.arr, () => 1, null, 0)],
  bpf_probe_read: (f) => readTwice(f),
  bpf_probe_read_str: (f) => readTwice(f),
  bpf_probe_read_kernel: (f) => readTwice(f),
  bpf_probe_read_kernel_str: (f) => readTwice(f),
  bpf_probe_read_user: (f) => readTwice(f),
  bpf_probe_read_user_str: (f) => readTwice(f),
  bpf_copy_from_user: (f) => readTwice(f),
  bpf_copy_from_user_task: (f, e) => {
    const d = new Uint8Array(3);
    return [(f(d, 3, 'abc', e.a, 0), Buffer.from(d).toString()), f(d, 3, 'abc', e.a, 1)];
  },
  bpf_ktime_get_ns: (f) => [f(), (spin(), f())],
  bpf_ktime_get_boot_ns: (f) => [f(), (spin(), f())],
  bpf_get_prandom_u32: (f) => [[f(), f(), f(), f()].join(), [f(), f(), f(), f()].join()],
  bpf_get_smp_processor_id: (f, e) => [f(), ((e.k.currentCpu = 2), f())],
  bpf_trace_printk: (f, e) => [(f('x %d\n', undefined, 1), e.k.tracePipe.at(-1)), (f('x %d\n', undefined, 2), e.k.tracePipe.at(-1))],
  bpf_get_current_pid_tgid: (f, e) => [as(e.a, f), as(e.b, f)],
  bpf_get_current_uid_gid: (f, e) => [as(e.a, f), as(e.b, f)],
  bpf_get_current_comm: (f, e) => {
    const d = new Uint8Array(16);
    return [(as(e.a, () => f(d, 16)), Buffer.from(d).toString()), (as(e.b, () => f(d, 16)), Buffer.from(d).toString())];
  },
  bpf_get_current_task: (f, e) => [as(e.a, f), as(e.b, f)],
  bpf_get_current_task_btf: (f, e) => [as(e.a, f), as(e.b, f)],
  bpf_get_task_stack: (f, e) => {
    const d = new Uint8Array(16);
    return [(f(e.a, d, 16, 0), Buffer.from(d).toString('hex')), (f(e.b, d, 16, 0), Buffer.from(d).toString('hex'))];
  },
  bpf_snprintf: (f) => {
    const d = new Uint8Array(8);
    return [(f(d, 8, '%d', [1]), Buffer.from(d).toString()), (f(d, 8, '%d', [22]), Buffer.from(d).toString())];
  },
  bpf_snprintf_btf: (f, e) => {
    const d = new Uint8Array(256);
    return [(f(d, 256, { ptr: e.a, typeName: 'struct task_struct' }, 16, 1), Buffer.from(d).toString()), (f(d, 256, { ptr: e.b, typeName: 'struct task_struct' }, 16, 1), Buffer.from(d).toString())];
  },
  bpf_loop: (f) => [f(3, () => 0, null, 0), f(5, () => 0, null, 0)],
  bpf_spin_lock: (f) => {
    const l = new Uint8Array(4);
    return [l[0], (f(l), l[0])];
  },
  bpf_spin_unlock: (f) => {
    const l = Uint8Array.from([1, 0, 0, 0]);
    return [l[0], (f(l), l[0])];
  },
  bpf_task_storage_get: (f, e) => [f(e.taskStore, e.a, null, 0), f(e.taskStore, e.a, null, 1)],
  bpf_task_storage_delete: (f, e) => (e.taskStore.storageCreate(e.b), [f(e.taskStore, e.b), f(e.taskStore, e.b)]),
  bpf_sk_storage_get: (f, e) => [f(e.skStore, e.sk, null, 0), f(e.skStore, e.sk, null, 1)],
  bpf_sk_storage_delete: (f, e) => (e.skStore.storageCreate(e.sk2), [f(e.skStore, e.sk2), f(e.skStore, e.sk2)]),
  bpf_seq_printf: (f) => [(f(currentRun()!.seq, 'a'), seqCount()), (f(currentRun()!.seq, 'bb'), seqCount())],
  bpf_seq_write: (f) => [(f(currentRun()!.seq, 'a'), seqCount()), (f(currentRun()!.seq, 'bb'), seqCount())],
  bpf_seq_printf_btf: (f, e) => [(f(currentRun()!.seq, { ptr: e.a, typeName: 'struct task_struct' }), seqCount()), f(currentRun()!.seq, { ptr: e.a }, 16, 0)],
  bpf_d_path: (f) => {
    const d = new Uint8Array(16);
    return [(f({ path: '/a' }, d), Buffer.from(d).toString()), (f({ path: '/bb' }, d), Buffer.from(d).toString())];
  },
  bpf_setsockopt: (f, e) => [(f(e.sk, SOL_SOCKET, SO_SNDBUF, 10000), e.k.sockOpts(e.sk).sk_sndbuf), (f(e.sk, SOL_SOCKET, SO_SNDBUF, 20000), e.k.sockOpts(e.sk).sk_sndbuf)],
  bpf_getsockopt: (f, e) => {
    const d = new Uint8Array(4);
    const r1 = (f(e.sk, SOL_SOCKET, SO_SNDBUF, d), Buffer.from(d).toString('hex'));
    e.k.sockOpts(e.sk).sk_sndbuf = 9999;
    return [r1, (f(e.sk, SOL_SOCKET, SO_SNDBUF, d), Buffer.from(d).toString('hex'))];
  },
  bpf_sock_destroy: (f, e) => [e.sk2.hashed, (f(e.sk2), e.sk2.hashed)],
};

function readTwice(f: Fn): [unknown, unknown] {
  const d = new Uint8Array(4);
  return [(f(d, 4, 'abc'), Buffer.from(d).toString()), (f(d, 4, 'xyz'), Buffer.from(d).toString())];
}

/** Every (helper, target, sleepable) a program can be offered. */
function offered(): { name: string; target: string; sleepable: boolean }[] {
  const names = [...Object.keys(BPF_FUNC_IDS), 'bpf_sock_destroy'];
  const out: { name: string; target: string; sleepable: boolean }[] = [];
  for (const target of listTargets())
    for (const sleepable of [false, true])
      for (const name of names) {
        const prog: ProgLike = { expected_attach_type: 'BPF_TRACE_ITER', sleepable, target: findTarget(target)! };
        if (bpf_iter_func_proto(name, prog)) out.push({ name, target, sleepable });
      }
  return out;
}

function env(): Env {
  const { k, init } = smallKernel({ nrCpus: 4 });
  const a = init;
  const b = k.fork(init, { comm: 'other' });
  b.uid = 1000;
  b.gid = 1000;
  a.kstack = [0xffffffff81000010n, 0xffffffff81000020n];
  b.kstack = [0xffffffff81000030n, 0xffffffff81000040n];
  const hash = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 8 });
  hash.update(u32(1), u32(11));
  const arr = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 2 });
  const taskStore = k.createMap({ map_type: BPF_MAP_TYPE_TASK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
  const skStore = k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
  const sk = k.addSocket(mkSock(k, 'tcp', { family: AF_INET, state: TCP_ESTABLISHED, sport: 1 }));
  const sk2 = k.addSocket(mkSock(k, 'tcp', { family: AF_INET, state: TCP_ESTABLISHED, sport: 2 }));
  return { k, a, b, hash, arr, taskStore, skStore, sk, sk2 };
}

describe('no helper is a stub', () => {
  const all = offered();

  it('the func protos offer the helpers of the kernel tables (sanity)', () => {
    const names = new Set(all.map((o) => o.name));
    for (const n of ['bpf_map_lookup_elem', 'bpf_snprintf', 'bpf_loop', 'bpf_get_task_stack', 'bpf_sk_storage_get', 'bpf_setsockopt', 'bpf_copy_from_user']) expect(names).toContain(n);
    expect(all.filter((o) => o.name === 'bpf_setsockopt').map((o) => o.target).sort()).toEqual(['tcp', 'tcp', 'unix', 'unix']);
  });

  it('every offered helper has an implementation that is not a constant function, and a probe here', () => {
    const bad: string[] = [];
    for (const o of all) {
      const proto = bpf_iter_func_proto(o.name, { expected_attach_type: 'BPF_TRACE_ITER', sleepable: o.sleepable, target: findTarget(o.target)! });
      const fn = proto?.func;
      if (typeof fn !== 'function') bad.push(`${o.name} (${o.target}): no implementation`);
      else if (/^\s*(?:async\s*)?(?:\(\s*\)|\w+)\s*=>\s*(?:0|null|undefined|true|false|-?\d+)\s*$/.test(fn.toString())) bad.push(`${o.name} (${o.target}): constant function`);
      if (!PROBES[o.name]) bad.push(`${o.name}: no probe in this test`);
    }
    expect(bad).toEqual([]);
  });

  // One program run per helper, on a target that offers it, calling the proto's own implementation.
  const cases = [...new Map(all.map((o) => [o.name, o])).values()].map((o) => {
    // Prefer a target whose ctx has tasks/sockets, so the probe has a running session.
    const pick = all.find((x) => x.name === o.name && (x.target === 'tcp' || x.target === 'task')) ?? o;
    return [o.name, pick] as const;
  });
  it.each(cases)('%s answers differently for different inputs', (name, o) => {
    const e = env();
    let got: [unknown, unknown] | null = null;
    const field = o.target === 'tcp' ? 'sk_common' : o.target === 'task' ? 'task' : null;
    const sec = `${o.sleepable ? 'iter.s' : 'iter'}/${o.target}`;
    // tcp is not RESCHED: a sleepable-only helper runs in a sleepable task program.
    const where = o.sleepable && o.target === 'tcp' ? 'iter.s/task' : sec;
    const spec = SEC(where, (ctx: any) => {
      const v = field ? ctx[field] ?? ctx.task ?? ctx.sk_common : null;
      if (got || !v) return 0;
      const run = currentRun()!;
      const fn = bpf_iter_func_proto(name, run.prog)!.func!;
      got = PROBES[name]!(fn, e);
      return 0;
    });
    const s = session(e.k, spec);
    const fd = s.open();
    as(e.a, () => fd.readText());
    fd.close();
    s.close();
    expect(got, 'the program ran the probe').not.toBeNull();
    expect(got![0]).not.toEqual(got![1]);
  });
});
