/**
 * What every target's session asks first: which kernel it iterates and the
 * pid namespace of the process that created the iterator fd.
 */
import { currentKernel, currentPidNs, type Kernel, type PidNamespace } from '@bpf-iter/core';
import type { BpfIterAuxInfo } from '../registry.js';

/** The kernel a session iterates: the one given at link creation, else the ambient one. */
export function sessionKernel(aux: BpfIterAuxInfo): Kernel {
  return aux.kernel ?? currentKernel();
}

/** The pid namespace of the process creating the iterator fd (captured per session). */
export function sessionPidNs(kernel: Kernel): PidNamespace {
  return currentPidNs(kernel);
}
