import { WebrnnError } from './errors.js';

// The bottom of the memory layer: tensor.ts and the tape need `track`/`tidy`, so this file imports no tensor and
// no op (memory.ts, above the ops, adds the checked `keep` and `memory()`).

/**
 * Scopes for `tidy`: every tensor created while a scope is open is tracked by it, and disposed when the scope
 * closes unless it is part of the result or was passed to `keep`.
 */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}
const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** @internal Called by the Tensor constructor. */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** @internal Stop tracking `t` in the open scopes (a tensor that found an owner, such as a `.grad`). */
export function untrack<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** @internal Exempt `t` from every enclosing and future `tidy` (`keep` after its argument check). */
export function markKept<T extends Disposable>(t: T): T {
  kept.add(t);
  untrack(t);
  return t;
}

/**
 * Run `fn` and dispose every tensor it created, except those it returns (found in arrays, plain objects and
 * Maps, at any depth) and those passed to `keep`. Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const fn = typeof a === 'function' ? a : b!;
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    // What the synchronous part created is no one's: dispose it as a failed scope would, rather than leak it.
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw new WebrnnError(
      'tidy',
      'the function returned a Promise; tidy cannot track async work, use dispose()',
    );
  }
  const survivors = new Set<unknown>();
  collect(result, survivors, 0);
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) {
      if (!kept.has(t)) track(t);
    } else if (!t.isDisposed) t.dispose();
  }
  return result;
}

function collect(v: unknown, out: Set<unknown>, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 32) return;
  if (typeof (v as Disposable).dispose === 'function' && 'shape' in v) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype)
    for (const x of Object.values(v)) collect(x, out, depth + 1);
}
