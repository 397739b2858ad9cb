/** The `ksym`, `kmem_cache` and `ipv6_route` targets (reference §5.9, §5.10, §5.12, §3.6). */
import { describe, expect, it } from 'vitest';
import { Ipv6Route, KmemCache, Kernel, RTF_UP, RTF_GATEWAY } from '@bpf-iter/core';
import { dumpKsym } from '../../src/targets/ksym.js';
import { dumpKmemCache } from '../../src/targets/kmem_cache.js';
import { dumpIpv6Route } from '../../src/targets/ipv6_route.js';
import { drain, recorder, session } from './helpers.js';

describe('ksym target', () => {
  it('the end call passes a non-NULL ksym (§5 item 11)', () => {
    const k = new Kernel();
    k.ksyms.add('_stext', 'T', 0xffffffff81000000n);
    k.ksyms.add('foo', 't', 0xffffffffc0001000n, 'mymod');
    const r = recorder('ksym', (ctx) => [ctx.ksym !== null && ctx.ksym !== undefined, ctx.ksym?.name, ctx.meta.seq_num]);
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[true, '_stext', 0n], [true, 'foo', 1n], [true, '', 1n]]);
    s.close();
  });

  it('kallsyms line format; empty names reach the program but the dumper hides them', () => {
    const k = new Kernel();
    k.ksyms.add('_stext', 'T', 0xffffffff81000000n);
    k.ksyms.add('', 't', 0xffffffff81000010n);
    k.ksyms.add('foo', 't', 0xffffffffc0001000n, 'mymod');
    const s = session(k, dumpKsym);
    expect(s.text()).toBe('ffffffff81000000 T _stext\nffffffffc0001000 t foo\t[mymod]\n');
    s.close();
    const r = recorder('ksym', (ctx) => ctx.ksym.name);
    const t = session(k, r.spec);
    t.text();
    expect(r.calls).toEqual(['_stext', '', 'foo', '']);
    t.close();
  });
});

describe('kmem_cache target', () => {
  it('fdinfo "kmem_cache iter"; caches in list order then the end call', () => {
    const k = new Kernel();
    k.addKmemCache(new KmemCache('kmalloc-64', 64, 64, 8, 100, 128, 64, 1));
    k.addKmemCache(new KmemCache('dentry', 192, 192, 8, 21, 42, 21, 1));
    const r = recorder('kmem_cache', (ctx) => ctx.s?.name ?? null);
    const s = session(k, r.spec);
    expect(s.link.fdinfo().endsWith('target_name:\tkmem_cache\nkmem_cache iter\n')).toBe(true);
    s.text();
    expect(r.calls).toEqual(['kmalloc-64', 'dentry', null]);
    s.close();
    const d = session(k, dumpKmemCache);
    expect(d.text().split('\n')[1]).toBe('kmalloc-64           100    128     64   64    1');
    d.close();
  });
});

describe('kmem_cache target: resume by position (kmem_cache_iter_seq_start walks *pos entries)', () => {
  const caches = (k: Kernel, names: string[]) => names.map((n) => k.addKmemCache(new KmemCache(n, 64, 64, 8, 1, 1, 1, 1)));
  const name = (line: string) => line.split(/\s+/)[0];

  it('1-byte reads (a pause after every line) show every cache once, in list order', () => {
    const k = new Kernel();
    const names = Array.from({ length: 40 }, (_, i) => `c${i}`);
    caches(k, names);
    const s = session(k, dumpKmemCache);
    const fd = s.open();
    const lines = drain(fd, 1).toString().split('\n').slice(1, -1);
    fd.close();
    s.close();
    expect(lines.map(name)).toEqual(names);
  });

  it('a cache destroyed before the position between reads makes the walk skip one entry (positions count live caches), never repeat', () => {
    const k = new Kernel();
    const cs = caches(k, ['a', 'b', 'c', 'd', 'e']);
    const s = session(k, dumpKmemCache);
    const fd = s.open();
    const first = fd.read(4096).toString();
    expect(first.split('\n').slice(1, -1).map(name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    fd.close();
    // A fresh read in 1-byte reads: destroy 'a' once the line of 'b' has been read.
    const g = s.open();
    let text = '';
    for (let b = g.read(1); b.length; b = g.read(1)) {
      text += b.toString();
      if (!cs[0]!.dead && /\nb .*\n$/.test(text)) k.destroyKmemCache(cs[0]!);
    }
    g.close();
    s.close();
    expect(cs[0]!.dead).toBe(true);
    const names = text.split('\n').slice(1, -1).map(name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.slice(0, 2)).toEqual(['a', 'b']);
    // Resumed at position 2 of [b, c, d, e]: at most c is skipped.
    expect(names.slice(-2)).toEqual(['d', 'e']);
    expect(names).toContain('e');
  });
});

describe('ipv6_route target', () => {
  it('/proc/net/ipv6_route lines; end call rt NULL; no header token (seq_num 0 when empty)', () => {
    const k = new Kernel();
    const dst = Uint8Array.from([0xfe, 0x80, ...new Array(14).fill(0)]);
    const gw = Uint8Array.from([0xfe, 0x80, ...new Array(13).fill(0), 1]);
    const z = new Uint8Array(16);
    k.addRoute(new Ipv6Route(dst, 64, z, 0, z, 256, 1, 0, RTF_UP, 'eth0'));
    k.addRoute(new Ipv6Route(z, 0, z, 0, gw, 1024, 2, 5, RTF_UP | RTF_GATEWAY, 'lo'));
    const s = session(k, dumpIpv6Route);
    expect(s.text()).toBe(
      'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n' +
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000005 00000003       lo\n',
    );
    s.close();
    const e = new Kernel();
    const r = recorder('ipv6_route', (ctx) => [ctx.rt, ctx.meta.seq_num]);
    const t = session(e, r.spec);
    t.text();
    expect(r.calls).toEqual([[null, 0n]]);
    t.close();
  });
});
