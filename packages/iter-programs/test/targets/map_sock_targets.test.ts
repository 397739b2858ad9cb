/**
 * The `sockmap` and `bpf_sk_storage_map` targets (reference §3.3, §5.3, §5.4) and the
 * sk_storage helpers, with ports of the selftests bpf_iter_sockmap (copy) and
 * bpf_iter_bpf_sk_storage_map / bpf_sk_storage_del.
 */
import { describe, expect, it } from 'vitest';
import {
  AF_INET6,
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_SK_STORAGE,
  BPF_MAP_TYPE_SOCKHASH,
  BPF_MAP_TYPE_SOCKMAP,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  withKernel,
  type BpfMap,
  type Kernel,
  type Socket,
} from '@bpf-iter/core';
import { BPF_SK_STORAGE_GET_F_CREATE, bpf_map_delete_elem, bpf_map_update_elem, bpf_sk_storage_delete, bpf_sk_storage_get, fdTable, SEC } from '../../src/internal.js';
import { mapFd, pidfd_open } from '../../src/fds.js';
import { errOf, LOOPBACK6, mkSock, recorder, session, smallKernel } from './helpers.js';

const u32 = (n: number) => Uint8Array.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
const rd32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

/** A session on a map target with the map given by fd. */
function onMap(k: Kernel, map: BpfMap, spec: Parameters<typeof session>[1]) {
  const fd = mapFd(map);
  try {
    return session(k, spec, { linkInfo: { map: { map_fd: fd } } });
  } finally {
    fdTable.close(fd);
  }
}

function tcpSocks(k: Kernel, n: number): Socket[] {
  return Array.from({ length: n }, (_, i) => k.addSocket(mkSock(k, 'tcp', { family: AF_INET6, state: TCP_ESTABLISHED, saddr: LOOPBACK6, daddr: LOOPBACK6, sport: 30000 + i, dport: 80 })));
}

describe.each(['sockmap', 'bpf_sk_storage_map'] as const)('%s target: link validation (§3.3)', (target) => {
  const r = recorder(target, () => 0);
  it('no map fd → EBADF; a closed fd → EBADF; an fd that is not a map → EINVAL; another map type → EINVAL', () => {
    const { k } = smallKernel();
    expect(errOf(() => session(k, r.spec))).toBe('EBADF');
    expect(errOf(() => session(k, r.spec, { linkInfo: { map: { map_fd: 99999 } } }))).toBe('EBADF');
    const pfd = withKernel(k, () => pidfd_open(1));
    expect(errOf(() => session(k, r.spec, { linkInfo: { map: { map_fd: pfd } } }))).toBe('EINVAL');
    fdTable.close(pfd);
    const hash = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 4 });
    expect(errOf(() => onMap(k, hash, r.spec))).toBe('EINVAL');
    const other = target === 'sockmap' ? k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC }) : k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, key_size: 4, value_size: 8, max_entries: 4 });
    expect(errOf(() => onMap(k, other, r.spec))).toBe('EINVAL');
  });

  it("fdinfo map_id and link info; a program reaching past the map's key/value → EACCES", () => {
    const { k } = smallKernel();
    const m = target === 'sockmap' ? k.createMap({ map_type: BPF_MAP_TYPE_SOCKHASH, key_size: 4, value_size: 8, max_entries: 4 }) : k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
    const s = onMap(k, m, r.spec);
    expect(s.link.fdinfo().endsWith(`target_name:\t${target}\nmap_id:\t${m.id}\n`)).toBe(true);
    expect(s.link.info().iter.map.map_id).toBe(m.id);
    s.close();
    const access = target === 'sockmap' ? { key: 8 } : { value: 8 };
    expect(errOf(() => onMap(k, m, SEC(`iter/${target}`, () => 0, { access })))).toBe('EACCES');
    // Reaching exactly to the end is fine.
    onMap(k, m, SEC(`iter/${target}`, () => 0, { access: target === 'sockmap' ? { key: 4 } : { value: 4 } })).close();
  });
});

