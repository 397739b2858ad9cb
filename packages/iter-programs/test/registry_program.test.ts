import { describe, expect, it } from 'vitest';
import {
  BPF_ITER_CTX_ARG_MAX,
  bpf_iter_func_proto,
  bpf_iter_reg_target,
  bpf_iter_unreg_target,
  BPF_SEQ_PRINTF,
  attachIter,
  callHelper,
  findTarget,
  listTargets,
  loadProgram,
  SEC,
  defineProgram,
  checkHelper,
  CyclicIdAllocator,
  getIdAllocator,
  registerTarget,
  setIdAllocator,
  unregisterTarget,
} from '../src/internal.js';
import { arrayTarget, objs, registerArray, tname } from './fixtures.js';

function errOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
  return undefined;
}

describe('target registry', () => {
  it('registers, lists, finds and unregisters; duplicate → EEXIST', () => {
    const n = tname('reg');
    const reg = arrayTarget(n, () => []);
    expect(bpf_iter_reg_target(reg)).toBe(0);
    expect(findTarget(n)?.reg).toBe(reg);
    expect(listTargets()).toContain(n);
    expect(errOf(() => bpf_iter_reg_target(arrayTarget(n, () => [])))).toBe('EEXIST');
    bpf_iter_unreg_target(reg);
    expect(findTarget(n)).toBeUndefined();
    expect(errOf(() => unregisterTarget(n))).toBe('ENOENT');
    const info = registerTarget(arrayTarget(n, () => []));
    expect(info.btf_id).toBeGreaterThan(0);
    unregisterTarget(n);
  });

  it('validation → EINVAL', () => {
    const base = () => arrayTarget(tname('v'), () => []);
    const bad: [string, (r: ReturnType<typeof base>) => void][] = [
      ['name', (r) => ((r as { target: string }).target = 'bad name!')],
      ['empty name', (r) => ((r as { target: string }).target = '')],
      ['ctx args > 2', (r) => (r.ctx_arg_info = [0, 1, 2].map((i) => ({ offset: 8 * (i + 1), field: `f${i}`, reg_type: 'PTR_TO_BTF_ID_OR_NULL' as const })))],
      ['size mismatch', (r) => (r.ctx_arg_info_size = 2)],
      ['feature', (r) => (r.feature = 2)],
      ['seq_info', (r) => ((r as { seq_info?: unknown }).seq_info = undefined)],
      ['seq_ops.show', (r) => ((r.seq_info.seq_ops as { show?: unknown }).show = 5)],
      ['seq_priv', (r) => ((r.seq_info as { seq_priv?: unknown }).seq_priv = undefined)],
      ['hook type', (r) => ((r as { attach_target?: unknown }).attach_target = 'x')],
    ];
    for (const [what, mut] of bad) {
      const r = base();
      mut(r);
      expect([what, errOf(() => bpf_iter_reg_target(r))]).toEqual([what, 'EINVAL']);
    }
    expect(BPF_ITER_CTX_ARG_MAX).toBe(2);
  });
});

