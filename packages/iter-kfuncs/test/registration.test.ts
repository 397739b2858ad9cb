import { describe, expect, it } from 'vitest';
import { BpfError } from '@bpf-iter/core';
import {
  btf,
  getIterKind,
  iterNum,
  KF_ACQUIRE,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RCU,
  KF_RCU_PROTECTED,
  KF_RELEASE,
  KF_RET_NULL,
  KF_SLEEPABLE,
  KF_TRUSTED_ARGS,
  listIterKinds,
  register_btf_kfunc_id_set,
  registerIterKind,
  unregisterIterKind,
  type KfuncDesc,
} from '../src/index.js';
import { uniqueType } from './helpers.js';

/** A valid spec for `bpf_iter_<type>`; tests break one thing at a time. */
function spec(type = uniqueType('foo'), size = 8) {
  const st = `bpf_iter_${type}`;
  return {
    state: { name: st as `bpf_iter_${string}`, size },
    new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`, 'int'], ret: 'int', impl: (_c: unknown, n: number) => ({ n }) } as KfuncDesc,
    next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'int *', impl: (d: { n: number }) => (d.n > 0 ? d.n-- : null) } as KfuncDesc,
    destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} } as KfuncDesc,
    st,
    type,
  };
}

function rejected(f: () => unknown, errno: string, rule: string | RegExp): BpfError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BpfError);
  const e = err as BpfError;
  expect(e.errno).toBe(errno);
  expect(e.message).toMatch(rule);
  return e;
}

describe('KF_* flag values (include/linux/btf.h, 6.x)', () => {
  it('match the kernel', () => {
    expect([KF_ACQUIRE, KF_RELEASE, KF_RET_NULL, KF_TRUSTED_ARGS, KF_SLEEPABLE, KF_RCU]).toEqual([1, 2, 4, 16, 32, 128]);
    expect([KF_ITER_NEW, KF_ITER_NEXT, KF_ITER_DESTROY, KF_RCU_PROTECTED]).toEqual([256, 512, 1024, 2048]);
  });
});

describe('registration rules (§7.2), each rejected with EINVAL naming the rule', () => {
  it('a valid trio registers and is listed', () => {
    const s = spec();
    const kind = registerIterKind(s as never);
    expect(getIterKind(s.type)).toBe(kind);
    expect(listIterKinds()).toContain(kind);
    expect(kind.stateName).toBe(s.st);
    expect(kind.stateSize).toBe(8);
    expect(kind.kfuncs.next.ret).toEqual(btf.ptr(btf.int('int')));
  });

  it('rule 1: more than one KF_ITER_* flag', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, flags: KF_ITER_NEXT | KF_ITER_DESTROY | KF_RET_NULL } } as never), 'EINVAL', /rule 1 \(exactly one iterator flag\)/);
  });

  it('rule 1: no KF_ITER_* flag on a trio member', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, destroy: { ...s.destroy, flags: 0 } } as never), 'EINVAL', /rule 1/);
  });

  it('rule 2: no parameters', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, new: { ...s.new, params: [] } } as never), 'EINVAL', /rule 2 \(first parameter is struct bpf_iter_<type> \*\)/);
  });

  it('rule 2: parameter 0 is not a pointer', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, params: [`struct ${s.st}`] } } as never), 'EINVAL', /rule 2/);
  });

  it('rule 2: parameter 0 points to a struct without the bpf_iter_ prefix', () => {
    const s = spec();
    rejected(
      () => register_btf_kfunc_id_set(0, { structs: { foo_state: 8 }, kfuncs: [{ ...s.next, name: 'foo_state_next', params: ['struct foo_state *'] }] }, (m) => { throw new BpfError('EINVAL', m); }),
      'EINVAL',
      /rule 2/,
    );
  });

  it('rule 2: modifiers and typedefs are skipped (const, typedef → accepted)', () => {
    const s = spec();
    const kind = registerIterKind({
      ...s,
      typedefs: { foo_iter_t: `struct ${s.st}` },
      next: { ...s.next, params: ['const foo_iter_t *'] },
      destroy: { ...s.destroy, params: [{ name: 'it', type: btf.ptr(btf.volatile(btf.struct(s.st, 8))) }] },
    } as never);
    expect(kind.type).toBe(s.type);
  });

  it('rule 3: state size not a multiple of 8 (12 bytes)', () => {
    const s = spec(undefined, 12);
    rejected(() => registerIterKind(s as never), 'EINVAL', /rule 3 \(state size is a non-zero multiple of 8\)/);
  });

  it('rule 3: state size 0', () => {
    const s = spec(undefined, 0);
    rejected(() => registerIterKind(s as never), 'EINVAL', /rule 3/);
  });

  it('rule 4: name does not follow bpf_iter_<type>_new/next/destroy', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, name: `${s.st}_step` } } as never), 'EINVAL', /rule 4 \(name is bpf_iter_<type>_new\/next\/destroy\)/);
  });

  it('rule 4: the name belongs to another type than the struct', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, destroy: { ...s.destroy, name: 'bpf_iter_other_destroy' } } as never), 'EINVAL', /rule 4/);
  });

  it('rule 5: next takes two parameters', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, params: [`struct ${s.st} *`, 'int'] } } as never), 'EINVAL', /rule 5 \(next\/destroy take exactly one parameter\)/);
  });

  it('rule 5: destroy takes two parameters', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, destroy: { ...s.destroy, params: [`struct ${s.st} *`, 'u64'] } } as never), 'EINVAL', /rule 5/);
  });

  it('rule 5: new may take any number of parameters', () => {
    const s = spec();
    const kind = registerIterKind({ ...s, new: { ...s.new, params: [`struct ${s.st} *`, 'int', 'u64', 'const u64 *', 'struct task_struct *'] } } as never);
    expect(kind.kfuncs.new.params).toHaveLength(5);
  });

  it('rule 6: next returns int', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, ret: 'int' } } as never), 'EINVAL', /rule 6 \(next returns a pointer, destroy returns void\)/);
  });

  it('rule 6: next without KF_RET_NULL', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: { ...s.next, flags: KF_ITER_NEXT } } as never), 'EINVAL', /rule 6.*KF_RET_NULL/);
  });

  it('rule 6: destroy returns int', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, destroy: { ...s.destroy, ret: 'int' } } as never), 'EINVAL', /rule 6/);
  });

  it("rule 6: new's return type is unconstrained", () => {
    const s = spec();
    expect(registerIterKind({ ...s, new: { ...s.new, ret: 'void' } } as never).type).toBe(s.type);
  });

  it('rule T1: a trio member is missing', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, destroy: undefined } as never), 'EINVAL', /rule T1 \(complete trio\)/);
  });

  it('rule T2: a kfunc in the wrong role', () => {
    const s = spec();
    rejected(() => registerIterKind({ ...s, next: s.destroy, destroy: s.next } as never), 'EINVAL', /rule T2 \(role flag\)/);
  });

  it('rule T3: a member operates on another state struct', () => {
    const s = spec();
    const o = spec();
    // The other struct is fully described (sized), so only the trio rule can object.
    const destroy = { ...o.destroy, params: [btf.ptr(btf.struct(o.st, 8))] };
    rejected(() => registerIterKind({ ...s, destroy } as never), 'EINVAL', /rule T3 \(one declared state struct\)/);
  });

  it('rule T4: registering a type twice is EEXIST', () => {
    const s = spec();
    registerIterKind(s as never);
    rejected(() => registerIterKind(s as never), 'EEXIST', /rule T4 \(unique type\)/);
    rejected(() => registerIterKind({ ...spec('num'), state: { name: 'bpf_iter_num', size: 8 } } as never), 'EEXIST', /rule T4/);
  });

  it('unregistering frees the type name; existing states keep working', () => {
    const s = spec();
    const kind = registerIterKind(s as never);
    const it = kind.open(2);
    expect(unregisterIterKind(kind)).toBe(true);
    expect(getIterKind(s.type)).toBeUndefined();
    expect(kind.next(it)).toBe(2);
    kind.destroy(it);
    expect(registerIterKind(s as never).type).toBe(s.type);
  });
});

describe('register_btf_kfunc_id_set (kernel-style facade)', () => {
  it('registers every trio, ignores non-iterator kfuncs, returns 0', () => {
    const a = spec();
    const b = spec();
    const ret = register_btf_kfunc_id_set('BPF_PROG_TYPE_UNSPEC', {
      structs: { [a.st]: 8, [b.st]: 8 },
      kfuncs: [a.new, a.next, a.destroy, b.new, b.next, b.destroy, { name: 'bpf_other', flags: KF_ACQUIRE, params: [], ret: 'int', impl: () => 0 }],
    });
    expect(ret).toBe(0);
    expect(getIterKind(a.type)?.type).toBe(a.type);
    expect(getIterKind(b.type)?.type).toBe(b.type);
  });

  it('returns -EINVAL and registers nothing when any kfunc breaks a rule', () => {
    const a = spec();
    const b = spec();
    const log: string[] = [];
    const ret = register_btf_kfunc_id_set(0, { structs: { [a.st]: 8, [b.st]: 8 }, kfuncs: [a.new, a.next, a.destroy, b.new, { ...b.next, params: [`struct ${b.st} *`, 'int'] }, b.destroy] }, (m) => log.push(m));
    expect(ret).toBe(-22);
    expect(log[0]).toMatch(/rule 5/);
    expect(getIterKind(a.type)).toBeUndefined();
  });

  it('observable 12: bpf_iter_foo_next with a 12-byte state, two parameters, or an int return fails with -EINVAL', () => {
    const next = (over: Partial<KfuncDesc>, size = 8): number =>
      register_btf_kfunc_id_set(0, { structs: { bpf_iter_foo: size }, kfuncs: [{ name: 'bpf_iter_foo_next', flags: KF_ITER_NEXT | KF_RET_NULL, params: ['struct bpf_iter_foo *'], ret: 'int *', impl: () => null, ...over }] });
    expect(next({}, 12)).toBe(-22);
    expect(next({ params: ['struct bpf_iter_foo *', 'int'] })).toBe(-22);
    expect(next({ ret: 'int' })).toBe(-22);
  });

  it('an incomplete trio is -EINVAL (rule T1)', () => {
    const a = spec();
    const log: string[] = [];
    expect(register_btf_kfunc_id_set(0, { structs: { [a.st]: 8 }, kfuncs: [a.new, a.next] }, (m) => log.push(m))).toBe(-22);
    expect(log[0]).toMatch(/rule T1/);
  });
});

describe('built-in kinds pass the same registration', () => {
  it('num: 8-byte state, kernel names and flags', () => {
    expect(iterNum.stateName).toBe('bpf_iter_num');
    expect(iterNum.stateSize).toBe(8);
    expect(iterNum.kfuncs.new.name).toBe('bpf_iter_num_new');
    expect(iterNum.kfuncs.next.flags).toBe(KF_ITER_NEXT | KF_RET_NULL);
    expect(iterNum.kfuncs.destroy.ret).toEqual(btf.void);
  });
});
