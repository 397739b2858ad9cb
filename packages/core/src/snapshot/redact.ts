/**
 * Redaction for sharing snapshots: values are replaced by stable pseudonyms
 * (a keyed hash of the value, HMAC-SHA256), so the same value gets the same
 * pseudonym everywhere in the file and every relation the model holds by
 * value stays intact. Kernel addresses move by one keyed offset (like
 * KASLR), so a stack still symbolises against the kernel symbols.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { fail } from '../errors.js';

/** What can be redacted: task names, file/socket/cgroup paths, kernel and IP addresses. */
export const REDACT_FIELDS = ['comm', 'paths', 'addresses'] as const;
export type RedactField = (typeof REDACT_FIELDS)[number];

/** Rewrites values as a snapshot is written; the identity unless built by {@link createRedactor}. */
export interface Redactor {
  readonly fields: readonly RedactField[];
  comm(s: string): string;
  /** A file path (`/proc/PID/fd` form); pseudo paths (`socket:[N]`, `pipe:[N]`, `anon_inode:...`) stay. */
  path(s: string): string;
  /** A unix socket's bound path (`@name` abstract). */
  unixPath(s: string): string;
  cgroupName(s: string): string;
  /** A kernel address (fops, symbols, stacks, `%pK` socket addresses). */
  kaddr(v: bigint): bigint;
  /** An IPv4/IPv6 address in network order. */
  ip(b: Uint8Array): Uint8Array;
  machine(s: string): string;
  /** The kernel's free-form description (holds the host name). */
  description(s: string): string;
}

/** Writes every value as it is. */
export const identityRedactor: Redactor = {
  fields: [],
  comm: (s) => s,
  path: (s) => s,
  unixPath: (s) => s,
  cgroupName: (s) => s,
  kaddr: (v) => v,
  ip: (b) => b,
  machine: (s) => s,
  description: (s) => s,
};

/** Options of {@link createRedactor}. */
export interface RedactOptions {
  fields: readonly string[];
  /** The hash key (default: 32 random bytes: pseudonyms are stable within one snapshot, unlinkable across). */
  key?: Uint8Array;
}

/** Kernel addresses live in the upper half; below it (user space, 0 for hidden `%pK`) nothing moves. */
const KERNEL_HALF = 0xffff800000000000n;

/**
 * A redactor pseudonymising `fields` (`comm`, `paths`, `addresses`).
 * EINVAL for an unknown field.
 *
 * @example
 * ```ts
 * await saveKernel(readHost(), 'shared.snap', { redactor: createRedactor({ fields: ['comm', 'paths'] }) });
 * ```
 */
export function createRedactor(o: RedactOptions): Redactor {
  for (const f of o.fields) if (!(REDACT_FIELDS as readonly string[]).includes(f)) fail('EINVAL', `--redact: unknown field '${f}' (one of ${REDACT_FIELDS.join(', ')})`);
  const fields = [...new Set(o.fields)] as RedactField[];
  const key = o.key ?? randomBytes(32);
  const memo = new Map<string, Buffer>();
  const h = (domain: string, v: string): Buffer => {
    const m = domain + '\0' + v;
    let d = memo.get(m);
    if (!d) memo.set(m, (d = createHmac('sha256', key).update(m).digest()));
    return d;
  };
  const has = (f: RedactField) => fields.includes(f);
  const component = (c: string) => (c === '' || c === '.' || c === '..' ? c : 'p' + h('path', c).toString('hex').slice(0, 10));
  const path = (s: string) => (s.startsWith('/') ? s.split('/').map(component).join('/') : s);
  const offset = (BigInt(h('kaslr', '').readUInt32BE(0) & 0x1ff) + 1n) << 21n;
  const v4 = (b: Uint8Array): Uint8Array => {
    if (b.every((x) => x === 0) || b[0] === 127) return b;
    const d = h('ipv4', Buffer.from(b).toString('hex'));
    return Uint8Array.of(10, d[0]!, d[1]!, d[2]!);
  };
  const machine = (s: string) => (s ? 'host-' + h('machine', s).toString('hex').slice(0, 8) : s);
  return {
    fields,
    comm: has('comm') ? (s) => 'c' + h('comm', s).toString('hex').slice(0, 12) : identityRedactor.comm,
    path: has('paths') ? path : identityRedactor.path,
    unixPath: has('paths') ? (s) => (s.startsWith('@') ? '@' + component(s.slice(1)) : path(s)) : identityRedactor.unixPath,
    cgroupName: has('paths') ? component : identityRedactor.cgroupName,
    kaddr: has('addresses') ? (v) => (v >= KERNEL_HALF ? v - offset : v) : identityRedactor.kaddr,
    ip: has('addresses')
      ? (b) => {
          if (b.length === 4) return v4(b);
          if (b.length !== 16 || b.every((x) => x === 0) || (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1)) return b;
          // IPv4-mapped (::ffff:a.b.c.d) keeps its form with the IPv4 pseudonym.
          if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
            const out = b.slice();
            out.set(v4(b.subarray(12)), 12);
            return out;
          }
          const d = h('ipv6', Buffer.from(b).toString('hex'));
          const out = new Uint8Array(16);
          out[0] = 0xfd;
          out.set(d.subarray(0, 15), 1);
          return out;
        }
      : identityRedactor.ip,
    machine: fields.length ? machine : identityRedactor.machine,
    description: fields.length ? (s) => s.replace(/^(host|bpf) (\S+)/, (_, src: string, m: string) => `${src} ${machine(m)}`) : identityRedactor.description,
  };
}
