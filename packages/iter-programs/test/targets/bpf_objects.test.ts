/** The `bpf_map`, `bpf_prog`, `bpf_link` targets (reference §5.1). */
import { describe, expect, it } from 'vitest';
import { BpfLink, BpfProg, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_PROG_TYPE_TRACING, Kernel } from '@bpf-iter/core';
import { BPF_SEQ_PRINTF } from '../../src/index.js';
import { dumpBpfMap } from '../../src/targets/bpf_map.js';
import { drain, recorder, session } from './helpers.js';

const spec = { map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 4, max_entries: 8 };

describe('bpf_map target', () => {
  it('lists maps in strictly increasing id order; removed maps are skipped', () => {
    const k = new Kernel();
    const maps = [0, 1, 2, 3].map((i) => k.createMap({ ...spec, name: `m${i}` }));
    k.destroyMap(maps[1]!);
    const r = recorder('bpf_map', (ctx) => (ctx.map ? [ctx.map.id, ctx.meta.seq_num] : ['end', ctx.meta.seq_num]));
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[maps[0]!.id, 0n], [maps[2]!.id, 1n], [maps[3]!.id, 2n], ['end', 2n]]);
    expect(maps[0]!.id).toBeLessThan(maps[2]!.id);
    s.close();
  });

  it('a map created mid-iteration with a larger id appears', () => {
    const k = new Kernel();
    k.createMap(spec);
    k.createMap(spec);
    let created = 0;
    const r = recorder('bpf_map', (ctx) => ctx.map?.id ?? 'end', (ctx) => {
      if (ctx.map && !created) created = k.createMap({ ...spec, name: 'late' }).id;
      return 0;
    });
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([1, 2, created, 'end']);
    expect(created).toBe(3);
    s.close();
  });

  it('empty: only the end call, seq_num 0', () => {
    const k = new Kernel();
    const r = recorder('bpf_map', (ctx) => [ctx.map, ctx.meta.seq_num]);
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual([[null, 0n]]);
    s.close();
  });

  it('resume by id: a map removed while paused on it is skipped, the next id follows', () => {
    const k = new Kernel();
    const maps = [0, 1, 2].map(() => k.createMap({ ...spec, map_type: BPF_MAP_TYPE_ARRAY }));
    const r = recorder('bpf_map', (ctx) => ctx.map?.id ?? 'end', (ctx) => {
      if (ctx.map) BPF_SEQ_PRINTF(ctx.meta.seq, '%u\n', ctx.map.id);
      return 0;
    });
    const s = session(k, r.spec);
    const fd = s.open();
    expect(fd.read(1).toString()).toBe('1');
    k.destroyMap(maps[1]!);
    expect(drain(fd, 1).toString()).toBe('\n3\n');
    fd.close();
    expect(r.calls).toEqual([1, 3, 'end']);
    s.close();
  });

  it('default dumper: header then one line per map', () => {
    const k = new Kernel();
    k.createMap({ ...spec, name: 'counts' });
    const s = session(k, dumpBpfMap);
    expect(s.text()).toBe(
      '      id type             name             key_size value_size max_entries\n' + '       1 hash             counts                  4          4           8\n',
    );
    s.close();
  });
});

describe('bpf_prog / bpf_link targets', () => {
  it('programs by ascending id', () => {
    const k = new Kernel();
    const p = [0, 1, 2].map((i) => k.addProg(new BpfProg(BPF_PROG_TYPE_TRACING, `p${i}`, '0123456789abcdef')));
    k.removeProg(p[0]!);
    const r = recorder('bpf_prog', (ctx) => ctx.prog?.name ?? 'end');
    const s = session(k, r.spec);
    s.text();
    expect(r.calls).toEqual(['p1', 'p2', 'end']);
    s.close();
  });

  it('links by ascending id, a link added mid-iteration appears', () => {
    const k = new Kernel();
    const prog = k.addProg(new BpfProg(BPF_PROG_TYPE_TRACING, 'p', '0123456789abcdef'));
    k.addLink(new BpfLink(4, prog));
    k.addLink(new BpfLink(2, prog));
    let added: BpfLink | null = null;
    const r = recorder('bpf_link', (ctx) => (ctx.link ? [ctx.link.id, ctx.link.typeName] : 'end'), (ctx) => {
      if (ctx.link && !added) added = k.addLink(new BpfLink(1, prog));
      return 0;
    });
    const s = session(k, r.spec);
    s.text();
    // The iterator link itself is a link of the kernel too (id 3, created by session()).
    const late = (added as BpfLink | null)!;
    expect(r.calls).toEqual([[1, 'iter'], [2, 'tracing'], [3, 'iter'], [late.id, 'raw_tracepoint'], 'end']);
    expect(late.id).toBe(4);
    s.close();
  });
});
