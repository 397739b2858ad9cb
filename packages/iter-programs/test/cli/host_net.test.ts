/**
 * `bpf-iter cat <socket target> --kernel host` against the kernel's own
 * /proc/net files, byte for byte. The test creates its own sockets; other
 * processes' sockets may come and go between the reads, so the file is read
 * before and after the CLI's snapshot and only lines present in one read but
 * not the other are tolerated. The test's own lines and the header must be
 * identical, and when nothing moved the whole output equals the file.
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

/**
 * Output `got` against two reads of the file around it: same header, every
 * line present in both reads is in the output (in the file's order), every
 * output line is in one of the reads, and `mine` lines are present verbatim.
 */
function expectSameFile(got: string, before: string, after: string, mine: Set<string>, ino: (l: string) => string): void {
  if (before === after) {
    expect(got).toBe(before);
    return;
  }
  const g = lines(got);
  const b = lines(before);
  const a = new Set(lines(after));
  expect(g[0]).toBe(b[0]);
  const either = new Set([...b, ...a]);
  for (const l of g) expect(either.has(l), `line in neither read: ${l}`).toBe(true);
  const stable = b.filter((l) => a.has(l));
  const gs = g.filter((l) => stable.includes(l));
  expect(gs).toEqual(stable);
  for (const l of b) if (mine.has(ino(l))) expect(g, `own socket ${ino(l)}`).toContain(l);
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
      expectSameFile(r.stdout, before, after, own, unixIno);
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
      expectSameFile(r.stdout, before, after, mine[family], udpIno);
      // The own sockets' lines, slot column included, verbatim.
      const own = lines(before).filter((l) => mine[family].has(udpIno(l)));
      expect(own.length).toBe(mine[family].size);
      for (const l of own) expect(r.stdout).toContain(l + '\n');
    });
  }
});
