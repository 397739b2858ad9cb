/** Types of `bpf-compile.mjs` (what `src/libbpf/compile.ts` uses). */
export declare class BuildError extends Error {
  errno: string;
  constructor(errno: string, message: string);
}
export declare function defaultCacheDir(): string;
export declare function compileObject(opts: { src: string; cache?: string; force?: boolean }): { obj: string; cached: boolean };
export declare function prebuiltDir(srcDir: string): { dir: string; reason: null } | { dir: null; reason: string };
export declare function sourcesDigest(srcDir: string): string;
export declare function fileDigest(path: string): string;
export declare function programObjects(srcDir: string): { src: string; file: string; base: string; variant: string | null; name: string }[];
export declare function programArgs(srcDir: string, vmlinuxDir: string, src: string, variant: string | null, out: string): string[];
export declare function stripTool(): string | null;
export declare function which(tool: string): string | null;
export declare function ensureVmlinux(out: string, bpftool: string, force: boolean): { vmlinux: string; stamp: string; built: boolean };
