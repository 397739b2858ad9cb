/**
 * The bin's V8 code cache (src/cli/code_cache.ts): used only for the exact
 * bundle it was made from and only from a directory only this user can
 * write; a bad or unsafe file costs the cache, never the run.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksum, CLI_INTERRUPT_BUDGET, cliV8Flags, codeCacheDir, importCommand, loadBundle, saveCodeCaches } from '../../src/cli/code_cache.js';

/** A temp dir with a bundle printing `value` and a cache dir below (not created yet). */
function fixture(value: string): { bundle: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-cc-'));
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, `#!/usr/bin/env node\nfunction f() { return ${JSON.stringify(value)}; }\nmodule.exports = { f, dir: __dirname, self: require.resolve('./b.cjs') };\n`);
  return { bundle, cache: join(dir, 'cache', 'v8') };
}

const value = (r: { exports: unknown }): string => (r.exports as { f(): string }).f();
const cacheFiles = (cache: string): string[] => (existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.v8')) : []);

describe('code cache', () => {
  it('a first run misses and saves; the next one uses the cache and runs the same code', () => {
    const { bundle, cache } = fixture('one');
    const a = loadBundle(bundle, cache);
    expect(a.status).toBe('miss');
    expect(value(a)).toBe('one');
    expect((a.exports as { dir: string }).dir).toBe(join(bundle, '..'));
    expect((a.exports as { self: string }).self).toBe(bundle);
    saveCodeCaches();
    const files = cacheFiles(cache);
    expect(files).toHaveLength(1);
    // Only this user may write the directory and the file.
    expect(statSync(cache).mode & 0o077).toBe(0);
    expect(statSync(join(cache, files[0]!)).mode & 0o077).toBe(0);
    const b = loadBundle(bundle, cache);
    expect(b.status).toBe('hit');
    expect(value(b)).toBe('one');
  });

  it('a changed bundle of the same length is compiled from its source (V8 alone would run the cached code)', () => {
    const { bundle, cache } = fixture('one');
    loadBundle(bundle, cache);
    saveCodeCaches();
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('"one"', '"two"'));
    const r = loadBundle(bundle, cache);
    expect(r.status).toBe('stale');
    expect(value(r)).toBe('two');
    // Replaced at exit by the new bundle's code.
    saveCodeCaches();
    expect(loadBundle(bundle, cache).status).toBe('hit');
  });

  it('a corrupt or cut-short cache file is ignored and replaced', () => {
    const { bundle, cache } = fixture('one');
    loadBundle(bundle, cache);
    saveCodeCaches();
    const file = join(cache, cacheFiles(cache)[0]!);
    const good = readFileSync(file);
    // Part of V8's code (the end of the file) overwritten.
    const bad = Buffer.from(good);
    bad.fill(0x5a, bad.length - 256);
    writeFileSync(file, bad);
    const r = loadBundle(bundle, cache);
    expect(r.status).toBe('stale');
    expect(value(r)).toBe('one');
    // One byte of its copy of the bundle changed.
    const src = good.indexOf('"one"');
    expect(src).toBeGreaterThan(0);
    const other = Buffer.from(good);
    other[src + 1] = 0x4f; // "One"
    writeFileSync(file, other);
    expect(loadBundle(bundle, cache).status).toBe('stale');
    writeFileSync(file, good.subarray(0, good.length - 100));
    expect(loadBundle(bundle, cache).status).toBe('stale');
    writeFileSync(file, 'not a cache');
    expect(loadBundle(bundle, cache).status).toBe('stale');
    saveCodeCaches();
    expect(loadBundle(bundle, cache).status).toBe('hit');
  });

  it('a directory or file others can write, or a symlinked file, is neither read nor written', () => {
    const { bundle, cache } = fixture('one');
    loadBundle(bundle, cache);
    saveCodeCaches();
    const file = join(cache, cacheFiles(cache)[0]!);
    chmodSync(file, 0o666);
    expect(loadBundle(bundle, cache).status).toBe('unsafe');
    chmodSync(file, 0o600);
    chmodSync(cache, 0o777);
    const r = loadBundle(bundle, cache);
    expect(r.status).toBe('unsafe');
    expect(value(r)).toBe('one');
    chmodSync(cache, 0o700);
    // The level above too (the $TMPDIR/bpf-iter-UID directory).
    chmodSync(join(cache, '..'), 0o777);
    expect(loadBundle(bundle, cache).status).toBe('unsafe');
    chmodSync(join(cache, '..'), 0o700);
    const real = `${file}.real`;
    writeFileSync(real, readFileSync(file));
    chmodSync(real, 0o600);
    unlinkSync(file);
    symlinkSync(real, file);
    expect(loadBundle(bundle, cache).status).toBe('unsafe');
  });

  it('a cache that cannot be written costs nothing but the cache', () => {
    const { bundle } = fixture('one');
    // Below a regular file: no directory can be made there.
    const cache = join(bundle, 'v8');
    const r = loadBundle(bundle, cache);
    expect(r.status).toBe('miss');
    expect(() => saveCodeCaches()).not.toThrow();
    expect(value(loadBundle(bundle, cache))).toBe('one');
  });

  it('off without a directory: the bundle runs from source', () => {
    const { bundle } = fixture('one');
    const r = loadBundle(bundle, null);
    expect(r.status).toBe('off');
    expect(value(r)).toBe('one');
  });

  it('a bundle that throws throws its own error', () => {
    const { bundle, cache } = fixture('one');
    writeFileSync(bundle, 'throw new RangeError("from the bundle");\n');
    expect(() => loadBundle(bundle, cache)).toThrow(/from the bundle/);
    saveCodeCaches();
  });

  it('the directory: XDG_CACHE_HOME, else ~/.cache, else $TMPDIR/bpf-iter-UID; BPF_ITER_CODE_CACHE=0 turns it off', () => {
    expect(codeCacheDir({ XDG_CACHE_HOME: '/x/c', HOME: '/h' })).toBe('/x/c/bpf-iter/v8');
    expect(codeCacheDir({ HOME: '/h' })).toBe('/h/.cache/bpf-iter/v8');
    // A relative XDG_CACHE_HOME is invalid (XDG base directory spec): ignored.
    expect(codeCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/h' })).toBe('/h/.cache/bpf-iter/v8');
    expect(codeCacheDir({ TMPDIR: '/t' })).toBe(`/t/bpf-iter-${process.geteuid!()}/v8`);
    expect(codeCacheDir({ HOME: '/h', BPF_ITER_CODE_CACHE: '0' })).toBeNull();
  });

  it('checksum: tells a region overwritten or a length changed, aligned or not', () => {
    const b = Buffer.alloc(4096, 7);
    const c = Buffer.from(b);
    c.fill(0, 1024, 1024 + 256);
    expect(checksum(b)).not.toBe(checksum(c));
    expect(checksum(b)).not.toBe(checksum(b.subarray(0, 4092)));
    const shifted = Buffer.concat([Buffer.from('x'), b]).subarray(1);
    expect(shifted.byteOffset % 4).not.toBe(0);
    expect(checksum(shifted)).toBe(checksum(b));
  });

  it('importCommand imports a module next to the bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-cc-'));
    mkdirSync(join(dir, 'cli'));
    writeFileSync(join(dir, 'cli', 'm.mjs'), 'export const answer = 42;\n');
    expect(((await importCommand(join(dir, 'cli'), './m.mjs')) as { answer: number }).answer).toBe(42);
  });

  it("the bin's V8 flags: a larger interrupt budget, unless the user's node flags or NODE_OPTIONS set the tiering", () => {
    expect(CLI_INTERRUPT_BUDGET).toBeGreaterThan(67584);
    expect(cliV8Flags([], '')).toEqual([`--interrupt-budget=${CLI_INTERRUPT_BUDGET}`]);
    expect(cliV8Flags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([`--interrupt-budget=${CLI_INTERRUPT_BUDGET}`]);
    expect(cliV8Flags(['--interrupt-budget=1000'], '')).toEqual([]);
    expect(cliV8Flags([], '--enable-source-maps --no-opt')).toEqual([]);
    expect(cliV8Flags(['--max_opt=1'], '')).toEqual([]);
    expect(cliV8Flags(['--jitless'], '')).toEqual([]);
  });
});
