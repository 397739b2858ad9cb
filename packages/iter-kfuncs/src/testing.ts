/**
 * `@bpf-iter/iter-kfuncs/testing`: the open-coded iterator contract checker
 * for iterator authors (property-based, with fast-check — a dependency of this
 * entry only: install `fast-check` 4.x beside this package to use it).
 *
 * @packageDocumentation
 */
import './polyfill.js';

export { checkIterContract, iterContractProperty, type IterContractOptions } from './check.js';
