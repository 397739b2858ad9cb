/**
 * The built-in dumpers as the CLI runs them: a target's default dumper,
 * marked with where it comes from so a pin of it can be restored. Apart from
 * `state.ts` so `cat TARGET` loads neither the state file nor its lock.
 */
import type { BpfProgramSpec } from '../program.js';
import { defaultDumper } from '../targets/index.js';

/** `origin.module` marking a built-in target's default dumper (restored with `defaultDumper`). */
export const BUILTIN_ORIGIN = 'bpf-iter:builtin';

/** A copy of `spec` that remembers where it comes from (so a pin can be restored). */
export function withOrigin(spec: BpfProgramSpec, origin: { module: string; export?: string }): BpfProgramSpec {
  // A spread keeps the brand symbol and any extra fields (e.g. `access`).
  return Object.freeze({ ...spec, origin });
}

/** The default dumper of a built-in target, marked for restore. */
export function builtinDumper(target: string): BpfProgramSpec | undefined {
  const d = defaultDumper(target);
  return d && withOrigin(d, { module: BUILTIN_ORIGIN, export: target });
}
