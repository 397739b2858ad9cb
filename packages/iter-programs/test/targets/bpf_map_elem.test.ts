/** The `bpf_map_elem` target (reference §3.3, §3.8, §5.2, §3 items 4 and 11, §5 items 2-4). */
import { describe, expect, it } from 'vitest';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_RINGBUF, Kernel, withKernel } from '@bpf-iter/core';
import { fdTable } from '../../src/internal.js';
import { mapFd, pidfd_open } from '../../src/fds.js';
import { errOf, recorder, session, smallKernel } from './helpers.js';

const u32 = (n: number) => Uint8Array.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
const rd32 = (b: Uint8Array, off = 0) => new DataView(b.buffer, b.byteOffset + off, 4).getUint32(0, true);

describe('bpf_map_elem target: attach', () => {
  const r = recorder('bpf_map_elem', () => 0);

  it('no link info (map_fd 0) → EBADF; closed fd → EBADF', () => {
    const k = new Kernel();
    expect(errOf(() => session(k, r.spec))).toBe('EBADF');
    expect(errOf(() => session(k, r.spec, { linkInfo: { map: { map_fd: 99999 } } }))).toBe('EBADF');
  });

  it('an fd that is not a map (a pidfd) → EINVAL', () => {
    const { k } = smallKernel();
    const pfd = withKernel(k, () => pidfd_open(1));
    expect(errOf(() => session(k, r.spec, { linkInfo: { map: { map_fd: pfd } } }))).toBe('EINVAL');
    fdTable.close(pfd);
  });

  it('an unsupported map type (RINGBUF) → EINVAL', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_RINGBUF, key_size: 0, value_size: 1, max_entries: 4096 });
    const fd = mapFd(m);
    expect(errOf(() => session(k, r.spec, { linkInfo: { map: { map_fd: fd } } }))).toBe('EINVAL');
    fdTable.close(fd);
  });

  it('fdinfo shows map_id, link info map.map_id', () => {
    const k = new Kernel();
    k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 4 });
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 4 });
    const fd = mapFd(m);
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    expect(s.link.fdinfo().endsWith(`target_name:\tbpf_map_elem\nmap_id:\t${m.id}\n`)).toBe(true);
    expect(m.id).toBe(2);
    expect(s.link.info().iter.map.map_id).toBe(m.id);
    s.close();
    fdTable.close(fd);
  });
});

describe('bpf_map_elem target: iteration', () => {
  it('array of 4: keys 0..3, then the end call with key and value NULL and map set', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 8, max_entries: 4 });
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', (ctx) => [ctx.map === m, ctx.key ? rd32(ctx.key) : null, ctx.value ? ctx.value.length : null, ctx.meta.seq_num]);
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    s.text();
    expect(r.calls).toEqual([[true, 0, 8, 0n], [true, 1, 8, 1n], [true, 2, 8, 2n], [true, 3, 8, 3n], [true, null, null, 3n]]);
    s.close();
    fdTable.close(fd);
  });

  it('writes through value in an ARRAY change the map; the key is a copy', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 4 });
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', () => 0, (ctx) => {
      if (ctx.key && ctx.value) {
        ctx.value.set(u32(rd32(ctx.key) * 10 + 1));
        ctx.key[0] = 0xee;
      }
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    s.text();
    for (let i = 0; i < 4; i++) expect(rd32(m.lookup(u32(i)))).toBe(i * 10 + 1);
    s.close();
    fdTable.close(fd);
  });

  it('PERCPU_ARRAY: value is nrCpus * round_up(value_size, 8) bytes, CPU i at 8*i; writes do not propagate', () => {
    const k = new Kernel({ nrCpus: 4 });
    const m = k.createMap({ map_type: BPF_MAP_TYPE_PERCPU_ARRAY, key_size: 4, value_size: 4, max_entries: 2 });
    const all = new Uint8Array(32);
    for (let cpu = 0; cpu < 4; cpu++) all.set(u32(100 + cpu), 8 * cpu);
    m.update(u32(1), all);
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', (ctx) => (ctx.value ? [ctx.value.length, [0, 1, 2, 3].map((c) => rd32(ctx.value, 8 * c))] : 'end'), (ctx) => {
      if (ctx.value) ctx.value.fill(0xff);
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    s.text();
    expect(r.calls).toEqual([[32, [0, 0, 0, 0]], [32, [100, 101, 102, 103]], 'end']);
    expect([0, 1, 2, 3].map((c) => rd32(m.lookup(u32(1)), 8 * c))).toEqual([100, 101, 102, 103]);
    expect(rd32(m.lookup(u32(0)))).toBe(0);
    s.close();
    fdTable.close(fd);
  });

  it('PERCPU_HASH value_size 4 on 8 CPUs: a 64-byte value, CPU i at offset 8*i (§5 item 4)', () => {
    const k = new Kernel({ nrCpus: 8 });
    const m = k.createMap({ map_type: BPF_MAP_TYPE_PERCPU_HASH, key_size: 4, value_size: 4, max_entries: 4 });
    const all = new Uint8Array(64);
    for (let cpu = 0; cpu < 8; cpu++) all.set(u32(cpu * 3), 8 * cpu);
    m.update(u32(7), all);
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', (ctx) => (ctx.value ? [rd32(ctx.key), ctx.value.length, Array.from({ length: 8 }, (_, c) => rd32(ctx.value, 8 * c))] : 'end'));
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    s.text();
    expect(r.calls).toEqual([[7, 64, [0, 3, 6, 9, 12, 15, 18, 21]], 'end']);
    s.close();
    fdTable.close(fd);
  });

  it('HASH: every element once; writes through value change the map', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 16 });
    for (let i = 0; i < 10; i++) m.update(u32(i), u32(i));
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', (ctx) => (ctx.key ? rd32(ctx.key) : 'end'), (ctx) => {
      if (ctx.value) ctx.value.set(u32(rd32(ctx.value) + 1000));
      return 0;
    });
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    s.text();
    expect(r.calls.slice(0, -1).sort((a: any, b: any) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.calls.at(-1)).toBe('end');
    for (let i = 0; i < 10; i++) expect(rd32(m.lookup(u32(i)))).toBe(i + 1000);
    s.close();
    fdTable.close(fd);
  });

  it('closing the link and the map fd after creating the iterator fd still reads to EOF (§3 item 11)', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 3 });
    const fd = mapFd(m);
    const r = recorder('bpf_map_elem', (ctx) => (ctx.key ? rd32(ctx.key) : ctx.map.id));
    const s = session(k, r.spec, { linkInfo: { map: { map_fd: fd } } });
    const it = s.open();
    s.close();
    fdTable.close(fd);
    expect(it.readAll().length).toBe(0);
    it.close();
    expect(r.calls).toEqual([0, 1, 2, m.id]);
  });
});
