/**
 * Shared fixture of the bpf-source and conformance tests: objects that
 * cannot move while both reads run (a python child with an mmap'ed file and
 * one socket of each kind, temp files and sockets of this process, a worker
 * thread), the availability check with its reason, and a runner for SDK
 * programs over a model.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { bpfAvailable, buildBpfPrograms, cgroup2MountPoint, type BpfAvailability, type Kernel } from '@bpf-iter/core';
import { attachIter, bpf_iter_new_session, loadProgram, SEC, type BpfIterLinkInfoInit } from '@bpf-iter/iter-programs';

/** Availability, printed once per file when the suite skips (never a silent pass). */
export function availability(suite: string): BpfAvailability {
  const a = bpfAvailable();
  if (!a.ok) console.warn(`${suite}: SKIPPED on this host — ${a.errno}: ${a.reason}`);
  return a;
}

/** The suite title, carrying the skip reason when there is one. */
export function suiteTitle(name: string, a: BpfAvailability): string {
  return a.ok ? name : `${name} [skipped: ${a.errno} ${a.reason}]`;
}

/** What the child reports: its pid and the identities of its objects. */
export interface ChildInfo {
  pid: number;
  mapped: { path: string; ino: number; dev: number; pgoff: number; length: number };
  fileFd: number;
  tcp: { fd: number; ino: number; port: number };
  udp: { fd: number; ino: number; port: number };
  unix: { fd: number; ino: number };
  netlink: { fd: number; ino: number; portid: number };
}

const CHILD = String.raw`
import json, mmap, os, socket, sys
d = sys.argv[1]
p = os.path.join(d, 'mapped.bin')
f = open(p, 'w+b'); f.write(b'x' * 4 * 4096); f.flush()
m = mmap.mmap(f.fileno(), 2 * 4096, offset=4096)
t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); x.bind(os.path.join(d, 'child.sock')); x.listen()
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0))
ino = lambda s: os.fstat(s.fileno()).st_ino
st = os.fstat(f.fileno())
print(json.dumps({'pid': os.getpid(),
  'mapped': {'path': p, 'ino': st.st_ino, 'dev': st.st_dev, 'pgoff': 1, 'length': 2 * 4096}, 'fileFd': f.fileno(),
  'tcp': {'fd': t.fileno(), 'ino': ino(t), 'port': t.getsockname()[1]},
  'udp': {'fd': u.fileno(), 'ino': ino(u), 'port': u.getsockname()[1]},
  'unix': {'fd': x.fileno(), 'ino': ino(x)},
  'netlink': {'fd': n.fileno(), 'ino': ino(n), 'portid': n.getsockname()[0]}}), flush=True)
sys.stdin.read()
`;

/** Objects of this process. */
export interface SelfObjects {
  files: { fd: number; ino: number; path: string }[];
  tcpPort: number;
  udpPort: number;
  unixPath: string;
}

/** The fixture: start with {@link startFixture}, stop with `stop()`. */
export interface Fixture {
  dir: string;
  child: ChildInfo;
  self: SelfObjects;
  /** cgroup v2 directories the fixture made (a parent and its child), relative to the cgroup2 mount; [] where it cannot. */
  cgroups: string[];
  /** A pinned iterator (`bpftool iter pin`) that keeps one program, its link and its maps alive; null without BPF. */
  pin: { path: string; progIds: number[]; linkIds: number[]; mapIds: number[] } | null;
  stop(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-conf-'));
  const proc: ChildProcess = spawn('python3', ['-c', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const child = await new Promise<ChildInfo>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as ChildInfo);
    });
    proc.on('error', reject);
    proc.on('exit', (c) => reject(new Error(`python child exited with ${c} before reporting`)));
  });
  const files: SelfObjects['files'] = [];
  for (const name of ['a.txt', 'b.txt']) {
    const path = join(dir, name);
    const fd = openSync(path, 'w+');
    writeSync(fd, name);
    files.push({ fd, ino: fstatSync(fd).ino, path });
  }
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const udp: UdpSocket = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const unixPath = join(dir, 'self.sock');
  const unixServer: Server = createServer();
  await new Promise<void>((r) => unixServer.listen(unixPath, r));
  // A worker thread: one more thread of this process that must show up on both sides.
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise<void>((r) => worker.once('online', () => r()));
  const addr = server.address();
  const pin = pinIterator();
  const cg = makeCgroups(`bpf-iter-fixture-${process.pid}`);
  return {
    dir,
    child,
    self: { files, tcpPort: typeof addr === 'object' && addr ? addr.port : 0, udpPort: udp.address().port, unixPath },
    pin,
    cgroups: cg.made,
    async stop() {
      if (pin) rmSync(pin.path, { force: true });
      cg.remove();
      proc.stdin!.end();
      proc.kill();
      await worker.terminate();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => unixServer.close(() => r()));
      udp.close();
      for (const f of files) closeSync(f.fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A parent and a child cgroup under the cgroup2 mount (so the cgroup walk has levels and names), removed at stop. */
function makeCgroups(name: string): { made: string[]; remove(): void } {
  const mount = cgroup2MountPoint();
  const made: string[] = [];
  if (mount)
    for (const rel of [name, `${name}/child`]) {
      try {
        mkdirSync(join(mount, rel));
        made.push(rel);
      } catch {
        break; // no cgroup2 write access here: the walk keeps what the machine has
      }
    }
  return {
    made,
    remove: () => {
      for (const rel of [...made].reverse()) rmdirSync(join(mount!, rel));
    },
  };
}

/**
 * Pins a small iterator program (bpf/text_task_file.bpf.o) for the length of
 * the fixture, so some BPF program, link and map ids hold still while the
 * machine's other BPF objects come and go; their ids from bpftool's JSON.
 */
function pinIterator(): Fixture['pin'] {
  if (!bpfAvailable().ok) return null;
  const obj = join(buildBpfPrograms(), 'text_task_file.bpf.o');
  const path = `/sys/fs/bpf/bpf-iter-fixture-${process.pid}`;
  const env = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  execFileSync('bpftool', ['iter', 'pin', obj, path], { env, stdio: 'pipe' });
  const show = (...args: string[]): any => JSON.parse(execFileSync('bpftool', [...args, '--json'], { env, encoding: 'utf8' }));
  const link = show('link', 'show', 'pinned', path) as { id: number; prog_id: number };
  const prog = show('prog', 'show', 'id', String(link.prog_id)) as { id: number; map_ids?: number[] };
  return { path, progIds: [prog.id], linkIds: [link.id], mapIds: prog.map_ids ?? [] };
}

/**
 * Runs an SDK iterator program over `kernel` and returns its output lines:
 * `loadProgram(SEC(sec, fn), { kernel })` + `attachIter(..., { kernel, linkInfo })`.
 */
export function sdkLines(kernel: Kernel, sec: string, fn: (ctx: any) => number, linkInfo?: BpfIterLinkInfoInit): string[] {
  const prog = loadProgram(SEC(sec, fn), { kernel });
  const link = attachIter(prog, linkInfo ? { kernel, linkInfo } : { kernel });
  const it = bpf_iter_new_session(link);
  try {
    return it.readText().split('\n').filter(Boolean);
  } finally {
    it.close();
    link.close();
    prog.put();
  }
}

/** Wall time of `fn` in ms, and its result. */
export function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

/** statSync that tolerates absence. */
export const inoOf = (p: string): number => statSync(p).ino;
