/**
 * `bpf-iter cat <socket target> --kernel host` against the kernel's own
 * /proc/net files, byte for byte on the sockets the test created (by inode):
 * the header and the own sockets' lines, verbatim and in the file's order,
 * the hash slot included. Other processes' sockets come and go between the
 * reads, so of those only the kernel's line format is checked.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempState } from './helpers.js';

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
/** The inode column of a /proc/net/udp{,6} line. */
const udpIno = (l: string): string => l.trim().split(/\s+/)[9]!;
/** The inode column of a /proc/net/unix line. */
const unixIno = (l: string): string => l.split(/\s+/)[6]!;

/** Binds a UDP socket and resolves with it (port 0: the kernel picks, so the sockets spread over hash slots). */
function bound(type: 'udp4' | 'udp6', addr: string): Promise<UdpSocket | null> {
  return new Promise((res) => {
    const s = createSocket(type);
    s.once('error', () => {
      s.close();
      res(null);
    });
    s.bind(0, addr, () => res(s));
  });
}

/** Inode of a bound dgram socket (its fd is not public): the line of its local port in the file. */
function inoOf(file: string, port: number): string | undefined {
  const local = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  const line = lines(readFileSync(file, 'utf8'))
    .slice(1)
    .find((l) => l.trim().split(/\s+/)[1]!.endsWith(local));
  return line ? udpIno(line) : undefined;
}

/** One line of /proc/net/unix as unix_seq_show prints it ("%pK: %08X %08X %08X %04X %02X %5lu" [path]). */
const UNIX_LINE = /^[0-9a-f]{16}: [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{4} [0-9A-F]{2} {1,5}\d+( .+)?$/;
/** One line of /proc/net/udp{,6} as udp4/udp6_format_sock print it (the fields up to drops). */
const UDP_LINE = /^ *\d+: [0-9A-F]{8,32}:[0-9A-F]{4} [0-9A-F]{8,32}:[0-9A-F]{4} [0-9A-F]{2} [0-9A-F]{8}:[0-9A-F]{8} [0-9A-F]{2}:[0-9A-F]{8} [0-9A-F]{8} +\d+ +\d+ \d+ \d+ [0-9a-f]{16} \d+ *$/;

/**
 * Output `got` against two reads of the file around it. Only the test's own
 * sockets (`mine`, by inode) are compared line for line: every other socket
 * belongs to another process and may appear, change or vanish between the
 * three reads, so of those only the line format is checked. The header is the
 * file's; the own lines are the file's, verbatim and in the file's order.
 */
function expectSameFile(got: string, before: string, after: string, mine: Set<string>, ino: (l: string) => string, shape: RegExp): void {
  const g = lines(got);
  const b = lines(before);
  expect(g[0]).toBe(b[0]);
  const own = (ls: string[]): string[] => ls.slice(1).filter((l) => mine.has(ino(l)));
  expect(own(b)).toHaveLength(mine.size);
  expect(own(lines(after)), 'own sockets moved between the reads').toEqual(own(b));
  expect(own(g)).toEqual(own(b));
  for (const l of b.slice(1)) expect(l, 'the file itself').toMatch(shape);
  for (const l of g.slice(1)) expect(l).toMatch(shape);
}

describe('bpf-iter cat --kernel host: /proc/net byte for byte', () => {
  const socks: UdpSocket[] = [];
  const mine = { 4: new Set<string>(), 6: new Set<string>() };

  beforeAll(async () => {
    for (let i = 0; i < 8; i++) {
      const v4 = await bound('udp4', '127.0.0.1');
      if (v4) socks.push(v4);
      const v6 = await bound('udp6', '::1');
      if (v6) socks.push(v6);
    }
    for (const s of socks) {
      const v6 = s.address().family === 'IPv6';
      const ino = inoOf(v6 ? '/proc/net/udp6' : '/proc/net/udp', s.address().port);
      if (ino) mine[v6 ? 6 : 4].add(ino);
    }
  });
  afterAll(() => {
    for (const s of socks) s.close();
  });

  it('cat unix equals /proc/net/unix (Flags and St derived from sk_state, as unix_seq_show does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-unix-'));
    const path = join(dir, 'listen.sock');
    const accepted: NetSocket[] = [];
    const srv: Server = createServer((c) => accepted.push(c));
    await new Promise<void>((res) => srv.listen(path, res));
    const client = connect(path);
    await new Promise<void>((res) => client.once('connect', res));
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
    try {
      const before = readFileSync('/proc/net/unix', 'utf8');
      const r = await cli(['cat', 'unix', '--kernel', 'host'], tempState().state);
      const after = readFileSync('/proc/net/unix', 'utf8');
      expect(r.code, r.stderr).toBe(0);
      // Own sockets: the listener (Flags 00010000, St 01) by its path, the connected pair (St 03).
      // The accepted socket shows the listener's path too (it shares its address): tell them by Flags and St.
      const named = lines(before).filter((l) => l.endsWith(' ' + path));
      const listener = named.find((l) => / 00010000 0001 01 /.test(l))!;
      expect(listener, named.join('\n')).toBeDefined();
      expect(named.some((l) => / 00000000 0001 03 /.test(l))).toBe(true);
      const own = new Set(named.map(unixIno));
      expectSameFile(r.stdout, before, after, own, unixIno, UNIX_LINE);
      for (const l of named) expect(r.stdout).toContain(l + '\n');
      const connected = lines(r.stdout).filter((l) => / 00000000 0001 03 /.test(l));
      expect(connected.length).toBeGreaterThanOrEqual(2);
    } finally {
      client.destroy();
      for (const c of accepted) c.destroy();
      await new Promise((res) => srv.close(res));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const family of [4, 6] as const) {
    const file = family === 4 ? '/proc/net/udp' : '/proc/net/udp6';
    it(`cat udp --family ${family} equals ${file} (sl is the hash slot)`, async () => {
      // IPv6 may be disabled on the host: then only the (v6-less) file is compared.
      if (family === 4 || socks.some((s) => s.address().family === 'IPv6')) expect(mine[family].size, `own ${file} sockets`).toBe(8);
      const before = readFileSync(file, 'utf8');
      const r = await cli(['cat', 'udp', '--family', String(family), '--kernel', 'host'], tempState().state);
      const after = readFileSync(file, 'utf8');
      expect(r.code, r.stderr).toBe(0);
      expectSameFile(r.stdout, before, after, mine[family], udpIno, UDP_LINE);
      // The own sockets' lines, slot column included, verbatim.
      const own = lines(before).filter((l) => mine[family].has(udpIno(l)));
      expect(own.length).toBe(mine[family].size);
      for (const l of own) expect(r.stdout).toContain(l + '\n');
    });
  }
});
