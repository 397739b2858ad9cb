/**
 * Host, byte for byte: the default dumpers run over `readHost()` reproduce
 * the host's /proc files. Files that change while the test runs are
 * compared on lines present in two reads taken around the snapshot.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHost, type Kernel } from '@bpf-iter/core';
import { dumpTaskVma } from '../../src/targets/task_vma.js';
import { dumpKsym } from '../../src/targets/ksym.js';
import { dumpIpv6Route } from '../../src/targets/ipv6_route.js';
import { dumpNetlink } from '../../src/targets/netlink.js';
import { dumpUnix } from '../../src/targets/unix.js';
import { dumpTcp } from '../../src/targets/tcp.js';
import { dumpUdp } from '../../src/targets/udp.js';
import { session } from './helpers.js';

const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};
const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
const inBoth = (a: string, b: string) => {
  const B = new Set(lines(b));
  return lines(a).filter((l) => B.has(l));
};

/** The dumper's output through a link + readAll(). */
function dump(k: Kernel, spec: Parameters<typeof session>[1], o: Parameters<typeof session>[2] = {}): string {
  const s = session(k, spec, o);
  try {
    return s.text();
  } finally {
    s.close();
  }
}

const servers: net.Server[] = [];
const udps: dgram.Socket[] = [];
let ipv6 = false;
let k: Kernel;
const before: Record<string, string | null> = {};
const after: Record<string, string | null> = {};
const FILES = ['/proc/self/maps', '/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6', '/proc/net/unix', '/proc/net/netlink', '/proc/net/ipv6_route'];

function listen(host: string): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen(0, host, () => resolve(srv));
  });
}
function bindUdp(type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(type);
    s.once('error', () => resolve(null));
    s.bind(0, host, () => resolve(s));
  });
}

beforeAll(async () => {
  const s4 = await listen('127.0.0.1');
  if (s4) servers.push(s4);
  const s6 = await listen('::1');
  if (s6) {
    servers.push(s6);
    ipv6 = true;
  }
  for (const [t, h] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
    const u = await bindUdp(t, h);
    if (u) udps.push(u);
  }
  for (const f of FILES) before[f] = read(f);
  k = readHost({ pids: [process.pid] });
  for (const f of FILES) after[f] = read(f);
}, 120_000);

afterAll(() => {
  for (const s of servers) s.close();
  for (const u of udps) u.close();
});

describe('host /proc, byte for byte', () => {
  it('task_vma (pid = process.pid) vs /proc/self/maps: every line stable across the snapshot is reproduced', () => {
    const out = lines(dump(k, dumpTaskVma, { linkInfo: { task: { pid: process.pid } } }));
    // Every line but [vsyscall]: /proc appends the gate area, which is in no mm, and task_vma never walks it.
    const stable = inBoth(before['/proc/self/maps']!, after['/proc/self/maps']!).filter((l) => !l.endsWith('[vsyscall]'));
    expect(stable.length).toBeGreaterThan(10);
    expect(out.some((l) => l.endsWith('[vsyscall]'))).toBe(false);
    const got = new Set(out);
    expect(stable.filter((l) => !got.has(l))).toEqual([]);
    // and in the same order
    const order = out.filter((l) => stable.includes(l));
    expect(order).toEqual(stable);
  });

  it('ksym vs /proc/kallsyms (first 1000 lines)', () => {
    const text = read('/proc/kallsyms');
    if (!text) return;
    const km = readHost({ pids: [process.pid], ksyms: true, files: false, vmas: false, sockets: false, routes: false, cgroups: false, slabs: false });
    const want = text.split('\n').slice(0, 1000);
    const s = session(km, dumpKsym);
    const fd = s.open();
    const got: string[] = [];
    for (const l of fd.lines()) {
      got.push(l);
      if (got.length >= 1000) break;
    }
    fd.close();
    s.close();
    expect(got).toEqual(want);
  });

  it('ipv6_route vs /proc/net/ipv6_route', () => {
    const b = before['/proc/net/ipv6_route'];
    if (b === null || b !== after['/proc/net/ipv6_route']) return;
    expect(dump(k, dumpIpv6Route)).toBe(b);
  });

  it('netlink vs /proc/net/netlink: header and every socket line present in both reads', () => {
    const out = dump(k, dumpNetlink);
    const stable = inBoth(before['/proc/net/netlink']!, after['/proc/net/netlink']!);
    expect(lines(out)[0]).toBe(stable[0]);
    const got = new Set(lines(out));
    expect(stable.filter((l) => !got.has(l))).toEqual([]);
  });

  it('unix vs /proc/net/unix: header and every line present in both reads', () => {
    const out = dump(k, dumpUnix);
    const stable = inBoth(before['/proc/net/unix']!, after['/proc/net/unix']!);
    expect(lines(out)[0]).toBe(stable[0]);
    const got = new Set(lines(out));
    expect(stable.filter((l) => !got.has(l))).toEqual([]);
  });

  // tcp/udp: the timer, queue and trailing columns move between reads; the
  // `sl` column is a running index over the whole table (tcp) or the bucket
  // (udp). Stable columns: local/remote address, state, uid, inode.
  const stableCols = (l: string) => {
    const f = l.trim().split(/\s+/);
    return [f[1], f[2], f[3], f[7], f[9]].join(' ');
  };
  const stableSet = (a: string, b: string) => {
    const B = new Set(lines(b).slice(1).map(stableCols));
    return lines(a).slice(1).map(stableCols).filter((x) => B.has(x));
  };

  for (const [proto, fam, file, spec] of [
    ['tcp', 4, '/proc/net/tcp', dumpTcp],
    ['tcp', 6, '/proc/net/tcp6', dumpTcp],
    ['udp', 4, '/proc/net/udp', dumpUdp],
    ['udp', 6, '/proc/net/udp6', dumpUdp],
  ] as const) {
    it(`${proto} family ${fam} vs ${file}`, () => {
      const b = before[file];
      if (b === null || (fam === 6 && !ipv6)) return;
      const out = dump(k, spec, { globals: { family: fam } });
      // the header is byte for byte
      expect(out.split('\n')[0]).toBe(b.split('\n')[0]);
      const want = stableSet(b, after[file]!);
      const got = new Set(lines(out).slice(1).map(stableCols));
      expect(want.filter((x) => !got.has(x))).toEqual([]);
      // our own listening socket is there
      if (proto === 'tcp') {
        const port = (servers[fam === 4 ? 0 : 1]?.address() as net.AddressInfo | undefined)?.port;
        if (port) expect(lines(out).some((l) => l.includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} `) && / 0A /.test(l))).toBe(true);
      }
      // each line keeps the file's exact line length (padding)
      const wantLen = new Set(lines(b).slice(1).map((l) => l.length));
      if (proto === 'tcp' && fam === 4) for (const l of lines(out).slice(1)) expect(wantLen.has(l.length) || l.length === 149).toBe(true);
    });
  }
});
