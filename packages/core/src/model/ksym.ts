/** A kernel symbol as `/proc/kallsyms` lists it (the `ksym` iterator's `kallsym_iter`). */
export interface Ksym {
  readonly name: string;
  /** Type letter (`T`, `t`, `D`, `b`...). */
  readonly type: string;
  readonly value: bigint;
  /** Module name without brackets, or '' for the core kernel. */
  readonly module_name: string;
  /** Position in the kallsyms walk. */
  readonly pos: number;
}

/** All kernel symbols, column-wise (a host has ~200k of them). */
export class KsymTable {
  readonly names: string[] = [];
  readonly types: string[] = [];
  values = new BigUint64Array(1024);
  readonly modules: string[] = [];

  get count(): number {
    return this.names.length;
  }

  add(name: string, type: string, value: bigint, module = ''): void {
    const i = this.names.length;
    if (i >= this.values.length) {
      const v = new BigUint64Array(this.values.length * 2);
      v.set(this.values);
      this.values = v;
    }
    this.names.push(name);
    this.types.push(type);
    this.values[i] = value;
    this.modules.push(module);
  }

  at(i: number): Ksym | null {
    if (i < 0 || i >= this.names.length) return null;
    return { name: this.names[i]!, type: this.types[i]!, value: this.values[i]!, module_name: this.modules[i]!, pos: i };
  }
}
