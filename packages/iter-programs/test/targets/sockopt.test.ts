/**
 * bpf_setsockopt / bpf_getsockopt on the tcp and unix iterators (net/core/filter.c
 * semantics), including a port of selftests/bpf prog_tests/bpf_iter_setsockopt.c.
 */
import { describe, expect, it } from 'vitest';
import {
  AF_INET6,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  TCP_TIME_WAIT,
  type Kernel,
  type Socket,
} from '@bpf-iter/core';
import {
  bpf_getsockopt,
  bpf_setsockopt,
  IP_TOS,
  IPV6_TCLASS,
  SEC,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_REUSEPORT,
  SO_SNDBUF,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
  SOL_TCP,
  TCP_CONGESTION,
  TCP_KEEPCNT,
  TCP_NODELAY,
  TCP_SAVED_SYN,
  TCP_BPF_IW,
} from '../../src/index.js';
import { errOf, LOOPBACK6, mkSock, session, smallKernel } from './helpers.js';

const int = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
const cstr = (b: Uint8Array) => Buffer.from(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0))).toString('latin1');

/** Runs `body(sk)` for each socket of `target` inside an iterator program; returns what it returned. */
function onEach<T>(k: Kernel, target: 'tcp' | 'unix', body: (sk: Socket) => T): T[] {
  const out: T[] = [];
  const field = target === 'tcp' ? 'sk_common' : 'unix_sk';
  const s = session(k, SEC(`iter/${target}`, (ctx: any) => (ctx[field] && out.push(body(ctx[field])), 0), { helpers: ['bpf_setsockopt', 'bpf_getsockopt'] }));
  s.text();
  s.close();
  return out;
}

/** getsockopt of an int option from a program; [ret, value]. */
function getInt(sk: Socket, level: number, opt: number): [number, number] {
  const b = new Uint8Array(4).fill(0xff);
  const r = bpf_getsockopt(sk, level, opt, b);
  return [r, int(b)];
}

