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
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    // Through the code cache (code_cache.cjs) as the bin loads the main bundle.
    b.onLoad({ filter: /.*/, namespace: 'bin-bundle' }, (a) => ({ contents: `module.exports = require('./code_cache.cjs').requireBundle(__dirname + '/bin-${a.path}.cjs').exports;`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/(bin-[a-z_]+|code_cache)\.cjs$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * Node built-ins that cost milliseconds to load (child_process pulls in net and
 * streams) and that most commands never call: each bundle requires them on the
 * first use of one of their exports, not when the bundle loads (esbuild would
 * require every built-in a bundled module imports at start-up).
 */
const LAZY_BUILTINS = ['child_process', 'zlib', 'crypto', 'worker_threads', 'tty', 'stream', 'os', 'v8'];
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

/**
 * Core's modules marked free of side effects in the command bundles: a module
 * none of whose exports a command uses is left out whole (core's index and
 * internal re-export every source, the snapshot format, libbpf...), where
 * esbuild would otherwise keep each one's top-level statements. Core has no
 * import made for its side effects (a test of the built bin's commands
 * would show one missing).
 */
const coreSideEffectFree = {
  name: 'bpf-iter-core-pure',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (a) => {
      if (a.pluginData === 'core-pure' || a.namespace !== 'file' || a.kind === 'entry-point') return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: 'core-pure' });
      if (r.errors.length || r.external || !r.path.startsWith(coreSrc + '/')) return undefined;
      return { path: r.path, sideEffects: false };
    });
  },
};

/**
 * A built-in dumper (`export const dumpX = SEC(...)` in src/targets/) is a
 * frozen object made from its arguments: marked pure, one no command uses
 * (each of them in the bundle that only lists targets) is left out with
 * what it calls (printf, the BTF printer, sockopt).
 */
const targetsSrc = join(pkg, 'src', 'targets');
const pureDumpersPlugin = {
  name: 'bpf-iter-pure-dumpers',
  setup(b) {
    b.onLoad({ filter: /\/src\/targets\/[a-z_0-9]+\.ts$/ }, (a) => {
      if (dirname(a.path) !== targetsSrc) return undefined;
      const text = readFileSync(a.path, 'utf8');
      return { contents: text.replace(/^(export const dump\w+ = )(SEC(?:<[^>(]*>)?\()/gm, '$1/* @__PURE__ */ $2'), loader: 'ts' };
    });
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
  // Whitespace and comments only (names kept: programs are named after their functions): a
  // smaller bundle to read, copy and compare against its code cache (cat task: ~13 ms less CPU).
  minifyWhitespace: true,
  sourcemap: true,
  metafile: true,
  // A frozen object no command reads is left out with what it refers to (sock_target.ts's sockopt protos).
  pure: ['Object.freeze'],
  logLevel: 'warning',
  // The modules that read import.meta.url check __dirname/__filename first (set in CommonJS).
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [commandsPlugin, lazyBuiltinsPlugin, pureDumpersPlugin],
};

// code_cache.cjs: the loader of the other bundles (bin/bpf-iter.cjs requires it first).
/**
 * The bundles run as a vm.Script (code_cache.ts), where \`import()\` needs an
 * experimental loader: their imports of tsup's command modules
 * (\`import("./cat.js")\`) call code_cache.cjs's importCommand instead, through
 * \`__impt\` (as long as \`import\`, and defined after the last line: lines,
 * columns and the source map stay right).
 * Any other import() left is a build error.
 */
function importsThroughLoader(file) {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  let out = text.replace(/(?<![\w$.])import\("(\.\/[a-z_]+\.js)"\)/g, (_m, spec) => (n++, `__impt("${spec}")`));
  const left = /(?<![\w$.])import\(/.exec(out.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ''));
  if (left) throw new Error(`build-bin: ${file}: an import() the code cache loader cannot run: ...${out.slice(Math.max(0, left.index - 40), left.index + 40)}...`);
  // A function declaration at the end (hoisted; no line moves), before the source map comment.
  if (n) out = out.replace(/(\n\/\/# sourceMappingURL=[^\n]*\n?)?$/, (m) => `\nfunction __impt(s) {\n  return require("./code_cache.cjs").importCommand(__dirname, s);\n}${m}`);
  writeFileSync(file, out);
}

const entries = { code_cache: join(cliSrc, 'code_cache.ts'), 'bpf-iter': join(cliSrc, 'main.ts'), ...Object.fromEntries(BUNDLED.map((n) => [`bin-${n}`, join(cliSrc, `${n}.ts`)])) };
const sizes = [];
for (const [name, entry] of Object.entries(entries)) {
  const main = name === 'bpf-iter';
  const plugins = main ? [mainCorePlugin, ...common.plugins] : [...common.plugins, coreSideEffectFree];
  const r = await build({ ...common, entryPoints: [entry], outfile: join(outdir, `${name}.cjs`), plugins, ...(main ? { banner: { js: '#!/usr/bin/env node' } } : {}) });
  const [, o] = Object.entries(r.metafile.outputs).find(([k]) => k.endsWith('.cjs'));
  if (name !== 'code_cache') importsThroughLoader(join(outdir, `${name}.cjs`));
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
