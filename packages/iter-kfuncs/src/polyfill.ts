/**
 * Node 20 has no `Symbol.dispose` / `Symbol.asyncDispose` at run time, while
 * TypeScript (lib `ESNext.Disposable`) and esbuild's `using` lowering expect
 * them. Install them once, using the same registered symbols Node 22 uses, so
 * `using it = iterNum.open(0, 3)` works on both.
 */
const S = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
S.dispose ??= Symbol.for('nodejs.dispose');
S.asyncDispose ??= Symbol.for('nodejs.asyncDispose');

export {};