describe('sockmap target (§5.4)', () => {
  it('port of bpf_iter_sockmap copy: a SOCKMAP visits every slot (sk NULL for empty ones), the program copies the sockets to dst', () => {
    const { k } = smallKernel();
    const src = k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, key_size: 4, value_size: 8, max_entries: 8 });
    const dst = k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, key_size: 4, value_size: 8, max_entries: 8 });
    const socks = tcpSocks(k, 7);
    socks.forEach((sk, i) => src.sockUpdate(u32(i), sk));
    const bss = { elems: 0, socks: 0, ends: 0 };
    const copy = SEC('iter/sockmap', function copy(ctx: any) {
      const key: Uint8Array | null = ctx.key;
      if (!key) return (bss.ends++, 0);
      bss.elems++;
      const tmp = rd32(key);
      if (ctx.sk) {
        bss.socks++;
        return bpf_map_update_elem(dst, tmp, ctx.sk, 0) !== 0 ? 1 : 0;
      }
      const ret = bpf_map_delete_elem(dst, tmp);
      return ret && ret !== -22 ? 1 : 0; // an empty SOCKMAP slot deletes with -EINVAL
    }, { access: { key: 4 } });
    const s = onMap(k, src, copy);
    s.text(undefined, 8);
    s.close();
    expect(bss).toEqual({ elems: 8, socks: 7, ends: 1 });
    for (let i = 0; i < 8; i++) expect(dst.sockLookup(u32(i))).toBe(src.sockLookup(u32(i)));
  });

  it('SOCKHASH: every element once, key and sk set; a closed socket leaves the map', () => {
    const { k } = smallKernel();
    const h = k.createMap({ map_type: BPF_MAP_TYPE_SOCKHASH, key_size: 4, value_size: 8, max_entries: 16 });
    const socks = tcpSocks(k, 5);
    socks.forEach((sk, i) => h.sockUpdate(u32(100 + i), sk));
    k.closeSocket(socks[2]!);
    const r = recorder('sockmap', (ctx) => (ctx.key ? [rd32(ctx.key), ctx.sk?.ino] : null));
    const s = onMap(k, h, r.spec);
    s.text();
    s.close();
    const seen = r.calls.filter((c) => c !== null) as [number, number][];
    expect(seen.map((c) => c[0]).sort()).toEqual([100, 101, 103, 104]);
    expect(seen.every(([key, ino]) => socks[key - 100]!.ino === ino)).toBe(true);
    expect(r.calls.at(-1)).toBeNull();
  });

  it('map updates from a program follow the kernel: -EOPNOTSUPP for a socket a sockmap cannot hold, -E2BIG past the end, NOEXIST -EEXIST', () => {
    const { k } = smallKernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, key_size: 4, value_size: 8, max_entries: 2 });
    const [a] = tcpSocks(k, 1);
    const closing = k.addSocket(mkSock(k, 'tcp', { state: 8 /* CLOSE_WAIT */, sport: 7 }));
    const nl = k.addSocket(mkSock(k, 'netlink'));
    const listen = k.addSocket(mkSock(k, 'tcp', { state: TCP_LISTEN, sport: 9 }));
    m.sockUpdate(u32(0), a!);
    const rets: number[] = [];
    const s = onMap(k, m, SEC('iter/sockmap', (ctx: any) => {
      if (ctx.key) return 0;
      rets.push(bpf_map_update_elem(m, 1, closing), bpf_map_update_elem(m, 1, nl), bpf_map_update_elem(m, 2, listen), bpf_map_update_elem(m, 0, listen, 1), bpf_map_update_elem(m, 1, listen, 2), bpf_map_update_elem(m, 1, listen, 1));
      return 0;
    }));
    s.text();
    s.close();
    expect(rets).toEqual([-95, -95, -7, -17, -2, 0]);
  });
});

