/** The socket targets `tcp`, `udp`, `unix`, `netlink` (reference §2.5, §5.5-§5.8). */
import { describe, expect, it } from 'vitest';
import { BPF_SEQ_PRINTF, callHelper } from '../../src/index.js';
import { AF_INET, AF_INET6, TCP_LISTEN, type Kernel } from '@bpf-iter/core';
import { errOf, LOOPBACK4, LOOPBACK6, mkSock, recorder, session, smallKernel } from './helpers.js';

const U64_MAX = 0xffffffffffffffffn;
const FIELD: Record<string, string> = { tcp: 'sk_common', udp: 'udp_sk', unix: 'unix_sk', netlink: 'sk' };

function run(k: Kernel, target: string, body?: (ctx: any) => number) {
  const f = FIELD[target]!;
  const r = recorder(target, (ctx) => [ctx[f] ? ctx[f].ino : null, ctx.meta.seq_num] as [number | null, bigint], body);
  const s = session(k, r.spec);
  s.text();
  s.close();
  return r.calls;
}

describe.each(['tcp', 'udp', 'unix', 'netlink'] as const)('%s target: seq_num', (target) => {
  it('with zero sockets the end call sees seq_num 2^64-1', () => {
    const { k } = smallKernel();
    expect(run(k, target)).toEqual([[null, U64_MAX]]);
  });

  it('the first socket sees seq_num 0; N sockets end with N-1', () => {
    const { k } = smallKernel();
    const a = k.addSocket(mkSock(k, target, { sport: 1000 }), 3);
    const b = k.addSocket(mkSock(k, target, { sport: 1001 }), 5);
    expect(run(k, target)).toEqual([[a.ino, 0n], [b.ino, 1n], [null, 1n]]);
  });

  it('a socket unhashed after its bucket was batched is skipped and does not consume a seq_num (§5 item 7)', () => {
    const { k } = smallKernel();
    const a = k.addSocket(mkSock(k, target, { sport: 1 }), 2);
    const b = k.addSocket(mkSock(k, target, { sport: 2 }), 2);
    const c = k.addSocket(mkSock(k, target, { sport: 3 }), 2);
    const d = k.addSocket(mkSock(k, target, { sport: 4 }), 9);
    const f = FIELD[target]!;
    const calls = run(k, target, (ctx) => {
      if (ctx[f] === a) k.closeSocket(b);
      if (ctx[f]) BPF_SEQ_PRINTF(ctx.meta.seq, '%u\n', ctx[f].ino);
      return 0;
    });
    expect(calls).toEqual([[a.ino, 0n], [c.ino, 1n], [d.ino, 2n], [null, 2n]]);
  });

  it('tiny reads: every socket once, seq_num without gaps', () => {
    const { k } = smallKernel();
    const socks = [1, 1, 1, 4, 7, 7].map((bucket, i) => k.addSocket(mkSock(k, target, { sport: 100 + i }), bucket));
    const f = FIELD[target]!;
    const r = recorder(target, (ctx) => [ctx[f]?.ino ?? null, ctx.meta.seq_num], (ctx) => {
      if (ctx[f]) BPF_SEQ_PRINTF(ctx.meta.seq, '%u\n', ctx[f].ino);
      return 0;
    });
    const s = session(k, r.spec);
    const text = s.text(undefined, 1);
    expect(text).toBe(socks.map((x) => `${x.ino}\n`).join(''));
    expect(r.calls.filter((c) => c[0] !== null)).toEqual(socks.map((x, i) => [x.ino, BigInt(i)]));
    s.close();
  });
});

