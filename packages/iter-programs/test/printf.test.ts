import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BPF_SEQ_PRINTF,
  bpf_seq_printf,
  bpf_seq_printf_btf,
  bpf_seq_write,
  bpf_core_type_id_kernel,
  btf_add_type,
  BTF_F_COMPACT,
  BTF_F_ZERO,
  BTF_F_PTR_RAW,
  BTF_F_NONAME,
  cstr,
  kaddr,
  ksprintf,
  uaddr,
  type SeqFile,
  printkConfig,
  setKallsymsResolver,
} from '../src/internal.js';
import { drain, rig } from './fixtures.js';

let body: (seq: SeqFile) => number = () => 0;
const r = rig([{}], (ctx) => {
  if (ctx.item) ret = body(ctx.meta.seq);
  return 0;
});
let ret = 0;

/** Runs `f` as the program body on one object; returns its return value and the output. */
function run(f: (seq: SeqFile) => number): { ret: number; out: string } {
  body = f;
  const fd = r.open();
  const out = drain(fd, 65536).toString('latin1');
  fd.close();
  return { ret, out };
}
const pf = (fmt: string, ...args: unknown[]) => run((s) => BPF_SEQ_PRINTF(s, fmt, ...(args as never[])));
const raw = (fmt: string | Uint8Array, fmt_size: number, data: BigUint64Array | bigint[] | null, data_len: number) =>
  run((s) => bpf_seq_printf(s, fmt, fmt_size, data, data_len));

const EINVAL = -22;
const ENOSPC = -28;

