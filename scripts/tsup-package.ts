/**
 * The one tsup build every package uses (see docs/packaging.md).
 *
 * - The JavaScript is ESM only, one build with shared chunks for all entries
 *   (and the CLI), so the public, `/rx`, `/testing` and `/internal` entries of
 *   a package share one copy of every module.
 * - Each entry also gets a CommonJS *door*, `dist/<entry>.cjs`, that is one
 *   line: `module.exports = require('./<entry>.js')`. Node >= 20.19 loads ESM
 *   with require(), so a CommonJS consumer gets the very same module instances
 *   as an ESM one (`BpfError`, the default kernel, the registries): one
 *   instance per process.
 * - Types: not bundled (rollup-plugin-dts renamed namespace members into
 *   duplicate identifiers, e.g. `libbpf_errno`). Each package's `build` runs
 *   `tsc -p tsconfig.build.json` (one `.d.ts` per source file in dist/, the
 *   entries' `<entry>.d.ts` for `import`) and then `scripts/dts-cts.mjs`,
 *   which writes the `.d.cts` twin of every `.d.ts` for `require`, so `.cts`
 *   files under node16/nodenext see a CommonJS module where Node gives one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

export interface PackageBuild {
  /** Library entries: name (`index`, `rx`, ...) → source file. Each gets .js, .cjs, .d.ts, .d.cts. */
  entries: Record<string, string>;
  /** JavaScript-only entries (the CLI): ESM, sharing the library's chunks. */
  programs?: Record<string, string>;
  /** Packages to keep out of the bundle beyond dependencies/peerDependencies. */
  external?: string[];
  /** A banner for the ESM files (the CLI's shebang). */
  banner?: string;
}

export function packageConfig(b: PackageBuild): Options[] {
  const common: Options = { target: 'node20', sourcemap: true, clean: true, external: b.external ?? [] };
  return defineConfig([
    {
      ...common,
      entry: { ...b.entries, ...b.programs },
      format: ['esm'],
      splitting: true,
      dts: false,
      ...(b.banner ? { banner: { js: b.banner } } : {}),
      async onSuccess() {
        for (const name of Object.keys(b.entries)) {
          writeFileSync(
            join('dist', `${name}.cjs`),
            `'use strict';\n// CommonJS door to the ESM build (Node >= 20.19 require()s ESM): one instance per process.\nmodule.exports = require('./${name}.js');\n`,
          );
        }
      },
    },
  ]) as Options[];
}