describe('bpf_setsockopt / bpf_getsockopt', () => {
  it('port of bpf_iter_setsockopt: every reno socket of the listener (listen, reuseport listeners, established both ways) becomes dctcp', () => {
    const { k } = smallKernel();
    k.net.registerCongestion('dctcp'); // CONFIG_TCP_CONG_DCTCP
    const listenPort = 40000;
    const reusePort = 40001;
    const mk = (state: number, sport: number, dport = 0) => {
      const sk = k.addSocket(mkSock(k, 'tcp', { family: AF_INET6, state, saddr: LOOPBACK6, daddr: LOOPBACK6, sport, dport }));
      k.sockOpts(sk).icsk_ca_name = 'reno'; // settcpca(fd, "reno") from user space
      return sk;
    };
    const listen = mk(TCP_LISTEN, listenPort);
    const reuse = Array.from({ length: 8 }, () => mk(TCP_LISTEN, reusePort));
    const est = Array.from({ length: 16 }, (_, i) => mk(TCP_ESTABLISHED, 50000 + i, listenPort));
    const accepted = Array.from({ length: 16 }, (_, i) => mk(TCP_ESTABLISHED, listenPort, 50000 + i));
    const other = k.addSocket(mkSock(k, 'tcp', { family: AF_INET6, state: TCP_ESTABLISHED, sport: 999, dport: 998 }));
    k.sockOpts(other).icsk_ca_name = 'reno';
    let calls = 0;
    const prog = SEC(
      'iter/tcp',
      function change_tcp_cc(ctx: any) {
        const sk: Socket | null = ctx.sk_common;
        if (!sk) return 0;
        if (sk.skc_family !== AF_INET6 || (sk.skc_state !== TCP_LISTEN && sk.skc_state !== TCP_ESTABLISHED) ||
          (sk.skc_num !== reusePort && sk.skc_num !== listenPort && sk.dport !== listenPort)) return 0;
        const cur = new Uint8Array(16);
        if (bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, cur, cur.length)) return 0;
        if (cstr(cur) !== 'reno') return 0;
        if (++calls % 4 === 1) return 1; // random_retry: the read fails EAGAIN, the next one retries
        bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, 'dctcp');
        return 0;
      },
      { helpers: ['bpf_getsockopt', 'bpf_setsockopt'] },
    );
    const s = session(k, prog);
    const fd = s.open();
    let eagain = 0;
    for (;;) {
      try {
        if (fd.read(1).length === 0) break;
      } catch (e) {
        expect((e as { errno?: string }).errno).toBe('EAGAIN');
        eagain++;
      }
    }
    fd.close();
    s.close();
    expect(eagain).toBeGreaterThan(0);
    for (const sk of [listen, ...reuse, ...est, ...accepted]) expect(k.sockOpts(sk).icsk_ca_name).toBe('dctcp');
    expect(k.sockOpts(other).icsk_ca_name).toBe('reno');
  });

  it('TCP_CONGESTION: only registered algorithms (-ENOENT), never cdg (-ENOTSUPP), optlen >= 2, name read back NUL-terminated', () => {
    const { k } = smallKernel();
    const sk = k.addSocket(mkSock(k, 'tcp', { sport: 1 }));
    const [rets, names] = [[] as number[], [] as string[]];
    onEach(k, 'tcp', (s) => {
      const cc = new Uint8Array(16);
      bpf_getsockopt(s, SOL_TCP, TCP_CONGESTION, cc);
      names.push(cstr(cc));
      rets.push(bpf_setsockopt(s, SOL_TCP, TCP_CONGESTION, 'dctcp'));
      rets.push(bpf_setsockopt(s, SOL_TCP, TCP_CONGESTION, 'cdg'));
      rets.push(bpf_setsockopt(s, SOL_TCP, TCP_CONGESTION, 'r', 1));
      rets.push(bpf_setsockopt(s, SOL_TCP, TCP_CONGESTION, 'reno'));
      const small = new Uint8Array(4).fill(0xff);
      rets.push(bpf_getsockopt(s, SOL_TCP, TCP_CONGESTION, small));
      names.push(Buffer.from(small).toString('latin1'));
      return 0;
    });
    expect(names).toEqual(['cubic', 'ren\0']);
    expect(rets).toEqual([-2, -524, -22, 0, 0]);
    expect(k.sockOpts(sk).icsk_ca_name).toBe('reno');
  });

  it('SO_SNDBUF / SO_RCVBUF: capped by wmem_max / rmem_max, stored doubled, at least SOCK_MIN_*; unix sockets too', () => {
    const { k } = smallKernel();
    k.addSocket(mkSock(k, 'tcp', { sport: 1 }));
    k.addSocket(mkSock(k, 'unix'));
    const seen = [...onEach(k, 'tcp', probeBufs), ...onEach(k, 'unix', probeBufs)];
    function probeBufs(sk: Socket) {
      const initial = [getInt(sk, SOL_SOCKET, SO_SNDBUF)[1], getInt(sk, SOL_SOCKET, SO_RCVBUF)[1]];
      bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, 10000);
      bpf_setsockopt(sk, SOL_SOCKET, SO_RCVBUF, 1);
      const small = [getInt(sk, SOL_SOCKET, SO_SNDBUF)[1], getInt(sk, SOL_SOCKET, SO_RCVBUF)[1]];
      bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, 1 << 30);
      bpf_setsockopt(sk, SOL_SOCKET, SO_RCVBUF, -1);
      const big = [getInt(sk, SOL_SOCKET, SO_SNDBUF)[1], getInt(sk, SOL_SOCKET, SO_RCVBUF)[1]];
      return { initial, small, big, badLen: bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, new Uint8Array(8)) };
    }
    const max = [k.net.wmem_max * 2, k.net.rmem_max * 2];
    expect(seen).toEqual([
      { initial: [k.net.tcp_wmem[1], k.net.tcp_rmem[1]], small: [20000, SOCK_MIN_RCVBUF], big: max, badLen: -22 },
      { initial: [k.net.wmem_default, k.net.rmem_default], small: [20000, SOCK_MIN_RCVBUF], big: max, badLen: -22 },
    ]);
    expect(SOCK_MIN_SNDBUF).toBe(4608);
  });

  it('TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPCNT round-trip; out of range and unsupported options are -EINVAL; tail zeroed on error', () => {
    const { k } = smallKernel();
    k.addSocket(mkSock(k, 'tcp', { sport: 1 }));
    const [r] = onEach(k, 'tcp', (sk) => ({
      nodelay0: getInt(sk, SOL_TCP, TCP_NODELAY),
      setNodelay: bpf_setsockopt(sk, SOL_TCP, TCP_NODELAY, 1),
      nodelay1: getInt(sk, SOL_TCP, TCP_NODELAY),
      keep: [bpf_setsockopt(sk, SOL_SOCKET, SO_KEEPALIVE, 7), getInt(sk, SOL_SOCKET, SO_KEEPALIVE)],
      keepcnt: [getInt(sk, SOL_TCP, TCP_KEEPCNT), bpf_setsockopt(sk, SOL_TCP, TCP_KEEPCNT, 128), bpf_setsockopt(sk, SOL_TCP, TCP_KEEPCNT, 3), getInt(sk, SOL_TCP, TCP_KEEPCNT)],
      unknown: [bpf_setsockopt(sk, SOL_SOCKET, 99, 1), getInt(sk, SOL_TCP, 99), bpf_setsockopt(sk, 1234, 1, 1)],
      savedSyn: [bpf_setsockopt(sk, SOL_TCP, TCP_SAVED_SYN, 1), getInt(sk, SOL_TCP, TCP_SAVED_SYN)],
      iw: [bpf_setsockopt(sk, SOL_TCP, TCP_BPF_IW, 0), bpf_setsockopt(sk, SOL_TCP, TCP_BPF_IW, 20), k.sockOpts(sk).snd_cwnd],
      wrongFamily: [bpf_setsockopt(sk, SOL_IPV6, IPV6_TCLASS, 4), bpf_setsockopt(sk, SOL_IP, IP_TOS, 0x10 | 3), getInt(sk, SOL_IP, IP_TOS)],
    }));
    expect(r).toEqual({
      nodelay0: [0, 0],
      setNodelay: 0,
      nodelay1: [0, 1],
      keep: [0, [0, 1]],
      keepcnt: [[0, 9], -22, 0, [0, 3]],
      unknown: [-22, [-22, 0], -22],
      savedSyn: [-92, [-22, 0]],
      iw: [-22, 0, 20],
      // IP_TOS on a stream socket keeps the ECN bits it had (0).
      wrongFamily: [-22, 0, [0, 0x10]],
    });
  });

  it('SOL_TCP on a unix socket, SO_REUSEPORT on a non-inet socket, a TIME_WAIT mini-socket', () => {
    const { k } = smallKernel();
    k.addSocket(mkSock(k, 'unix'));
    k.addSocket(mkSock(k, 'tcp', { sport: 5, state: TCP_TIME_WAIT }));
    expect(onEach(k, 'unix', (sk) => [bpf_setsockopt(sk, SOL_TCP, TCP_NODELAY, 1), bpf_setsockopt(sk, SOL_SOCKET, SO_REUSEPORT, 1), bpf_setsockopt(sk, SOL_SOCKET, SO_REUSEPORT, 0)])).toEqual([[-22, -95, 0]]);
    expect(onEach(k, 'tcp', (sk) => [bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, 1), getInt(sk, SOL_SOCKET, SO_SNDBUF)])).toEqual([[-22, [-22, 0]]]);
  });

  it('is not offered to udp programs; host sockets (options unknown) fail the read with EOPNOTSUPP', () => {
    const { k } = smallKernel();
    const sk = k.addSocket(mkSock(k, 'udp', { sport: 9 }));
    const s = session(k, SEC('iter/udp', (ctx: any) => (ctx.udp_sk ? bpf_setsockopt(ctx.udp_sk, SOL_SOCKET, SO_SNDBUF, 1) : 0)));
    expect(errOf(() => s.text())).toBe('EINVAL');
    s.close();
    expect(sk.opts).toBeNull();
    const { k: k2 } = smallKernel();
    const h = k2.addSocket(mkSock(k2, 'tcp', { sport: 9 }));
    h.optsKnown = false;
    const s2 = session(k2, SEC('iter/tcp', (ctx: any) => (ctx.sk_common ? getInt(ctx.sk_common, SOL_SOCKET, SO_SNDBUF)[0] && 0 : 0)));
    expect(errOf(() => s2.text())).toBe('EOPNOTSUPP');
    s2.close();
  });
});
