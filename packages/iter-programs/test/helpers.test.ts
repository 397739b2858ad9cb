/** The base helpers iterator programs call: maps, bpf_snprintf, bpf_loop, current task, task stacks. */
import { describe, expect, it } from 'vitest';
import { asTask, BPF_ANY, BPF_EXIST, BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_TASK_STORAGE, BPF_NOEXIST, type Kernel, type Task } from '@bpf-iter/core';
import {
  BPF_F_USER_BUILD_ID,
  BPF_LOCAL_STORAGE_GET_F_CREATE,
  bpf_copy_from_user,
  bpf_copy_from_user_task,
  bpf_for_each_map_elem,
  bpf_get_current_comm,
  bpf_get_current_pid_tgid,
  bpf_get_current_uid_gid,
  bpf_get_smp_processor_id,
  bpf_probe_read_kernel,
  bpf_probe_read_kernel_str,
  bpf_snprintf_btf,
  bpf_spin_lock,
  bpf_spin_unlock,
  bpf_task_storage_delete,
  bpf_task_storage_get,
  bpf_trace_printk,
  BPF_F_USER_STACK,
  BPF_MAX_LOOPS,
  bpf_get_current_task_btf,
  bpf_get_task_stack,
  bpf_loop,
  bpf_map_delete_elem,
  bpf_map_lookup_elem,
  bpf_map_update_elem,
  bpf_snprintf,
  callHelper,
  SEC,
} from '../src/index.js';
import { errOf, session, smallKernel } from './targets/helpers.js';

const u32 = (n: number) => Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
const rd = (b: Uint8Array | null) => (b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : null);

/** Runs `body` once, inside a task program (on the first task), and returns its result. */
function inProg<T>(k: Kernel, body: (task: Task) => T, as?: Task): T {
  let out: { v: T } | null = null;
  const s = session(k, SEC('iter/task', (ctx: any) => ((ctx.task && !out ? (out = { v: body(ctx.task) }) : 0), 0)));
  const fd = s.open(as);
  try {
    // `current` is the task that reads.
    if (as) asTask(as, () => fd.readText());
    else fd.readText();
  } finally {
    fd.close();
    s.close();
  }
  return out!.v;
}

describe('bpf_map_lookup_elem / update_elem / delete_elem', () => {
  it('hash map: BPF_ANY/NOEXIST/EXIST, -EEXIST, -ENOENT, -E2BIG when full, bad flags -EINVAL; lookup is a live view', () => {
    const { k } = smallKernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 2 });
    const r = inProg(k, () => {
      const rets = [
        bpf_map_update_elem(m, 1, u32(10), BPF_NOEXIST),
        bpf_map_update_elem(m, 1, u32(11), BPF_NOEXIST),
        bpf_map_update_elem(m, 2, u32(20), BPF_EXIST),
        callHelper('bpf_map_update_elem', m, 2, u32(20), BPF_ANY),
        bpf_map_update_elem(m, 3, u32(30), BPF_ANY),
        bpf_map_update_elem(m, 1, u32(12), BPF_EXIST),
        bpf_map_update_elem(m, 1, u32(12), 3),
        bpf_map_update_elem(m, 1, u32(12), 4), // BPF_F_LOCK: no spin lock in the value
      ];
      const v = bpf_map_lookup_elem(m, 1)!;
      v[0] = 99;
      return { rets, after: rd(bpf_map_lookup_elem(m, u32(1))), missing: bpf_map_lookup_elem(m, 3), del: [bpf_map_delete_elem(m, 2), bpf_map_delete_elem(m, 2)], gone: bpf_map_lookup_elem(m, 2) };
    });
    expect(r).toEqual({ rets: [0, -17, -2, 0, -7, 0, -22, -22], after: 99, missing: null, del: [0, -2], gone: null });
    expect(rd(m.lookup(u32(1)))).toBe(99);
  });

  it('array map: every index exists (-EEXIST for NOEXIST), index past max_entries -E2BIG / null, delete -EINVAL', () => {
    const { k } = smallKernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 4 });
    const r = inProg(k, () => [bpf_map_update_elem(m, 3, u32(7), BPF_EXIST), bpf_map_update_elem(m, 0, u32(1), BPF_NOEXIST), bpf_map_update_elem(m, 4, u32(1)), bpf_map_lookup_elem(m, 4), rd(bpf_map_lookup_elem(m, 3)), bpf_map_delete_elem(m, 0)]);
    expect(r).toEqual([0, -17, -7, null, 7, -22]);
  });

  it("per-CPU maps: a program reads and writes the running CPU's copy only", () => {
    const { k } = smallKernel({ nrCpus: 4 });
    const m = k.createMap({ map_type: BPF_MAP_TYPE_PERCPU_ARRAY, key_size: 4, value_size: 4, max_entries: 1 });
    m.update(u32(0), Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]));
    const r = inProg(k, () => [rd(bpf_map_lookup_elem(m, 0)), bpf_map_update_elem(m, 0, u32(50))]);
    expect(r).toEqual([1, 0]);
    expect([0, 8, 16, 24].map((o) => m.lookup(u32(0))[o])).toEqual([50, 2, 3, 4]);
  });
});

