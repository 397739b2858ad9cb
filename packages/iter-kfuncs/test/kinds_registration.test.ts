import { describe, expect, it } from 'vitest';
import {
  getIterKind,
  iterCss,
  iterCssTask,
  iterDmabuf,
  iterKmemCache,
  iterTask,
  iterTaskVma,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RCU,
  KF_RCU_PROTECTED,
  KF_RET_NULL,
  KF_SLEEPABLE,
  KF_TRUSTED_ARGS,
  typeToString,
  type IterKind,
} from '../src/index.js';
import * as api from '../src/index.js';

/** §7.4: state sizes, constructor parameters and kfunc flags, as in the kernel. */
const TABLE: [string, IterKind<any, any, any>, number, string[], number, number, number][] = [
  ['task', iterTask, 24, ['struct task_struct * task__nullable', 'unsigned int flags'], KF_TRUSTED_ARGS | KF_RCU_PROTECTED, 0, 0],
  ['task_vma', iterTaskVma, 8, ['struct task_struct * task', 'u64 addr'], KF_RCU, 0, 0],
  ['css', iterCss, 24, ['struct cgroup_subsys_state * start', 'unsigned int flags'], KF_TRUSTED_ARGS | KF_RCU_PROTECTED, 0, 0],
  ['css_task', iterCssTask, 8, ['struct cgroup_subsys_state * css', 'unsigned int flags'], KF_TRUSTED_ARGS, 0, 0],
  ['kmem_cache', iterKmemCache, 8, [], KF_SLEEPABLE, KF_SLEEPABLE, KF_SLEEPABLE],
  ['dmabuf', iterDmabuf, 8, [], KF_SLEEPABLE, KF_SLEEPABLE, KF_SLEEPABLE],
];

/** C rendering without the model's "(incomplete)" marker for kernel structs it does not define. */
const c = (t: Parameters<typeof typeToString>[0]) => typeToString(t).replace(' (incomplete)', '');

const RET: Record<string, string> = {
  task: 'struct task_struct *',
  task_vma: 'struct vm_area_struct *',
  css: 'struct cgroup_subsys_state *',
  css_task: 'struct task_struct *',
  kmem_cache: 'struct kmem_cache *',
  dmabuf: 'struct dma_buf *',
};

describe('kernel kinds: registration (§7.2, §7.4)', () => {
  it.each(TABLE)('bpf_iter_%s', (_name, kind, size, params, newFlags, nextFlags, destroyFlags) => {
    const t = kind.type;
    expect(getIterKind(t)).toBe(kind);
    expect(kind.stateName).toBe(`bpf_iter_${t}`);
    expect(kind.stateSize).toBe(size);
    const { new: n, next, destroy } = kind.kfuncs;
    expect([n.name, next.name, destroy.name]).toEqual([`bpf_iter_${t}_new`, `bpf_iter_${t}_next`, `bpf_iter_${t}_destroy`]);
    expect(n.params.slice(1).map((p) => `${c(p.type)} ${p.name}`)).toEqual(params);
    expect(n.params[0]!.name).toBe('it');
    expect(typeToString(n.ret)).toBe('int');
    expect(c(next.ret)).toBe(RET[t]);
    expect(typeToString(destroy.ret)).toBe('void');
    expect(n.flags).toBe(KF_ITER_NEW | newFlags);
    expect(next.flags).toBe(KF_ITER_NEXT | KF_RET_NULL | nextFlags);
    expect(destroy.flags).toBe(KF_ITER_DESTROY | destroyFlags);
    // Every kfunc is exported under its kernel name.
    const exported = api as unknown as Record<string, unknown>;
    expect(exported[`bpf_iter_${t}_new`]).toBe(kind.new);
    expect(exported[`bpf_iter_${t}_next`]).toBe(kind.next);
    expect(exported[`bpf_iter_${t}_destroy`]).toBe(kind.destroy);
  });

  it('flag constants are the kernel values, re-exported from core', () => {
    expect([api.BPF_TASK_ITER_ALL_PROCS, api.BPF_TASK_ITER_ALL_THREADS, api.BPF_TASK_ITER_PROC_THREADS]).toEqual([0, 1, 2]);
    expect([
      api.BPF_CGROUP_ITER_ORDER_UNSPEC,
      api.BPF_CGROUP_ITER_SELF_ONLY,
      api.BPF_CGROUP_ITER_DESCENDANTS_PRE,
      api.BPF_CGROUP_ITER_DESCENDANTS_POST,
      api.BPF_CGROUP_ITER_ANCESTORS_UP,
      api.BPF_CGROUP_ITER_CHILDREN,
    ]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([api.CSS_TASK_ITER_PROCS, api.CSS_TASK_ITER_THREADED]).toEqual([1, 2]);
  });

  it('states are branded per kind: a task state is rejected by the css kfuncs', () => {
    const it = iterTask.alloc();
    expect(() => iterCss.next(it as never)).toThrow(/expected an initialized iter_css as arg #0/);
  });
});
