/** One line of `/proc/slabinfo` (version 2.1). */
export interface SlabRow {
  name: string;
  active_objs: number;
  num_objs: number;
  /** `s->size`: the per-object footprint, metadata included. */
  objsize: number;
  objperslab: number;
  pagesperslab: number;
}

/** Parses `/proc/slabinfo`, skipping the two header lines. */
export function parseSlabinfo(text: string): SlabRow[] {
  const out: SlabRow[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('slabinfo') || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    out.push({
      name: f[0]!,
      active_objs: Number(f[1]),
      num_objs: Number(f[2]),
      objsize: Number(f[3]),
      objperslab: Number(f[4]),
      pagesperslab: Number(f[5]),
    });
  }
  return out;
}
