/**
 * `union bpf_iter_link_info` (16 bytes, align 8) and its typed view.
 * The members overlap exactly as in C: a task target given
 * `map.map_fd = 7` sees `task.tid === 7`.
 */
import { fail } from '@bpf-iter/core';
import { BPF_ITER_LINK_INFO_SIZE } from './constants.js';

/** Typed input form; members overlap, later ones (map, cgroup, task) win. */
export interface BpfIterLinkInfoInit {
  map?: { map_fd?: number };
  cgroup?: { order?: number; cgroup_fd?: number; cgroup_id?: bigint | number };
  task?: { tid?: number; pid?: number; pid_fd?: number };
}

/**
 * `iter_info` and `iter_info_len` of a link_create from attach options: a
 * typed link info is encoded (length: the whole union), raw bytes are taken
 * as given (length: theirs), none is a null buffer of length 0; an explicit
 * `linkInfoLen` wins. EINVAL when the length is not a u32.
 */
export function linkInfoBytes(linkInfo: BpfIterLinkInfoInit | Uint8Array | null | undefined, linkInfoLen?: number): { bytes: Uint8Array | null; len: number } {
  let bytes: Uint8Array | null = null;
  let len: number;
  if (linkInfo == null) len = linkInfoLen ?? 0;
  else if (linkInfo instanceof Uint8Array) {
    bytes = linkInfo;
    len = linkInfoLen ?? linkInfo.length;
  } else {
    bytes = encodeLinkInfo(linkInfo);
    len = linkInfoLen ?? BPF_ITER_LINK_INFO_SIZE;
  }
  if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) fail('EINVAL', 'iter_info_len must be a u32');
  return { bytes, len };
}

/** Encodes a typed link info into the 16-byte union (zero-filled). */
export function encodeLinkInfo(init: BpfIterLinkInfoInit): Uint8Array {
  const b = new Uint8Array(BPF_ITER_LINK_INFO_SIZE);
  const dv = new DataView(b.buffer);
  if (init.map) {
    if (init.map.map_fd !== undefined) dv.setUint32(0, init.map.map_fd >>> 0, true);
  }
  if (init.cgroup) {
    const c = init.cgroup;
    if (c.order !== undefined) dv.setUint32(0, c.order >>> 0, true);
    if (c.cgroup_fd !== undefined) dv.setUint32(4, c.cgroup_fd >>> 0, true);
    if (c.cgroup_id !== undefined) dv.setBigUint64(8, BigInt.asUintN(64, BigInt(c.cgroup_id)), true);
  }
  if (init.task) {
    const t = init.task;
    if (t.tid !== undefined) dv.setUint32(0, t.tid >>> 0, true);
    if (t.pid !== undefined) dv.setUint32(4, t.pid >>> 0, true);
    if (t.pid_fd !== undefined) dv.setUint32(8, t.pid_fd >>> 0, true);
  }
  return b;
}

/**
 * The kernel-side view of the copied union, handed to `attach_target`.
 * Every member reads the same 16 bytes (little endian).
 */
export class BpfIterLinkInfo {
  /** The 16 raw bytes. */
  readonly bytes: Uint8Array;
  private readonly dv: DataView;

  constructor(bytes?: Uint8Array) {
    this.bytes = new Uint8Array(BPF_ITER_LINK_INFO_SIZE);
    if (bytes) this.bytes.set(bytes.subarray(0, BPF_ITER_LINK_INFO_SIZE));
    this.dv = new DataView(this.bytes.buffer);
  }

  /** `linfo->map`. */
  get map(): { readonly map_fd: number } {
    return { map_fd: this.dv.getUint32(0, true) };
  }
  /** `linfo->cgroup`. */
  get cgroup(): { readonly order: number; readonly cgroup_fd: number; readonly cgroup_id: bigint } {
    return {
      order: this.dv.getUint32(0, true),
      cgroup_fd: this.dv.getUint32(4, true),
      cgroup_id: this.dv.getBigUint64(8, true),
    };
  }
  /** `linfo->task`. */
  get task(): { readonly tid: number; readonly pid: number; readonly pid_fd: number } {
    return { tid: this.dv.getUint32(0, true), pid: this.dv.getUint32(4, true), pid_fd: this.dv.getUint32(8, true) };
  }
  /** True when all 16 bytes are zero (no link info given, or all-zero). */
  get isZero(): boolean {
    return this.bytes.every((x) => x === 0);
  }
  /** Hex of the 16 bytes (for persisting pins). */
  toHex(): string {
    return Buffer.from(this.bytes).toString('hex');
  }
  /** Inverse of {@link toHex}. */
  static fromHex(hex: string): BpfIterLinkInfo {
    return new BpfIterLinkInfo(new Uint8Array(Buffer.from(hex, 'hex')));
  }
}
