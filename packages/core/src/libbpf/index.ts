/**
 * The real kernel through the system's libbpf, in-process (koffi FFI,
 * loaded on first use): BPF objects, their programs, maps and typed
 * globals, iterator links and the kernel's id walks. The iterator-fd
 * surface and `attachIter` live in `@bpf-iter/iter-programs`.
 */
export { BTF_KIND, Btf, type BtfType } from './btf.js';
export { compileBpfSource } from './compile.js';
export { libbpfError, printedSince } from './ffi.js';
export { type GlobalValue, type GlobalVar } from './globals.js';
export {
  attachKernelIter,
  kernelFdinfo,
  kernelIds,
  kernelLinkInfo,
  KernelLink,
  objGet,
  objInfo,
  mapFdById,
  cgroup2MountPoint,
  createIterFd,
  progMapIds,
  PROG_INFO_SIZE,
  pidfdOpen,
  withKernelObject,
  type KernelLinkInfo,
  type KernelObjectKind,
} from './link.js';
export { attachLightIter, LightObject, loadLightObject, type LightProgram } from './light.js';
export { BpfObject, BpfObjectMap, BpfObjectProgram, openObject, type BpfObjectState, type OpenObjectOptions } from './object.js';
