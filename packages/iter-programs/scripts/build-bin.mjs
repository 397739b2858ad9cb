#!/usr/bin/env node
/**
 * Builds the `bpf-iter` bin (run after tsup): CommonJS bundles in dist/cli/,
 * so start-up reads and compiles only what a command uses.
 *
 * - `bpf-iter.cjs`: `src/cli/main.ts` with commander and the command
 *   definitions (`cli.ts`), `--kernel` parsing, exit handling, `version`.
 * - `bin-<name>.cjs` for the commands that need no model, each bundled with
 *   the parts of the library it uses and required when the command runs:
 *   `targets`, `kernel_text` (`cat T --kernel bpf` through an in-kernel
 *   dumper), `object` (`run`/`iter pin OBJ`: libbpf and one object) and
 *   `cat_target` (`cat TARGET`: a built-in dumper on a kernel; no state
 *   file, no user module).
 *
 * Every other command module (`cat.js`, `run.js`, `pin.js`, `serve.js`...)
 * is imported from tsup's build (`dist/cli/<name>.js`), which shares its
 * chunks with the library's entries, so a user's program module and the
 * command running it use the same module instances (the registries, the
 * engine, `BpfError`). A bundled command hands no object to those: it runs
 * whole inside its bundle (errors are recognised by name, not instance).
 *
 * CommonJS, required (not imported): an ESM bundle imports every built-in
 * any of its modules uses at start-up, and importing CommonJS from ESM
 * lexes the whole file for its exports.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliSrc = join(pkg, 'src', 'cli');
const outdir = join(pkg, 'dist', 'cli');

/** Commands bundled with what they use (no model), each required from its own file when it runs. */
const BUNDLED = ['targets', 'kernel_text', 'object', 'cat_target'];
/** Small modules every command may use: in the main bundle. */
const INLINE = new Set(['kernel_spec']);

const fromTsup = new Set();

/** `import('./X.js')` in src/cli: a bin bundle, inline, or tsup's dist/cli/X.js. */
const commandsPlugin = {
  name: 'bpf-iter-commands',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z_]+\.js$/ }, (a) => {
      if (a.kind !== 'dynamic-import' || a.resolveDir !== cliSrc) return undefined;
      const name = a.path.slice(2, -3);
      if (INLINE.has(name)) return undefined;
      if (BUNDLED.includes(name)) return { path: name, namespace: 'bin-bundle' };
      fromTsup.add(name);
      return { path: a.path, external: true };
    });
    // A bundled command is required (synchronous CommonJS) from its own file.
    b.onLoad({ filter: /.*/, namespace: 'bin-bundle' }, (a) => ({ contents: `module.exports = require('./bin-${a.path}.cjs');`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/bin-[a-z_]+\.cjs$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * Node built-ins that cost milliseconds to load (child_process pulls in net and
 * streams) and that most commands never call: each bundle requires them on the
 * first use of one of their exports, not when the bundle loads (esbuild would
 * require every built-in a bundled module imports at start-up).
 */
const LAZY_BUILTINS = ['child_process', 'zlib', 'crypto', 'worker_threads'];
const require = createRequire(import.meta.url);
const lazyBuiltinsPlugin = {
  name: 'bpf-iter-lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    // The lazy module's own require is the real built-in.
    b.onResolve({ filter }, (a) => (a.namespace === 'lazy-builtin' ? { path: a.path, external: true } : { path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => {
      // Getters, not values: esbuild's interop copies them as getters, so nothing loads until an export is read.
      const names = Object.keys(require(`node:${a.path}`)).filter((k) => k !== 'default');
      const contents = `let m;
const load = () => m || (m = require('node:${a.path}'));
for (const k of ${JSON.stringify(names)}) Object.defineProperty(exports, k, { enumerable: true, get: () => load()[k] });`;
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The main bundle takes from `@bpf-iter/core` only what its modules name here
 * (errors, the cgroup order names, PAGE_SIZE), not the package's index: as CommonJS
 * every module the index re-exports is initialised at start-up (snapshot,
 * libbpf, the sources...). A name missing here fails the build.
 */
const coreSrc = join(pkg, '..', 'core', 'src');
const MAIN_CORE = `export { BpfError, fail, isErrno, errnoName, ERRNO } from ${JSON.stringify(join(coreSrc, 'errors.ts'))};
export { CGROUP_ORDER_NAMES } from ${JSON.stringify(join(coreSrc, 'walkers', 'cgroup.ts'))};
export { PAGE_SIZE } from ${JSON.stringify(join(coreSrc, 'uapi.ts'))};`;
const mainCorePlugin = {
  name: 'bpf-iter-main-core',
  setup(b) {
    b.onResolve({ filter: /^@bpf-iter\/core$/ }, () => ({ path: 'core', namespace: 'main-core' }));
    b.onLoad({ filter: /.*/, namespace: 'main-core' }, () => ({ contents: MAIN_CORE, loader: 'ts', resolveDir: coreSrc }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  // CommonJS: a module's Node built-ins are required when it is first used.
  format: 'cjs',
  target: 'node20',
  // The sources, not dist: tree-shaking needs the modules, not the packages' bundled entries.
  conditions: ['@bpf-iter/source'],
  // koffi is a native addon required at first use; the metrics SDK is imported by serve.js (tsup's).
  external: ['koffi', '@bpf-iter/metrics'],
  // Not minified: measured no faster to start (the minified module wrappers compile eagerly).
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  // The modules that read import.meta.url check __dirname/__filename first (set in CommonJS).
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [commandsPlugin, lazyBuiltinsPlugin],
};

const entries = { 'bpf-iter': join(cliSrc, 'main.ts'), ...Object.fromEntries(BUNDLED.map((n) => [`bin-${n}`, join(cliSrc, `${n}.ts`)])) };
const sizes = [];
for (const [name, entry] of Object.entries(entries)) {
  const main = name === 'bpf-iter';
  const r = await build({ ...common, entryPoints: [entry], outfile: join(outdir, `${name}.cjs`), ...(main ? { banner: { js: '#!/usr/bin/env node' }, plugins: [mainCorePlugin, ...common.plugins] } : {}) });
  const [, o] = Object.entries(r.metafile.outputs).find(([k]) => k.endsWith('.cjs'));
  sizes.push(`${name}.cjs ${(o.bytes / 1024).toFixed(0)} KiB`);
  if (process.env.BPF_ITER_BIN_META) writeFileSync(`${process.env.BPF_ITER_BIN_META}.${name}.json`, JSON.stringify(r.metafile));
}

// Each command left to tsup's build must be there, next to the bin.
const missing = [...fromTsup].filter((n) => !existsSync(join(outdir, `${n}.js`)));
if (missing.length) {
  console.error(`build-bin: dist/cli/{${missing.join(',')}}.js missing: add them to the programs of tsup.config.ts`);
  process.exit(1);
}
console.log(`build-bin: ${sizes.join(', ')}; from tsup's build: ${[...fromTsup].sort().join(', ')}`);
