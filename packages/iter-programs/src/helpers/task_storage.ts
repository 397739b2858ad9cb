/** `bpf_task_storage_get` (#156) / `bpf_task_storage_delete` (#157) (kernel/bpf/bpf_task_storage.c). */
import { BPF_MAP_TYPE_TASK_STORAGE, BpfError, BpfMap, Task } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { checkHelper } from './func_proto.js';

/** `BPF_LOCAL_STORAGE_GET_F_CREATE`. */
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1;

function checkTaskStorageMap(map: unknown): asserts map is BpfMap {
  if (!(map instanceof BpfMap) || map.map_type !== BPF_MAP_TYPE_TASK_STORAGE)
    throw new BpfError('EINVAL', 'R1 is not a BPF_MAP_TYPE_TASK_STORAGE map (cannot pass map_type to func bpf_task_storage_*)');
}

/**
 * `void *bpf_task_storage_get(struct bpf_map *map, struct task_struct *task, void *value, u64 flags)`:
 * the task's storage (live), created with BPF_LOCAL_STORAGE_GET_F_CREATE
 * (from `value`, zeroed when null) when missing; null for a NULL task,
 * unknown flags, or a task being freed.
 *
 * @example
 * ```ts
 * const v = bpf_task_storage_get(map, ctx.task, null, BPF_LOCAL_STORAGE_GET_F_CREATE);
 * ```
 */
export function bpf_task_storage_get(map: BpfMap, task: Task | null, value: Uint8Array | null = null, flags: number | bigint = 0): Uint8Array | null {
  checkHelper('bpf_task_storage_get');
  checkTaskStorageMap(map);
  const f = BigInt(flags);
  if (!(task instanceof Task) || (f & ~BigInt(BPF_LOCAL_STORAGE_GET_F_CREATE)) !== 0n) return null;
  const v = map.storageGet(task);
  if (v) return v;
  // refcount_read(&task->usage) == 0: no new storage for a task on its way out.
  if (f !== BigInt(BPF_LOCAL_STORAGE_GET_F_CREATE) || task.freed) return null;
  if (value && value.length < map.value_size) return null;
  return map.storageCreate(task, value ? value.subarray(0, map.value_size) : null);
}

/** `long bpf_task_storage_delete(struct bpf_map *map, struct task_struct *task)`: 0, -ENOENT (none), -EINVAL (NULL task). */
export function bpf_task_storage_delete(map: BpfMap, task: Task | null): number {
  checkHelper('bpf_task_storage_delete');
  checkTaskStorageMap(map);
  if (!(task instanceof Task)) return neg('EINVAL');
  try {
    map.storageDelete(task);
    return 0;
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}