describe('bpf_seq_printf (§6)', () => {
  it('32-bit vs 64-bit conversions match C', () => {
    expect(raw('%d\n', 4, [-1n], 8)).toEqual({ ret: 0, out: '-1\n' });
    expect(raw('%d\n', 4, new BigUint64Array([0xffffffffffffffffn]), 8)).toEqual({ ret: 0, out: '-1\n' });
    expect(raw('%u\n', 4, [-1n], 8)).toEqual({ ret: 0, out: '4294967295\n' });
    expect(raw('%lld\n', 6, [1n << 40n], 8)).toEqual({ ret: 0, out: '1099511627776\n' });
    expect(pf('%d %u %x %X', -1, -1, 255, 255).out).toBe('-1 4294967295 ff FF');
    expect(pf('%d', 2 ** 32 + 5).out).toBe('5');
    expect(pf('%ld %lu %lx', -1, -1, -1).out).toBe('-1 18446744073709551615 ffffffffffffffff');
    expect(pf('%lld %llu', -(2n ** 63n), 2n ** 64n - 1n).out).toBe('-9223372036854775808 18446744073709551615');
    expect(pf('%li %i', 2n ** 40n, 2n ** 40n).out).toBe('1099511627776 0');
  });

  it('data_len rules: not a multiple of 8, > 96, NULL data → -EINVAL', () => {
    expect(raw('%d', 3, [1n, 2n], 12).ret).toBe(EINVAL);
    expect(raw('x', 2, Array(13).fill(0n), 104).ret).toBe(EINVAL);
    expect(raw('%d', 3, null, 8).ret).toBe(EINVAL);
    expect(raw('x', 2, null, 0)).toEqual({ ret: 0, out: 'x' });
    expect(pf('%d', ...Array(13).fill(1)).ret).toBe(EINVAL);
    expect(run((s) => bpf_seq_printf(s, '%d', Array(13).fill(1))).ret).toBe(EINVAL);
    expect(pf('%d%d%d%d%d%d%d%d%d%d%d%d', ...Array(12).fill(7)).out).toBe('777777777777');
  });

  it('format must contain a NUL within fmt_size', () => {
    expect(raw(new Uint8Array([97, 98, 99]), 3, null, 0).ret).toBe(EINVAL);
    expect(raw(new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57]), 10, null, 0).ret).toBe(EINVAL);
    expect(raw(new Uint8Array([97, 98, 0, 99]), 4, null, 0)).toEqual({ ret: 0, out: 'ab' });
    expect(raw('abc', 3, null, 0).ret).toBe(EINVAL); // "abc" literal has 4 bytes; only 3 given
    expect(raw('abc', 4, null, 0)).toEqual({ ret: 0, out: 'abc' });
    expect(raw('abc', 0, null, 0).ret).toBe(EINVAL);
  });

  it('"%d %d" with one argument → -EINVAL, nothing printed', () => {
    expect(raw('%d %d', 6, [1n], 8)).toEqual({ ret: EINVAL, out: '' });
    expect(pf('%d %d', 1)).toEqual({ ret: EINVAL, out: '' });
  });

  it('%% and literal text', () => {
    expect(pf('100%%')).toEqual({ ret: 0, out: '100%' });
    expect(pf('%d%%', 5).out).toBe('5%');
    expect(pf('tab\there\n').out).toBe('tab\there\n');
  });

  it('positive list: flags and widths', () => {
    expect(pf('[%5d][%-5d][%05d][%+d][% d][%+d]', 42, 42, 42, 42, 42, -42).out).toBe('[   42][42   ][00042][+42][ 42][-42]');
    expect(pf('[%-05d][%05d][%8d]', 7, -7, -7).out).toBe('[7    ][-0007][      -7]');
    expect(pf('[%+u][%08x][%-4X]', 3, 0xbeef, 0xa).out).toBe('[3][0000beef][A   ]');
    expect(pf('[%c][%3c][%-3c]', 65, 66, 67).out).toBe('[A][  B][C  ]');
    expect(pf('[%s][%6s][%-6s]', 'ab', 'ab', 'ab').out).toBe('[ab][    ab][ab    ]');
    expect(pf('valid %d', 1).ret).toBe(0);
    expect(pf('valid %p', 1).ret).toBe(0);
  });

  it('negative list → -EINVAL', () => {
    for (const f of ['%.2d', '%hd', '%zu', '%o', '%lc', '%llc', '%pM', '%sa', '%a', '%pi5', '%', '%12345678', '%--------', '%p%', '%s%', '\x01', '%#x', '%*d', '%f', '%e', '%n', '%pks1', '%pk', '%lu%', '%lllx'])
      expect([f, pf(f, 1, 2).ret]).toEqual([f, EINVAL]);
  });

  it('control bytes are rejected; bytes >= 0x80 are accepted in literal text only', () => {
    expect(pf('a\x01b').ret).toBe(EINVAL);
    expect(pf('\x7f').ret).toBe(EINVAL);
    expect(pf('é %d', 1)).toEqual({ ret: 0, out: Buffer.from('é 1', 'utf8').toString('latin1') });
    expect(raw(new Uint8Array([0x25, 0xc3, 0]), 3, [1n], 8).ret).toBe(EINVAL);
  });

  it('%s follow-character rule and string sources', () => {
    expect(pf('%s.', 'x').out).toBe('x.');
    expect(pf('%s', 'x').out).toBe('x');
    expect(pf('%s\n', 'x').out).toBe('x\n');
    expect(pf('%sx', 'x').ret).toBe(EINVAL);
    expect(pf('%pks,%pus', 'k', uaddr('u')).out).toBe('k,u');
    expect(pf('%s', cstr('bytes')).out).toBe('bytes');
    const kstr = cstr('kern');
    expect(raw('%s', 3, [kaddr(kstr)], 8).out).toBe('kern');
    expect(raw('%pks', 5, [kaddr(kstr)], 8).out).toBe('kern');
    const ustr = cstr('user');
    expect(raw('%s', 3, [uaddr(ustr)], 8).out).toBe('user');
    expect(raw('%pus', 5, [kaddr(kstr)], 8).out).toBe(''); // kernel address read as user memory
  });

  it('%s with an unreadable pointer prints an empty string and returns 0', () => {
    expect(raw('[%s]', 5, [0xdeadbeefn], 8)).toEqual({ ret: 0, out: '[]' });
    expect(pf('[%s]', null)).toEqual({ ret: 0, out: '[]' });
    expect(pf('[%s]', { not: 'a string' })).toEqual({ ret: 0, out: '[]' });
  });

  it('512-byte scratch: strings truncated to the remaining space; none left → -ENOSPC', () => {
    const long = 'z'.repeat(600);
    const one = pf('%s', long);
    expect(one.ret).toBe(0);
    expect(one.out).toBe('z'.repeat(511));
    expect(pf('%s %d', long, 1).ret).toBe(ENOSPC);
    expect(pf('%s%s', 'a'.repeat(510), 'bbb')).toEqual({ ret: 0, out: 'a'.repeat(510) });
    expect(pf('%s%c', 'a'.repeat(511), 66).ret).toBe(ENOSPC);
    expect(pf('%s %pI4', 'a'.repeat(508), new Uint8Array([1, 2, 3, 4])).ret).toBe(ENOSPC);
    expect(pf('%s %pI4', 'a'.repeat(507), new Uint8Array([1, 2, 3, 4])).ret).toBe(0);
    // an earlier invalid conversion wins over a later ENOSPC and vice versa
    expect(pf('%s %d %q', long, 1, 2).ret).toBe(ENOSPC);
    expect(pf('%q %s', 1, long).ret).toBe(EINVAL);
  });

  it('%pI4 / %pi4 / %pI6 / %pi6', () => {
    const v4 = new Uint8Array([0x7f, 0, 0, 1]);
    expect(pf('%pI4', v4).out).toBe('127.0.0.1');
    expect(pf('%pi4', v4).out).toBe('127.000.000.001');
    expect(raw('%pI4', 5, [kaddr(v4)], 8).out).toBe('127.0.0.1');
    const v6 = new Uint8Array(16);
    v6[0] = 0xfe;
    v6[1] = 0x80;
    v6[15] = 1;
    expect(pf('%pI6', v6).out).toBe('fe80:0000:0000:0000:0000:0000:0000:0001');
    expect(pf('%pi6', v6).out).toBe('fe800000000000000000000000000001');
    expect(raw('%pI4', 5, [0x1234n], 8).out).toBe('0.0.0.0'); // unreadable → zeros
  });

  it('%p hashes (NULL printed raw), %px raw, %pK follows kptr_restrict', () => {
    const p1 = pf('%p', 0xffff888012345678n).out;
    expect(p1).toMatch(/^00000000[0-9a-f]{8}$/);
    expect(pf('%p', 0xffff888012345678n).out).toBe(p1);
    expect(pf('%p', 0).out).toBe('0000000000000000');
    expect(pf('%px', 0xffff888012345678n).out).toBe('ffff888012345678');
    expect(pf('%pK', 0xffff888012345678n).out).toBe(p1);
    printkConfig.kptr_restrict = 2;
    expect(pf('%pK', 0xffff888012345678n).out).toBe('0000000000000000');
    printkConfig.kptr_restrict = 0;
    expect(pf('%p.', 1).ret).toBe(0);
  });

  it('%ps / %pS / %pB through kallsyms', () => {
    expect(pf('%ps', 0xffffffff81000010n).out).toBe('0xffffffff81000010');
    setKallsymsResolver((a) => (a >= 0xffffffff81000000n && a < 0xffffffff81000100n ? { name: 'do_sys_open', offset: a - 0xffffffff81000000n, size: 0x100n } : null));
    expect(pf('%ps', 0xffffffff81000010n).out).toBe('do_sys_open');
    expect(pf('%pS', 0xffffffff81000010n).out).toBe('do_sys_open+0x10/0x100');
    expect(pf('%pB', 0xffffffff81000010n).out).toBe('do_sys_open+0x10/0x100');
    setKallsymsResolver(() => null);
  });

  it('the seed line format: %8d %8d %8d %lx with a model object carrying addr', () => {
    const f_op = { addr: 0xffffffff82270aa0n };
    expect(pf('%8d %8d %8d %lx\n', 1859, 1859, 0, f_op).out).toBe('    1859     1859        0 ffffffff82270aa0\n');
  });

  it('%lx of a run of one address and of addresses that alternate: each line its own digits', () => {
    const a = 0xffffffff824c6ac0n;
    const b = 0xffffffff8244c300n;
    const lines = [a, a, b, a, 0n, BigInt(a), b].map((x) => pf('%lx %lX\n', x, x).out);
    expect(lines).toEqual(['ffffffff824c6ac0 FFFFFFFF824C6AC0\n', 'ffffffff824c6ac0 FFFFFFFF824C6AC0\n', 'ffffffff8244c300 FFFFFFFF8244C300\n', 'ffffffff824c6ac0 FFFFFFFF824C6AC0\n', '0 0\n', 'ffffffff824c6ac0 FFFFFFFF824C6AC0\n', 'ffffffff8244c300 FFFFFFFF8244C300\n']);
  });

  it('-EINVAL / -ENOSPC leave earlier output of the object in place', () => {
    const out = run((s) => {
      BPF_SEQ_PRINTF(s, 'keep;');
      const r1 = BPF_SEQ_PRINTF(s, '%d %d', 1);
      BPF_SEQ_PRINTF(s, 'more');
      return r1;
    });
    expect(out).toEqual({ ret: EINVAL, out: 'keep;more' });
  });

  it('prints every integer and string conversion the same in place as the general printer (one per dumper line)', () => {
    // BPF_SEQ_PRINTF writes common conversions straight into the seq buffer; ksprintf always builds the string.
    const conv = fc.record({
      flags: fc.subarray(['-', '0', '+', ' ']),
      width: fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }),
      kind: fc.constantFrom('d', 'i', 'u', 'x', 'X', 'ld', 'lu', 'lx', 'llx', 'lX', 's'),
    });
    // Integer conversions of numbers, bigints and scalars; %s of strings (a string's address under %d differs per call).
    const intArg = fc.oneof(
      fc.integer(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
      fc.maxSafeInteger(),
      fc.double({ noNaN: false }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n }),
      fc.constantFrom(null, undefined, true),
    );
    const strArg = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 }), fc.string({ minLength: 200, maxLength: 520 }));
    const part = fc.tuple(fc.string({ unit: fc.constantFrom('a', ' ', ':', '\n'), maxLength: 3 }), conv).chain(([lit, c]) =>
      (c.kind === 's' ? strArg : intArg).map((a) => [lit, c, a] as const),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const fmt = parts.map(([lit, c]) => `${lit}%${c.flags.join('')}${c.width ?? ''}${c.kind}`).join('') + '\n';
        const args = parts.map(([, , a]) => a);
        let want: { ret: number; out: string };
        try {
          want = { ret: 0, out: ksprintf(fmt, ...(args as never[])) };
        } catch {
          want = { ret: ENOSPC, out: '' };
        }
        const got = pf(fmt, ...args);
        expect(got.ret < 0 ? { ret: ENOSPC, out: got.out } : got).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it('ksprintf formats like the kernel (fdinfo helper)', () => {
    expect(ksprintf('link_id:\t%u\n', 5)).toBe('link_id:\t5\n');
    expect(() => ksprintf('%q', 1)).toThrow();
  });
});