describe('program loading', () => {
  const t = registerArray(objs(2));

  it('resolves the target by SEC name; unknown → ESRCH with the libbpf message; long → ENAMETOOLONG', () => {
    const p = loadProgram(SEC(`iter/${t}`, function dump() {
      return 0;
    }));
    expect(p.targetName).toBe(t);
    expect(p.name).toBe('dump');
    expect(p.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(p.id).toBeGreaterThan(0);
    let e: unknown;
    try {
      loadProgram(SEC('iter/no_such_target', function q() {
        return 0;
      }));
    } catch (x) {
      e = x;
    }
    expect((e as { errno: string }).errno).toBe('ESRCH');
    expect(String((e as Error).message)).toContain("prog 'q': failed to find kernel BTF type ID of 'no_such_target'");
    expect(errOf(() => loadProgram(SEC('iter/' + 'a'.repeat(119), () => 0)))).toBe('ENAMETOOLONG');
    expect(errOf(() => loadProgram(SEC('iter/' + 'a'.repeat(118), () => 0)))).toBe('ESRCH');
    expect(errOf(() => loadProgram(SEC(`kprobe/${t}`, () => 0)))).toBe('EINVAL');
    expect(errOf(() => loadProgram({ name: 'x' } as never))).toBe('EINVAL');
    expect(loadProgram(SEC(`iter.s/${t}`, () => 0)).sleepable).toBe(true);
  });

  it('declared helpers are checked at load: unknown func → EINVAL; GPL-only helpers need GPL', () => {
    loadProgram(SEC(`iter/${t}`, () => 0, { helpers: ['bpf_seq_printf', 'bpf_seq_write', 'bpf_seq_printf_btf', 'bpf_d_path', 'bpf_get_current_pid_tgid'] }));
    expect(errOf(() => loadProgram(SEC(`iter/${t}`, () => 0, { helpers: ['bpf_setsockopt'] })))).toBe('EINVAL');
    expect(errOf(() => loadProgram(SEC(`iter/${t}`, () => 0, { helpers: ['bpf_copy_from_user'] })))).toBe('EINVAL');
    loadProgram(SEC(`iter.s/${t}`, () => 0, { helpers: ['bpf_copy_from_user'] }));
    expect(errOf(() => loadProgram(SEC(`iter/${t}`, () => 0, { helpers: ['bpf_seq_printf'], license: 'Proprietary' })))).toBe('EINVAL');
  });

  it('target get_func_proto adds helpers; callHelper / checkHelper enforce it at run time', () => {
    const calls: unknown[] = [];
    const withSockopt = registerArray(objs(1), {
      get_func_proto: (f) => (f === 'bpf_setsockopt' ? { func: (...a: unknown[]) => (calls.push(a), 0) } : null),
    });
    expect(bpf_iter_func_proto('bpf_setsockopt', loadProgram(SEC(`iter/${withSockopt}`, () => 0)))).not.toBeNull();
    loadProgram(SEC(`iter/${withSockopt}`, () => 0, { helpers: ['bpf_setsockopt'] }));
    const ok = attachIter(loadProgram(SEC(`iter/${withSockopt}`, (ctx: any) => (ctx.item ? (callHelper('bpf_setsockopt', 1, 2) as number) : 0))));
    ok.open().readAll();
    expect(calls).toEqual([[1, 2]]);
    const bad = attachIter(loadProgram(SEC(`iter/${t}`, (ctx: any) => (ctx.item ? (callHelper('bpf_setsockopt', 1) as number) : 0))));
    expect(errOf(() => bad.open().readAll())).toBe('EINVAL');
    const bad2 = attachIter(loadProgram(SEC(`iter/${t}`, (ctx: any) => (checkHelper('bpf_getsockopt'), 0))));
    expect(errOf(() => bad2.open().readAll())).toBe('EINVAL');
    const np = attachIter(loadProgram(SEC(`iter/${t}`, (ctx: any) => (ctx.item ? BPF_SEQ_PRINTF(ctx.meta.seq, 'x') && 0 : 0), { license: 'MIT' })));
    expect(errOf(() => np.open().readAll())).toBe('EINVAL');
  });

  it('globals are `this` and the second argument; rodata is frozen; ctx args copied per program', () => {
    const seen: unknown[] = [];
    const spec = defineProgram({
      name: 'g',
      sec: `iter/${t}`,
      fn(this: any, ctx: any, g: any) {
        if (ctx.item) seen.push([this === g, g.bss.target_pid, Object.isFrozen(g.rodata)]);
        return 0;
      },
    });
    const bss = { target_pid: 7 };
    const p = loadProgram(spec, { globals: { bss, rodata: { k: 1 } } });
    bss.target_pid = 9;
    attachIter(p).open().readAll();
    expect(seen).toEqual([
      [true, 9, true],
      [true, 9, true],
    ]);
    expect(p.ctx_arg_info).toEqual(findTarget(t)!.reg.ctx_arg_info);
    expect(p.ctx_arg_info).not.toBe(findTarget(t)!.reg.ctx_arg_info);
  });

  it('id allocator is swappable', () => {
    const prev = getIdAllocator('prog');
    let n = 5000;
    setIdAllocator('prog', { alloc: () => n++ });
    expect(loadProgram(SEC(`iter/${t}`, () => 0)).id).toBe(5000);
    setIdAllocator('prog', prev);
    const c = new CyclicIdAllocator();
    expect([c.alloc(), c.alloc()]).toEqual([1, 2]);
  });
});
