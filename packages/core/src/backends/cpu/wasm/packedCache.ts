import type { GemmInstance } from './runtime.js';

/**
 * Packed right operands (B) kept in wasm memory between products, so that a recurrent step's weights are packed
 * once instead of at every step (packing was ~30% of a [32, 256] x [256, 1024] step product), and so that thin
 * products (batch 1 or 8) can run in wasm at all: without the cache, copying B in costs as much as the product.
 *
 * - An entry is keyed by the operand's buffer (a CPU buffer is a typed array owned by exactly one Storage), its
 *   layout (offset, strides, K, N) and the storage's `version` at the time of packing, which every in-place op
 *   increments (an optimiser step, copy_, fill_): a product whose B has another version repacks the entry.
 *   Views without a version (built inside a backend) are never cached.
 * - Only a buffer seen twice at the same version gets an entry: weights are read at every step, while activations
 *   and gradients, read once, would only push the weights out.
 * - The cache is the bottom [0, top) of the wasm memory, entries in address order; the per-product scratch
 *   (packed A, uncached B, C) starts above it. The CPU backend's `free` forgets a buffer's entries at once
 *   (forgetPackedB); their space is reused by compaction. At most `limit` bytes (64 MiB by default): the least
 *   recently used entries make room for a new one, and an operand larger than the limit is not cached.
 */

export interface Entry {
  readonly buffer: object;
  readonly key: string;
  /** The storage version packed there; -1 while the entry is allocated but not yet filled. */
  version: number;
  /** Float offset in wasm memory (a multiple of 4) and length. */
  off: number;
  readonly floats: number;
  lastUse: number;
}

let limitFloats = (64 << 20) / 4;
/** Live entries in address order. */
let order: Entry[] = [];
const byBuffer = new Map<object, Entry[]>();
/**
 * The layouts of each buffer read once, with the version each was read at (GC'd with the buffer). Several per
 * buffer: one weight storage often holds several operands (SeqLSTM's input and recurrent parts are two views of
 * one tensor), read in turn; remembering only the last would never see any of them twice.
 */
const seen = new WeakMap<object, Map<string, number>>();
let top = 0;
let clock = 0;

const roundUp4 = (n: number) => (n + 3) & ~3;

/** First float of the per-product scratch: above the cache. */
export function scratchBase(): number {
  return top;
}

/**
 * The entry for B (`buffer` at `version`, layout `key`, `floats` packed floats), or null when it is not worth
 * caching yet (first sight) or cannot be. `filled` says whether it already holds B's values at this version; if
 * not, the caller packs B at `off` and calls markFilled. May move entries (compaction), so call it before
 * taking a view of the memory.
 */
export function lookupPackedB(
  g: GemmInstance,
  buffer: object,
  key: string,
  version: number,
  floats: number,
): { off: number; filled: boolean; entry: Entry } | null {
  const list = byBuffer.get(buffer);
  const hit = list?.find((e) => e.key === key);
  if (hit) {
    hit.lastUse = ++clock;
    return { off: hit.off, filled: hit.version === version, entry: hit };
  }
  let layouts = seen.get(buffer);
  if (!list && layouts?.get(key) !== version) {
    if (!layouts) seen.set(buffer, (layouts = new Map()));
    layouts.set(key, version);
    return null;
  }
  const size = roundUp4(floats);
  if (size > limitFloats) return null;
  if (top + size > limitFloats) makeRoom(g, size);
  const entry: Entry = { buffer, key, version: -1, off: top, floats, lastUse: ++clock };
  order.push(entry);
  top += size;
  // Read again: makeRoom may have evicted this buffer's other entries and dropped its list.
  const kept = byBuffer.get(buffer);
  if (kept) kept.push(entry);
  else byBuffer.set(buffer, [entry]);
  return { off: entry.off, filled: false, entry };
}

/** The entry now holds B's values at `version`. */
export function markFilled(entry: Entry, version: number): void {
  entry.version = version;
}

/** Drops a freed buffer's entries (called by the CPU backend's free). */
export function forgetPackedB(buffer: object): void {
  const list = byBuffer.get(buffer);
  if (!list) return;
  byBuffer.delete(buffer);
  order = order.filter((e) => e.buffer !== buffer);
  const last = order[order.length - 1];
  top = last ? last.off + roundUp4(last.floats) : 0;
}

/** Evicts least recently used entries until `size` more floats fit, then compacts the survivors downwards. */
function makeRoom(g: GemmInstance, size: number): void {
  const keep = new Set<Entry>();
  let total = size;
  for (const e of [...order].sort((x, y) => y.lastUse - x.lastUse)) {
    if (total + roundUp4(e.floats) > limitFloats) continue;
    keep.add(e);
    total += roundUp4(e.floats);
  }
  for (const e of order) {
    if (keep.has(e)) continue;
    const list = byBuffer.get(e.buffer)!.filter((x) => x !== e);
    if (list.length) byBuffer.set(e.buffer, list);
    else byBuffer.delete(e.buffer);
  }
  order = order.filter((e) => keep.has(e));
  const F = new Float32Array(g.memory.buffer);
  top = 0;
  for (const e of order) {
    if (e.off !== top) F.copyWithin(top, e.off, e.off + e.floats);
    e.off = top;
    top += roundUp4(e.floats);
  }
}

/** What the cache holds (for tests and bug reports). */
export function packedCacheStats(): { entries: number; bytes: number; limitBytes: number } {
  let floats = 0;
  for (const e of order) floats += e.floats;
  return { entries: order.length, bytes: 4 * floats, limitBytes: 4 * limitFloats };
}

/** Sets the cache's bound in bytes (tests use a small one) and empties it. */
export function setPackedCacheLimit(bytes: number): void {
  limitFloats = Math.floor(bytes / 4);
  order = [];
  byBuffer.clear();
  top = 0;
}
