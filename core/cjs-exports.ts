// A CommonJS package loaded with import(): node hands over its named exports and `default`
// (module.exports), while the bundle, split at each import() (build.mjs), hands over `default` only.
import type * as Undici from 'undici';

/**
 * module.exports of a CommonJS package whose exports are an object, from its import() namespace, or
 * the namespace of an ES module. (A package that exports one function or class: use `.default`.)
 */
export function cjsExports<T extends object>(namespace: T): T {
  const exports = (namespace as { default?: unknown }).default;
  return (exports !== null && typeof exports === 'object' ? exports : namespace) as T;
}

/** undici, loaded on first use: a process that never calls out (the Arc Proxy alone) never reads it. */
export const loadUndici = async (): Promise<typeof Undici> => cjsExports(await import('undici'));
