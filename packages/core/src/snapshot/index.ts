/** Kernel snapshots: save a model, load it back anywhere (docs/snapshots.md). */
export * from './format.js';
export * from './writer.js';
export * from './reader.js';
export * from './redact.js';
export * from './diff.js';