describe('bpf_seq_write (§6.6)', () => {
  it('len 0 ok; len beyond data → -EINVAL; strings are UTF-8', () => {
    expect(run((s) => bpf_seq_write(s, new Uint8Array(4), 0))).toEqual({ ret: 0, out: '' });
    expect(run((s) => bpf_seq_write(s, new Uint8Array(4), 5)).ret).toBe(EINVAL);
    expect(run((s) => bpf_seq_write(s, new Uint8Array([1, 2, 3]), 2)).out).toBe('\x01\x02');
    expect(run((s) => bpf_seq_write(s, 'é')).out).toBe(Buffer.from('é').toString('latin1'));
  });
});

describe('bpf_seq_printf_btf (§6.7)', () => {
  const task = { pid: 42, tgid: 42, comm: 'bash', flags: 0, mm: null as unknown };
  const id = bpf_core_type_id_kernel('struct task_struct');

  it('prints "(struct task_struct)" with members; zero members omitted unless BTF_F_ZERO', () => {
    const o = run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: id }, 16, 0));
    expect(o.ret).toBe(0);
    expect(o.out).toContain('(struct task_struct)');
    expect(o.out).toContain(".comm = (char[5])['b','a','s','h',],");
    expect(o.out).toContain('.pid = (int)42,');
    expect(o.out).not.toContain('.flags');
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: id }, 16, BTF_F_ZERO)).out).toContain('.flags = (int)0,');
    const compact = run((s) => bpf_seq_printf_btf(s, { ptr: task, typeName: 'task_struct' }, BTF_F_COMPACT)).out;
    expect(compact).not.toContain('\n');
    expect(compact.startsWith('(struct task_struct){.pid = (int)42,')).toBe(true);
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: id }, BTF_F_NONAME | BTF_F_PTR_RAW)).out).not.toContain('(struct');
  });

  it('members of a registered type use their declared types', () => {
    const tid = btf_add_type({ name: 'struct test_pair', kind: 'struct', members: [{ name: 'a', type: 'u64' }, { name: 'p', type: 'struct file *' }] });
    const o = run((s) => bpf_seq_printf_btf(s, { ptr: { a: 5n, p: { addr: 0xffff888000001000n } }, type_id: tid }, BTF_F_PTR_RAW)).out;
    expect(o).toBe('(struct test_pair){\n .a = (u64)5,\n .p = (struct file *)0xffff888000001000,\n}');
  });

  it('errors: bad flags, ptr_size, type_id 0 → -EINVAL; unknown type → -ENOENT', () => {
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: id }, 16, 16)).ret).toBe(EINVAL);
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: id }, 8, 0)).ret).toBe(EINVAL);
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: 0 }, 16, 0)).ret).toBe(EINVAL);
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, type_id: 999999 }, 16, 0)).ret).toBe(-2);
    expect(run((s) => bpf_seq_printf_btf(s, { ptr: task, typeName: 'no_such_type' }, 16, 0)).ret).toBe(-2);
  });
});
