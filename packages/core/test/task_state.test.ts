/**
 * `task->__state` in the model: a source that read it keeps it exactly;
 * otherwise it is the value the state letter stands for, with the bits a
 * letter cannot tell (task_state_index reports only the highest of
 * INTERRUPTIBLE..PARKED) marked unknown where the letter came from /proc.
 */
import { describe, expect, test } from 'vitest';
import {
  Kernel,
  TASK_FREEZABLE,
  TASK_INTERRUPTIBLE,
  TASK_NOLOAD,
  TASK_STATE_ALL,
  TASK_UNINTERRUPTIBLE,
  TASK_DEAD,
  TASK_WAKEKILL,
} from '@bpf-iter/core';
import { stateUnknownOf } from '@bpf-iter/core/internal';

describe('__state', () => {
  test('a read __state is kept; without one the letter stands for it; exit makes it TASK_DEAD', () => {
    const k = new Kernel();
    const a = k.createTask({ comm: 'a', state: 'S', __state: TASK_INTERRUPTIBLE | TASK_FREEZABLE });
    const b = k.createTask({ comm: 'b', state: 'I' });
    expect(a.__state).toBe(TASK_INTERRUPTIBLE | TASK_FREEZABLE);
    expect(a.__state_unknown).toBe(0);
    expect(b.__state).toBe(TASK_UNINTERRUPTIBLE | TASK_NOLOAD);
    k.exit(a, { zombie: true });
    expect([a.state, a.__state]).toEqual(['Z', TASK_DEAD]);
  });

  test('the bits a /proc letter cannot tell', () => {
    // TASK_FREEZABLE, TASK_WAKEKILL...: never in the letter.
    for (const l of ['R', 'S', 'D', 'T', 't', 'P', 'I'] as const) expect(stateUnknownOf(l) & (TASK_FREEZABLE | TASK_WAKEKILL)).toBe(TASK_FREEZABLE | TASK_WAKEKILL);
    expect(stateUnknownOf('S') & 0x7f).toBe(0);
    expect(stateUnknownOf('I') & TASK_NOLOAD).toBe(0); // I is exactly UNINTERRUPTIBLE|NOLOAD
    expect(stateUnknownOf('D') & TASK_UNINTERRUPTIBLE).toBe(TASK_UNINTERRUPTIBLE); // frozen and rtlock waiters print D too
    expect(stateUnknownOf('Z')).toBe(TASK_STATE_ALL);
  });
});