describe('bpf_snprintf', () => {
  it('returns the size the whole output needs (with the NUL) and truncates to str_size-1 bytes plus a NUL', () => {
    const { k } = smallKernel();
    const r = inProg(k, () => {
      const a = new Uint8Array(8).fill(0xee);
      const b = new Uint8Array(32);
      return [bpf_snprintf(a, a.length, '%d-%s', [12345, 'abcdef']), Buffer.from(a).toString('latin1'), bpf_snprintf(b, 32, '%d-%s', [12345, 'abcdef']), Buffer.from(b.subarray(0, 13)).toString('latin1'), bpf_snprintf(null, 0, '%05u|%x', [7, 255])];
    });
    expect(r).toEqual([13, '12345-a\0', 13, '12345-abcdef\0', 9]);
  });

  it('same format rules as bpf_seq_printf: bad conversions, too few arguments, bad data_len are -EINVAL', () => {
    const { k } = smallKernel();
    const b = new Uint8Array(16);
    expect(inProg(k, () => [bpf_snprintf(b, 16, '%y', [1]), bpf_snprintf(b, 16, '%d %d', [1]), bpf_snprintf(b, 16, '%d', [1], 7), bpf_snprintf(b, 17, 'x'), bpf_snprintf(b, 16, '%d', new Array(13).fill(1))])).toEqual([-22, -22, -22, -22, -22]);
  });
});

describe('bpf_loop', () => {
  it('calls back nr_loops times; a callback returning 1 stops (counted); flags != 0 -EINVAL; more than 1<<23 loops -E2BIG', () => {
    const { k } = smallKernel();
    const r = inProg(k, () => {
      const seen: number[] = [];
      const ctx = { sum: 0 };
      return [
        bpf_loop(5, (i, c: typeof ctx) => ((c.sum += i), seen.push(i), 0), ctx, 0),
        ctx.sum,
        bpf_loop(10, (i) => (i === 3 ? 1 : 0), null, 0),
        bpf_loop(0, () => 0, null, 0),
        bpf_loop(1, () => 0, null, 1),
        bpf_loop(BPF_MAX_LOOPS + 1, () => 0, null, 0),
        bpf_loop(-1, () => 0, null, 0),
        seen.join(','),
      ];
    });
    expect(r).toEqual([5, 10, 4, 0, -22, -7, -7, '0,1,2,3,4']);
    expect(BPF_MAX_LOOPS).toBe(1 << 23);
  });

  it('a callback returning anything but 0/1 fails the read with EINVAL (what the verifier rejects)', () => {
    const { k } = smallKernel();
    const s = session(k, SEC('iter/task', (ctx: any) => (ctx.task ? bpf_loop(2, () => 2, null, 0) && 0 : 0)));
    expect(errOf(() => s.text())).toBe('EINVAL');
    s.close();
  });
});

describe('bpf_get_current_task_btf', () => {
  it('is the task reading the iterator; ESRCH when the model has none', () => {
    const { k, init } = smallKernel();
    const child = k.fork(init, { comm: 'reader' });
    expect(inProg(k, () => bpf_get_current_task_btf(), child)).toBe(child);
    expect(inProg(k, () => callHelper('bpf_get_current_task_btf'), init)).toBe(init);
    expect(errOf(() => inProg(k, () => bpf_get_current_task_btf()))).toBe('ESRCH');
  });
});

