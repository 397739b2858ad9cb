/**
 * A dump over a replayed snapshot is byte-identical to the dump over the
 * kernel it was saved from, for every target (text and JSON dumpers, every
 * map and cgroup order): synthetic seeds, a version 1 file, and this host
 * (one in-memory kernel, saved and dumped, so nothing races with the live
 * machine: readHost's frozen model, and openHost's lazy one, which holds
 * what the save read).
 */
import { closeSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_SK_STORAGE,
  BPF_MAP_TYPE_SOCKHASH,
  BPF_MAP_TYPE_SOCKMAP,
  BPF_MAP_TYPE_TASK_STORAGE,
  AF_INET,
  AF_INET6,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  loadKernel,
  loadKernelSync,
  openHost,
  readHost,
  Socket,
  saveKernel,
  syntheticKernel,
  type Kernel,
} from '@bpf-iter/core';
import '../../src/targets/index.js';
import { dumpTargets } from './dumps.js';
import { LOOPBACK6, mkSock } from '../targets/helpers.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

/**
 * A synthetic kernel with what the synthetic source does not make: sockmaps,
 * a sockhash, socket and task storage, a zombie, a thread with its own fd
 * table, a nested pid namespace, a dying cgroup, a task parented by a later
 * one, unknown vm_pgoff / vm_flags bits.
 */
function edgeKernel(): Kernel {
  const k = syntheticKernel({ seed: 11, processes: 24 });
  const init = k.task(1);
  const socks = [0, 1, 2].map((i) =>
    k.addSocket(mkSock(k, 'tcp', { family: i ? AF_INET6 : AF_INET, state: i === 2 ? TCP_LISTEN : TCP_ESTABLISHED, saddr: i ? LOOPBACK6 : undefined, sport: 40000 + i, dport: 443 })),
  );
  const sm = k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, name: 'sm', key_size: 4, value_size: 8, max_entries: 4 });
  sm.sockUpdate(u32(2), socks[0]!);
  sm.sockUpdate(u32(3), socks[2]!);
  const sh = k.createMap({ map_type: BPF_MAP_TYPE_SOCKHASH, name: 'sh', key_size: 4, value_size: 8, max_entries: 8 });
  socks.forEach((sk, i) => sh.sockUpdate(u32(100 + i), sk));
  const ss = k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, name: 'ss', key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
  socks.forEach((sk, i) => ss.storageCreate(sk, u32(i + 7)));
  const ts = k.createMap({ map_type: BPF_MAP_TYPE_TASK_STORAGE, name: 'ts', key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
  ts.storageCreate(init, u32(5));
  const a = k.fork(init, { comm: 'zombie' });
  k.exit(a, { zombie: true });
  const b = k.fork(init, { comm: 'nsinit', newPidNs: true });
  const c = k.fork(b, { comm: 'nschild' });
  k.clone(c, { comm: 'private-fd', privateFiles: true });
  const later = k.fork(init, { comm: 'adopter' });
  b.real_parent = later;
  const cg = k.mkdirCgroup(k.cgroupRoot, 'dying');
  const held = cg.get();
  k.rmdirCgroup(cg);
  void held;
  k.mmap(init, { length: 8192, name: '[anon:x]' });
  const mm = init.mm!;
  const rows = mm.vmas().map((v, i) => (i === 0 ? { ...v, vm_pgoff: null, vm_flags_unknown: 0x100000 } : v));
  mm.setVmas(rows);
  return k;
}

const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function replay(k: Kernel, name: string): Promise<Kernel> {
  const file = join(dir, `${name}.snap`);
  await saveKernel(k, file);
  return loadKernel(file);
}

function expectSameDumps(a: Kernel, b: Kernel): void {
  const da = dumpTargets(a);
  const db = dumpTargets(b);
  expect([...db.keys()]).toEqual([...da.keys()]);
  for (const [key, text] of da) expect(db.get(key), key).toBe(text);
}

describe('snapshot replay: every target dumps the same bytes', () => {
  for (const seed of [1, 7, 42]) {
    it(`synthetic:${seed}`, async () => {
      const k = syntheticKernel({ seed });
      const r = await replay(k, `syn${seed}`);
      expect(r.taskCount).toBe(k.taskCount);
      expectSameDumps(k, r);
    });
  }

  it('sockmaps, storage, zombies, namespaces, a dying cgroup, unknown fields', async () => {
    const k = edgeKernel();
    expectSameDumps(k, await replay(k, 'edge'));
  });

  it('the synchronous loader builds the same kernel', async () => {
    const k = syntheticKernel({ seed: 3 });
    const file = join(dir, 'sync.snap');
    await saveKernel(k, file);
    expectSameDumps(await loadKernel(file), loadKernelSync(file));
  });

  it('a version 1 file dumps what it dumps once saved again in the current version', async () => {
    const v1 = await loadKernel(fileURLToPath(new URL('../../../core/test/snapshot_v1.snap', import.meta.url)));
    expectSameDumps(v1, await replay(v1, 'v1-again'));
  });

  it('this host, lazily (openHost: the save reads every table and address space, and the kernel keeps what it read)', async () => {
    // Objects this process owns: a file and a listening socket, open across the save.
    const path = join(realpathSync(dir), 'held.txt');
    writeFileSync(path, 'x');
    const fd = openSync(path, 'r');
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const k = openHost();
      const r = await replay(k, 'lazy');
      expect(r.source).toBe('host');
      expectSameDumps(k, r);
      const mine = r.task(process.pid).files!.fd;
      expect(mine[fd]!.path).toBe(path);
      const port = (server.address() as AddressInfo).port;
      const listening = r.sockets('tcp').find((sk) => sk.skc_num === port)!;
      expect(listening).toBeDefined();
      expect(mine.some((f) => f?.private_data instanceof Socket && f.private_data === listening)).toBe(true);
    } finally {
      closeSync(fd);
      await new Promise((res) => server.close(res));
    }
  }, 300_000);

  it('this host (readHost: one in-memory kernel saved and dumped)', async () => {
    const k = readHost();
    const r = await replay(k, 'host');
    expect(r.source).toBe('host');
    expectSameDumps(k, r);
  });
});