describe('tcp target', () => {
  it('listeners first, then established; both families', () => {
    const { k } = smallKernel();
    const est4 = k.addSocket(mkSock(k, 'tcp', { family: AF_INET, saddr: LOOPBACK4, daddr: LOOPBACK4, sport: 40000, dport: 8080 }), 0);
    const lis6 = k.addSocket(mkSock(k, 'tcp', { family: AF_INET6, state: TCP_LISTEN, saddr: LOOPBACK6, sport: 8080 }), 31);
    const r = recorder('tcp', (ctx) => (ctx.sk_common ? [ctx.sk_common.skc_family, ctx.sk_common.skc_state, ctx.meta.seq_num] : 'end'));
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[AF_INET6, TCP_LISTEN, 0n], [AF_INET, 1, 1n], 'end']);
    expect([lis6.hashed, est4.hashed]).toEqual([true, true]);
    s.close();
  });

  it('uid is the socket uid (0 for TIME_WAIT)', () => {
    const { k } = smallKernel();
    k.addSocket(mkSock(k, 'tcp', { uid: 1000, sport: 1 }), 0);
    k.addSocket(mkSock(k, 'tcp', { uid: 1000, sport: 2, state: 6 }), 1);
    const r = recorder('tcp', (ctx) => (ctx.sk_common ? ctx.uid : 'end'));
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([1000, 0, 'end']);
    s.close();
  });

  it('bpf_sock_destroy (callHelper) closes sockets during the iteration', () => {
    const { k } = smallKernel();
    const a = k.addSocket(mkSock(k, 'tcp', { sport: 1 }), 0);
    const b = k.addSocket(mkSock(k, 'tcp', { sport: 2 }), 0);
    const c = k.addSocket(mkSock(k, 'tcp', { sport: 3 }), 1);
    const rets: unknown[] = [];
    const calls = run(k, 'tcp', (ctx) => {
      const sk = ctx.sk_common;
      if (sk === a) rets.push(callHelper('bpf_sock_destroy', b));
      if (sk === c) rets.push(callHelper('bpf_sock_destroy', c));
      return 0;
    });
    expect(rets).toEqual([0, 0]);
    expect(calls).toEqual([[a.ino, 0n], [c.ino, 1n], [null, 1n]]);
    expect(k.sockets('tcp')).toEqual([a]);
    expect([b.hashed, c.hashed]).toEqual([false, false]);
  });

  it('bpf_sock_destroy outside a tcp/udp program: unknown func', () => {
    const { k } = smallKernel();
    const u = k.addSocket(mkSock(k, 'unix'), 0);
    const errs: unknown[] = [];
    run(k, 'unix', (ctx) => {
      if (ctx.unix_sk) errs.push(errOf(() => callHelper('bpf_sock_destroy', u)));
      return 0;
    });
    expect(errs).toEqual(['EINVAL']);
    expect(u.hashed).toBe(true);
  });
});

describe('udp target', () => {
  it('ctx.bucket is the hash2 bucket being walked; both families', () => {
    const { k } = smallKernel();
    const a = k.addSocket(mkSock(k, 'udp', { family: AF_INET, saddr: LOOPBACK4, sport: 53 }), 7);
    const b = k.addSocket(mkSock(k, 'udp', { family: AF_INET6, saddr: LOOPBACK6, sport: 53 }), 7);
    const c = k.addSocket(mkSock(k, 'udp', { family: AF_INET, sport: 123 }), 100);
    const r = recorder('udp', (ctx) => (ctx.udp_sk ? [ctx.udp_sk.ino, ctx.bucket, ctx.udp_sk.skc_family] : 'end'));
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[a.ino, 7, AF_INET], [b.ino, 7, AF_INET6], [c.ino, 100, AF_INET], 'end']);
    s.close();
  });

  it('bpf_sock_destroy closes a udp socket', () => {
    const { k } = smallKernel();
    const a = k.addSocket(mkSock(k, 'udp', { sport: 1 }), 0);
    run(k, 'udp', (ctx) => {
      if (ctx.udp_sk) callHelper('bpf_sock_destroy', ctx.udp_sk);
      return 0;
    });
    expect(a.hashed).toBe(false);
    expect(k.sockets('udp')).toEqual([]);
  });
});