describe('bpf_get_task_stack', () => {
  const stack = [0xffffffff81000010n, 0xffffffff81000220n, 0xffffffff81000330n];
  const words = (b: Uint8Array) => Array.from({ length: b.length / 8 }, (_, i) => new DataView(b.buffer, b.byteOffset).getBigUint64(i * 8, true));

  it('copies the kernel stack (skip field, zero-filled tail) and returns the bytes copied', () => {
    const { k, init } = smallKernel();
    init.kstack = stack;
    const r = inProg(k, (t) => {
      const a = new Uint8Array(32).fill(0xff);
      const b = new Uint8Array(16).fill(0xff);
      const c = new Uint8Array(16).fill(0xff);
      return [bpf_get_task_stack(t, a, 32, 0), words(a), bpf_get_task_stack(t, b, 16, 1), words(b), bpf_get_task_stack(t, c, 16, 4), words(c)];
    });
    expect(r).toEqual([24, [...stack, 0n], 16, stack.slice(1), -14, [0n, 0n]]);
  });

  it('-EINVAL for unknown flags, build ids without a user stack, a size not a multiple of 8; -EFAULT for an exited task', () => {
    const { k, init } = smallKernel();
    init.kstack = stack;
    const z = k.fork(init, { comm: 'z' });
    z.kstack = stack;
    const b = new Uint8Array(24);
    expect(inProg(k, (t) => [bpf_get_task_stack(t, b, 24, 1 << 9), bpf_get_task_stack(t, b, 24, BPF_F_USER_BUILD_ID), bpf_get_task_stack(t, b, 12, 0)])).toEqual([-22, -22, -22]);
    k.exit(z, { zombie: true });
    expect(inProg(k, () => bpf_get_task_stack(z, b, 24, 0))).toBe(-14);
  });

  it('an unknown stack or a user stack fails the read with EOPNOTSUPP (never an invented stack)', () => {
    const { k } = smallKernel();
    expect(errOf(() => inProg(k, (t) => bpf_get_task_stack(t, new Uint8Array(8), 8, 0)))).toBe('EOPNOTSUPP');
    expect(errOf(() => inProg(k, (t) => ((t.kstack = stack), bpf_get_task_stack(t, new Uint8Array(8), 8, BPF_F_USER_STACK))))).toBe('EOPNOTSUPP');
  });
});

