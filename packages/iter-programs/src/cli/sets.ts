/**
 * `--set NAME=VALUE`: a .bss/.data global of a program (model skeleton or
 * real BPF object), parsed by the global's current type.
 */
import { fail } from '@bpf-iter/core';

/**
 * Applies `--set NAME=VALUE` to a program's `.bss` / `.data` (first match),
 * checked against the type of the global's initial value: an integer
 * global takes a decimal or `0x` integer that fits (a bigint global any
 * integer), a boolean `true`/`false`, a string anything; a non-integer
 * number a finite number. EINVAL for an unknown name, a missing `=`, or a
 * value that is not of the global's type (`n=abc`, `n=1e400`, `flag=yes`).
 */
export function applySets(globals: { bss: Record<string, unknown>; data: Record<string, unknown> }, sets: readonly string[]): void {
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) fail('EINVAL', `--set wants NAME=VALUE, not '${s}'`);
    const name = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    const sec = Object.hasOwn(globals.bss, name) ? globals.bss : Object.hasOwn(globals.data, name) ? globals.data : null;
    if (!sec) {
      const known = [...Object.keys(globals.bss), ...Object.keys(globals.data)];
      fail('EINVAL', `unknown global '${name}' (the program's .bss/.data have: ${known.length ? known.join(', ') : 'none'})`);
    }
    sec[name] = parseValue(name, raw, sec[name]);
  }
}

const INTEGER = /^-?(0x[0-9a-f]+|\d+)$/i;

function parseInteger(v: string): bigint {
  const neg = v.startsWith('-');
  return BigInt(neg ? v.slice(1) : v) * (neg ? -1n : 1n);
}

function parseValue(name: string, raw: string, current: unknown): unknown {
  const v = raw.trim();
  const bad = (want: string): never => fail('EINVAL', `--set ${name}=${raw}: ${name} is ${want}`);
  switch (typeof current) {
    case 'boolean':
      if (v === 'true' || v === 'false') return v === 'true';
      return bad('a bool: true or false');
    case 'bigint':
      if (INTEGER.test(v)) return parseInteger(v);
      return bad('an integer (decimal or 0x hex)');
    case 'number': {
      if (Number.isInteger(current)) {
        if (!INTEGER.test(v)) return bad('an integer (decimal or 0x hex)');
        const b = parseInteger(v);
        if (b < BigInt(Number.MIN_SAFE_INTEGER) || b > BigInt(Number.MAX_SAFE_INTEGER)) return bad('an integer within ±2^53-1 (the global is a number, not a bigint)');
        return Number(b);
      }
      const n = INTEGER.test(v) ? Number(parseInteger(v)) : /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) return bad('a finite number');
      return n;
    }
    case 'string':
      return raw;
    default:
      return fail('EINVAL', `--set ${name}: the global's type (${current === null ? 'null' : typeof current}) cannot be set from the command line`);
  }
}
