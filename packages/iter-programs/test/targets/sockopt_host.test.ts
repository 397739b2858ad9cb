/**
 * The model's SOL_SOCKET buffer arithmetic against this machine's kernel:
 * the same values set on a real UDP socket (Node's dgram, plain
 * setsockopt/getsockopt) and through bpf_setsockopt on a model socket of a
 * kernel read from this host (its net.core sysctls).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHost } from '@bpf-iter/core';
import { bpf_getsockopt, bpf_setsockopt, SEC, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET } from '../../src/index.js';
import { mkSock, session } from './helpers.js';

const linux = process.platform === 'linux';

describe.runIf(linux)('SO_SNDBUF / SO_RCVBUF against the host kernel', () => {
  let udp: UdpSocket;
  beforeAll(async () => {
    udp = createSocket('udp4');
    await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  });
  afterAll(() => udp.close());

  it('initial sizes, then 1, 5000, 100000 and 1<<30 set on both: the kernel and the model read back the same', () => {
    const k = readHost({ threads: false, files: false, vmas: false, sockets: true, routes: false, ksyms: false, slabs: false, cgroups: false });
    expect(k.net.tcp_available_congestion_control).toEqual(readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'latin1').trim().split(/\s+/));
    // A socket the model made (its options are known), under the host's sysctls.
    const sk = k.addSocket(mkSock(k, 'unix'));
    const values = [1, 5000, 100000, 1 << 30];
    const model: number[][] = [];
    const s = session(k, SEC('iter/unix', (ctx: any) => {
      if (ctx.unix_sk !== sk) return 0;
      const b = new Uint8Array(4);
      const get = (opt: number) => (bpf_getsockopt(sk, SOL_SOCKET, opt, b), new DataView(b.buffer).getInt32(0, true));
      model.push([get(SO_SNDBUF), get(SO_RCVBUF)]);
      for (const v of values) {
        bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, v);
        bpf_setsockopt(sk, SOL_SOCKET, SO_RCVBUF, v);
        model.push([get(SO_SNDBUF), get(SO_RCVBUF)]);
      }
      return 0;
    }));
    s.text();
    s.close();
    const real: number[][] = [[udp.getSendBufferSize(), udp.getRecvBufferSize()]];
    for (const v of values) {
      udp.setSendBufferSize(v);
      udp.setRecvBufferSize(v);
      real.push([udp.getSendBufferSize(), udp.getRecvBufferSize()]);
    }
    expect(model).toEqual(real);
  });
});