describe('the other base helpers', () => {
  it('bpf_probe_read_kernel(_str): all bytes or -EFAULT with dst zeroed; _str returns the length with the NUL, cut to size-1', () => {
    const { k } = smallKernel();
    const r = inProg(k, () => {
      const d = new Uint8Array(8).fill(0xee);
      const s = new Uint8Array(4).fill(0xee);
      return [
        bpf_probe_read_kernel(d, 3, 'abc'), Buffer.from(d.subarray(0, 3)).toString(),
        bpf_probe_read_kernel(d, 8, 'abc'), [...d],
        bpf_probe_read_kernel(d, 2, null),
        bpf_probe_read_kernel_str(s, 4, 'abcdef'), [...s],
        bpf_probe_read_kernel_str(s, 4, 'ab'), [...s],
        bpf_probe_read_kernel_str(s, 4, 0),
      ];
    });
    expect(r).toEqual([0, 'abc', -14, [0, 0, 0, 0, 0, 0, 0, 0], -14, 4, [97, 98, 99, 0], 3, [97, 98, 0, 0], -14]);
  });

  it('bpf_get_current_pid_tgid / uid_gid / comm describe the reading task', () => {
    const { k, init } = smallKernel();
    const t = k.fork(init, { comm: 'a-very-long-command-name' });
    t.uid = 1000;
    t.gid = 100;
    const r = inProg(k, () => {
      const c = new Uint8Array(8).fill(0xee);
      bpf_get_current_comm(c, 8);
      return [bpf_get_current_pid_tgid(), bpf_get_current_uid_gid(), Buffer.from(c).toString('latin1'), bpf_get_current_comm(c, 0)];
    }, t);
    expect(r).toEqual([(BigInt(t.tgid) << 32n) | BigInt(t.pid), (100n << 32n) | 1000n, 'a-very-\0', -22]);
  });

  it('bpf_trace_printk: at most 3 arguments, the line goes to the trace pipe; bpf_get_smp_processor_id is the model CPU', () => {
    const { k } = smallKernel({ nrCpus: 4 });
    k.currentCpu = 3;
    const r = inProg(k, () => [bpf_trace_printk('pid %d on %s\n', undefined, 5, 'x'), bpf_trace_printk('%d%d%d%d', undefined, 1, 2, 3, 4), bpf_trace_printk('abc', 2), bpf_get_smp_processor_id()]);
    expect(r).toEqual([11, -22, -22, 3]);
    expect(k.tracePipe).toEqual(['pid 5 on x\n']);
  });

  it('bpf_for_each_map_elem: every element in order until the callback returns 1; flags -EINVAL', () => {
    const { k } = smallKernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 4 });
    const r = inProg(k, () => {
      const keys: number[] = [];
      return [bpf_for_each_map_elem(m, (_m, key) => (keys.push(rd(key)!), 0), null, 0), keys.join(), bpf_for_each_map_elem(m, (_m, key) => (rd(key) === 1 ? 1 : 0), null, 0), bpf_for_each_map_elem(m, () => 0, null, 1)];
    });
    expect(r).toEqual([4, '0,1,2,3', 2, -22]);
  });

  it('bpf_spin_lock / unlock: taking a held lock or releasing a free one fails the read EINVAL', () => {
    const { k } = smallKernel();
    const l = new Uint8Array(4);
    expect(inProg(k, () => [bpf_spin_lock(l), l[0], bpf_spin_unlock(l), l[0]])).toEqual([0, 1, 0, 0]);
    expect(errOf(() => inProg(k, () => (bpf_spin_lock(l), bpf_spin_lock(l))))).toBe('EINVAL');
    l.fill(0);
    expect(errOf(() => inProg(k, () => bpf_spin_unlock(l)))).toBe('EINVAL');
  });

  it('bpf_task_storage_get / delete: F_CREATE from value, null without it or with unknown flags; delete -ENOENT after', () => {
    const { k } = smallKernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_TASK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
    const r = inProg(k, (t) => [bpf_task_storage_get(m, t, null, 0), rd(bpf_task_storage_get(m, t, u32(9), BPF_LOCAL_STORAGE_GET_F_CREATE)), rd(bpf_task_storage_get(m, t, null, 0)), bpf_task_storage_get(m, t, null, 2), bpf_task_storage_delete(m, t), bpf_task_storage_delete(m, t), bpf_task_storage_delete(m, null)]);
    expect(r).toEqual([null, 9, 9, null, 0, -2, -22]);
    // bpf_task_storage_free: a freed task's storage goes with it.
    const { k: k2, init } = smallKernel();
    const m2 = k2.createMap({ map_type: BPF_MAP_TYPE_TASK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
    const child = k2.fork(init, { comm: 'child' });
    m2.storageCreate(child, u32(1));
    k2.exit(child, { zombie: true });
    expect(m2.storage!.size).toBe(1);
    k2.reap(child);
    expect(child.freed).toBe(true);
    expect(m2.storage!.size).toBe(0);
  });

  it('bpf_snprintf_btf returns the whole length and truncates; bad flags -EINVAL', () => {
    const { k, init } = smallKernel();
    const r = inProg(k, () => {
      const a = new Uint8Array(8);
      const n = bpf_snprintf_btf(a, 8, { ptr: init, typeName: 'struct task_struct' }, 16, 1);
      return [n > 8, Buffer.from(a).toString('latin1'), bpf_snprintf_btf(a, 8, { ptr: init, typeName: 'struct task_struct' }, 16, 1 << 10)];
    });
    expect(r).toEqual([true, '(struct\0', -22]);
  });

  it('bpf_copy_from_user(_task) are for sleepable programs only; flags must be 0', () => {
    const { k, init } = smallKernel();
    expect(errOf(() => inProg(k, () => bpf_copy_from_user(new Uint8Array(1), 1, 'a')))).toBe('EINVAL');
    let r: unknown[] = [];
    const s = session(k, SEC('iter.s/task', (ctx: any) => {
      if (ctx.task && !r.length) {
        const d = new Uint8Array(2);
        r = [bpf_copy_from_user(d, 2, 'hi'), Buffer.from(d).toString(), bpf_copy_from_user_task(d, 2, 'yo', init, 1), [...d], bpf_copy_from_user_task(d, 2, 'yo', init, 0)];
      }
      return 0;
    }));
    s.text();
    s.close();
    expect(r).toEqual([0, 'hi', -22, [0, 0], 0]);
  });
});
