/**
 * What sends a command to the real kernel through libbpf (`object.ts`,
 * `prog.ts`): a BPF object argument (`run OBJ`, `pin`/`iter pin OBJ`), and
 * `prog show` / `map show` without a model `--kernel` (see `cli.ts`).
 * Those modules are imported when such a command runs, so the other
 * commands never load libbpf.
 */

/** True for a file the real kernel loads (`.bpf.o`, `.o`, `.bpf.c`, `.c`). */
export function isBpfObjectFile(s: string): boolean {
  return /\.(o|c)$/.test(s);
}
