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

/**
 * All kernel symbols, column-wise (a host has ~200k of them). A source may
 * {@link KsymTable.defer | defer} the decoding of its records to the first
 * read of the table: the count is known at once, the symbols are made when
 * something looks at them.
 */
export class KsymTable {
  #names: string[] = [];
  #types: string[] = [];
  #values = new BigUint64Array(1024);
  #modules: string[] = [];
  #pending: { count: number; load: (table: KsymTable) => void } | null = null;

  get names(): string[] {
    this.#load();
    return this.#names;
  }
  get types(): string[] {
    this.#load();
    return this.#types;
  }
  get values(): BigUint64Array {
    this.#load();
    return this.#values;
  }
  get modules(): string[] {
    this.#load();
    return this.#modules;
  }

  get count(): number {
    return this.#pending ? this.#names.length + this.#pending.count : this.#names.length;
  }

  /**
   * Defers `count` symbols: `load` adds them (with {@link add}) on the first
   * read of the table, once.
   */
  defer(count: number, load: (table: KsymTable) => void): void {
    this.#load();
    this.#pending = { count, load };
  }

  add(name: string, type: string, value: bigint, module = ''): void {
    this.#load();
    const i = this.#names.length;
    if (i >= this.#values.length) {
      const v = new BigUint64Array(this.#values.length * 2);
      v.set(this.#values);
      this.#values = v;
    }
    this.#names.push(name);
    this.#types.push(type);
    this.#values[i] = value;
    this.#modules.push(module);
  }

  at(i: number): Ksym | null {
    this.#load();
    if (i < 0 || i >= this.#names.length) return null;
    return { name: this.#names[i]!, type: this.#types[i]!, value: this.#values[i]!, module_name: this.#modules[i]!, pos: i };
  }

  #load(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    if (this.#values.length < this.#names.length + p.count) {
      const v = new BigUint64Array(this.#names.length + p.count);
      v.set(this.#values.subarray(0, this.#names.length));
      this.#values = v;
    }
    p.load(this);
  }
}
