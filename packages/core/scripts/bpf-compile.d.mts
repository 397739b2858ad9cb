/** Types of `bpf-compile.mjs` (what `src/libbpf/compile.ts` uses). */
export declare class BuildError extends Error {
  errno: string;
  constructor(errno: string, message: string);
}
export declare function defaultCacheDir(): string;
export declare function compileObject(opts: { src: string; cache?: string; force?: boolean }): { obj: string; cached: boolean };