describe('bpf_sk_storage_map target (§5.3)', () => {
  function storageKernel() {
    const { k } = smallKernel();
    const map = k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
    const socks = tcpSocks(k, 3);
    socks.forEach((sk, i) => map.storageCreate(sk, u32(i + 1)));
    return { k, map, socks };
  }

  it('port of bpf_iter_bpf_sk_storage_map: three sockets with 1,2,3 → 3 sockets, sum 6; the program adds to each value and user space reads it back', () => {
    const { k, map, socks } = storageKernel();
    const bss = { ipv6_sk_count: 0, val_sum: 0, to_add_val: 10 };
    const rw = SEC('iter/bpf_sk_storage_map', function rw_bpf_sk_storage_map(ctx: any) {
      const sk: Socket | null = ctx.sk;
      const val: Uint8Array | null = ctx.value;
      if (!sk || !val) return 0;
      if (sk.skc_family === AF_INET6) bss.ipv6_sk_count++;
      const dv = new DataView(val.buffer, val.byteOffset, 4);
      bss.val_sum += dv.getUint32(0, true);
      dv.setUint32(0, dv.getUint32(0, true) + bss.to_add_val, true);
      return 0;
    }, { access: { value: 4 } });
    const s = onMap(k, map, rw);
    s.text();
    s.close();
    expect(bss).toMatchObject({ ipv6_sk_count: 3, val_sum: 6 });
    expect(socks.map((sk) => rd32(map.storageLookup(sk)))).toEqual([11, 12, 13]);
  });

  it('port of bpf_sk_storage_del: a program deleting each storage during the iteration; later lookups fail ENOENT, the walk still sees every socket', () => {
    const { k, map, socks } = storageKernel();
    const rets: number[] = [];
    const seen: number[] = [];
    const del = SEC('iter/bpf_sk_storage_map', function delete_bpf_sk_storage_map(ctx: any) {
      if (ctx.sk) {
        seen.push(ctx.sk.ino);
        rets.push(bpf_sk_storage_delete(map, ctx.sk));
      }
      return 0;
    }, { helpers: ['bpf_sk_storage_delete'] });
    const s = onMap(k, map, del);
    s.text();
    s.close();
    expect(rets).toEqual([0, 0, 0]);
    expect(seen).toEqual(socks.map((x) => x.ino));
    for (const sk of socks) expect(errOf(() => map.storageLookup(sk))).toBe('ENOENT');
  });

  it('bpf_sk_storage_get: existing value, F_CREATE (zeroed or from value), null without it, bad flags, non-full sockets; delete -ENOENT / -EINVAL', () => {
    const { k, map, socks } = storageKernel();
    const fresh = tcpSocks(k, 2);
    const tw = k.addSocket(mkSock(k, 'tcp', { state: 6 /* TIME_WAIT */, sport: 5 }));
    const r: unknown[] = [];
    const s = session(k, SEC('iter/tcp', (ctx: any) => {
      if (ctx.sk_common) return 0;
      const v = (x: Uint8Array | null) => (x ? rd32(x) : null);
      r.push(
        v(bpf_sk_storage_get(map, socks[1]!, null, 0)),
        v(bpf_sk_storage_get(map, fresh[0]!, null, 0)),
        v(bpf_sk_storage_get(map, fresh[0]!, u32(42), BPF_SK_STORAGE_GET_F_CREATE)),
        v(bpf_sk_storage_get(map, fresh[1]!, null, BPF_SK_STORAGE_GET_F_CREATE)),
        v(bpf_sk_storage_get(map, fresh[1]!, null, 2)),
        v(bpf_sk_storage_get(map, tw, null, BPF_SK_STORAGE_GET_F_CREATE)),
        v(bpf_sk_storage_get(map, null, null, BPF_SK_STORAGE_GET_F_CREATE)),
        bpf_sk_storage_delete(map, fresh[0]!),
        bpf_sk_storage_delete(map, fresh[0]!),
        bpf_sk_storage_delete(map, tw),
      );
      return 0;
    }));
    s.text();
    s.close();
    expect(r).toEqual([2, null, 42, 0, null, null, null, 0, -2, -22]);
    // A wrong map type is what the verifier rejects.
    const arr = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 1 });
    expect(errOf(() => bpf_sk_storage_get(arr, socks[0]!, null, 0))).toBe('EINVAL');
  });

  it("a closed socket's storage is freed with it", () => {
    const { k, map, socks } = storageKernel();
    k.closeSocket(socks[0]!);
    const r = recorder('bpf_sk_storage_map', (ctx) => ctx.sk?.ino ?? null);
    const s = onMap(k, map, r.spec);
    s.text();
    s.close();
    expect(r.calls).toEqual([socks[1]!.ino, socks[2]!.ino, null]);
  });
});

describe('map targets over a map whose elements the model does not know (bpf source)', () => {
  it.each(['sockmap', 'bpf_sk_storage_map'] as const)('%s: the iterator fails EOPNOTSUPP instead of walking nothing', (target) => {
    const { k } = smallKernel();
    const m = target === 'sockmap' ? k.createMap({ map_type: BPF_MAP_TYPE_SOCKMAP, key_size: 4, value_size: 8, max_entries: 2 }) : k.createMap({ map_type: BPF_MAP_TYPE_SK_STORAGE, key_size: 4, value_size: 4, max_entries: 0, map_flags: BPF_F_NO_PREALLOC });
    m.contentsKnown = false;
    const s = onMap(k, m, recorder(target, () => 0).spec);
    expect(errOf(() => s.open())).toBe('EOPNOTSUPP');
    s.close();
  });
});
