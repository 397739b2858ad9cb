/**
 * A minimal vmlinux BTF model for `bpf_seq_printf_btf`: named types with
 * ids, optional member lists, and the kernel's `btf_show` text rendering.
 * Core may later register its model's types here (or replace the
 * registry with {@link setBtfRegistry}).
 */

/** A BTF member: name and C type (`'int'`, `'pid_t'`, `'char[16]'`, `'struct mm_struct *'`, `'u64'`...). */
export interface BtfMember {
  name: string;
  type: string;
}

/** A BTF type: `name` includes the kind for aggregates (`'struct task_struct'`). */
export interface BtfType {
  readonly id: number;
  readonly name: string;
  readonly kind: 'struct' | 'union' | 'int' | 'typedef' | 'enum' | 'ptr' | 'array' | 'func';
  readonly members?: readonly BtfMember[];
}

/** Type lookup interface. */
export interface BtfRegistry {
  byId(id: number): BtfType | undefined;
  byName(name: string): BtfType | undefined;
  add(t: Omit<BtfType, 'id'>): BtfType;
}

class SimpleBtf implements BtfRegistry {
  private readonly ids = new Map<number, BtfType>();
  private readonly names = new Map<string, BtfType>();
  private next = 1;
  byId(id: number) {
    return this.ids.get(id);
  }
  byName(name: string) {
    return this.names.get(name);
  }
  add(t: Omit<BtfType, 'id'>): BtfType {
    const existing = this.names.get(t.name);
    if (existing) return existing;
    const full = Object.freeze({ ...t, id: this.next++ });
    this.ids.set(full.id, full);
    this.names.set(full.name, full);
    return full;
  }
}

let registry: BtfRegistry = new SimpleBtf();
for (const name of ['int', 'unsigned int', 'long', 'unsigned long', 'long long', 'unsigned long long', 'char', '_Bool', 'u8', 'u16', 'u32', 'u64', 's32', 's64', 'pid_t'])
  registry.add({ name, kind: name === 'pid_t' || /^[us]\d+$/.test(name) ? 'typedef' : 'int' });
for (const s of ['task_struct', 'file', 'mm_struct', 'vm_area_struct', 'sock', 'sock_common', 'bpf_map', 'bpf_prog', 'bpf_link', 'cgroup', 'kmem_cache', 'dma_buf', 'seq_file', 'bpf_iter_meta'])
  registry.add({ name: `struct ${s}`, kind: 'struct' });

/** The active BTF registry. */
export function btfRegistry(): BtfRegistry {
  return registry;
}
/** Replaces the BTF registry (e.g. with core's vmlinux model). */
export function setBtfRegistry(r: BtfRegistry): void {
  registry = r;
}
/** Registers (or returns) a type; returns its id. */
export function btf_add_type(t: Omit<BtfType, 'id'>): number {
  return registry.add(t).id;
}
/**
 * `bpf_core_type_id_kernel(struct task_struct)`: the id of a type name such
 * as `'struct task_struct'` (or `'task_struct'`), or 0 when unknown.
 */
export function bpf_core_type_id_kernel(name: string): number {
  return (registry.byName(name) ?? registry.byName(`struct ${name}`))?.id ?? 0;
}
