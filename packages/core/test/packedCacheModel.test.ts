/**
 * The packed-B cache (backends/cpu/wasm/packedCache.ts) on its own, over a fake wasm memory, against a model of
 * its documented policy: a buffer gets an entry only once one of its layouts is seen twice at the same version (or
 * once it already has an entry), never one larger than the bound; a hit says whether it holds this version; the
 * least recently used entries make room, the rest keep their packed values (compaction moves them); a freed
 * buffer's entries go. Each entry filled here holds a signature of (buffer, layout, version) and the per-product
 * scratch above the cache is scribbled on after every call: a hit that reads someone else's floats, stale ones or
 * scratch shows as a wrong signature. matmulPackedCache.test.ts checks the products that use it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  forgetPackedB,
  lookupPackedB,
  markFilled,
  packedCacheStats,
  scratchBase,
  setPackedCacheLimit,
} from '../src/backends/cpu/wasm/packedCache.js';
import { type GemmInstance, setCpuWasm } from '../src/backends/cpu/wasm/runtime.js';
import { fromData, matmul, narrow } from '../src/index.js';

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
/** Floats of each layout (a key names a layout, so it fixes the size). */
const FLOATS: Record<string, number> = { a: 10, b: 23, c: 40 };
const KEYS = Object.keys(FLOATS);

interface ModelEntry {
  buffer: number;
  key: string;
  version: number;
  lastUse: number;
}

const round4 = (n: number) => Math.ceil(n / 4) * 4;
const signature = (buffer: number, key: string, version: number, j: number) =>
  (buffer * 16 + KEYS.indexOf(key) * 4 + version) * 64 + j;

type Step = { op: 'lookup'; buffer: number; key: string; version: number } | { op: 'forget'; buffer: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('lookup' as const),
      buffer: fc.integer({ min: 0, max: 3 }),
      key: fc.constantFrom(...KEYS),
      // Mostly the same version (weights read step after step), sometimes a new one (an optimiser step).
      version: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('forget' as const), buffer: fc.integer({ min: 0, max: 3 }) }),
  },
);

describe('packed-B cache against a model of its policy', () => {
  it('starts empty with a 64 MiB bound', () => {
    expect(packedCacheStats()).toEqual({ entries: 0, bytes: 0, limitBytes: 64 << 20 });
    expect(scratchBase()).toBe(0);
  });

  it('caches, hits, evicts the least recently used and compacts exactly as documented, never serving wrong floats', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(24, 40, 48, 64, 100), // 24 and 40: a layout exactly the bound
        fc.array(stepArb, { minLength: 1, maxLength: 80 }),
        (limitFloats, steps) => {
          setPackedCacheLimit(limitFloats * 4);
          expect(packedCacheStats()).toEqual({ entries: 0, bytes: 0, limitBytes: limitFloats * 4 });
          const memory = new ArrayBuffer(4 * (limitFloats + 64));
          const g = { memory: { buffer: memory } } as unknown as GemmInstance;
          const F = new Float32Array(memory);
          const buffers = Array.from({ length: 4 }, () => ({})); // fresh objects: `seen` is per buffer
          let entries: ModelEntry[] = [];
          const seen = new Map<number, Map<string, number>>();
          let clock = 0;
          for (const s of steps) {
            if (s.op === 'forget') {
              forgetPackedB(buffers[s.buffer]!);
              entries = entries.filter((e) => e.buffer !== s.buffer);
            } else {
              const floats = FLOATS[s.key]!;
              const got = lookupPackedB(g, buffers[s.buffer]!, s.key, s.version, floats);
              // The model's answer: null, or an entry, filled or not.
              const mine = entries.filter((e) => e.buffer === s.buffer);
              const hit = mine.find((e) => e.key === s.key);
              let want: 'null' | 'filled' | 'empty';
              if (hit) {
                hit.lastUse = ++clock;
                want = hit.version === s.version ? 'filled' : 'empty';
              } else if (mine.length === 0 && seen.get(s.buffer)?.get(s.key) !== s.version) {
                seen.set(s.buffer, (seen.get(s.buffer) ?? new Map()).set(s.key, s.version));
                want = 'null';
              } else if (round4(floats) > limitFloats) {
                want = 'null';
              } else {
                const used = entries.reduce((n, e) => n + round4(FLOATS[e.key]!), 0);
                if (used + round4(floats) > limitFloats) {
                  // The most recently used that still fit stay.
                  let total = round4(floats);
                  const keep = new Set<ModelEntry>();
                  for (const e of [...entries].sort((x, y) => y.lastUse - x.lastUse)) {
                    if (total + round4(FLOATS[e.key]!) > limitFloats) continue;
                    keep.add(e);
                    total += round4(FLOATS[e.key]!);
                  }
                  entries = entries.filter((e) => keep.has(e));
                }
                entries.push({ buffer: s.buffer, key: s.key, version: -1, lastUse: ++clock });
                want = 'empty';
              }
              expect(got === null ? 'null' : got.filled ? 'filled' : 'empty').toBe(want);
              if (got) {
                expect(got.off % 4).toBe(0);
                expect(got.off + floats).toBeLessThanOrEqual(limitFloats);
                expect(scratchBase()).toBeGreaterThanOrEqual(got.off + floats);
                const sig = (j: number) => signature(s.buffer, s.key, s.version, j);
                if (got.filled) {
                  for (let j = 0; j < floats; j++) expect(F[got.off + j]).toBe(sig(j));
                } else {
                  for (let j = 0; j < floats; j++) F[got.off + j] = sig(j); // "pack" B there
                  markFilled(got.entry, s.version);
                  entries.find((e) => e.buffer === s.buffer && e.key === s.key)!.version = s.version;
                }
              }
            }
            const stats = packedCacheStats();
            expect(stats.entries).toBe(entries.length);
            expect(stats.bytes).toBe(4 * entries.reduce((n, e) => n + FLOATS[e.key]!, 0));
            expect(scratchBase()).toBeLessThanOrEqual(limitFloats);
            // A product's scratch lives above the cache: it must never reach an entry.
            F.fill(-1, scratchBase());
          }
        },
      ),
      { numRuns: 300, seed: SEED },
    );
    setPackedCacheLimit(64 << 20);
  });

  it('evicts the least recently used: a weight read again stays, the one not read since goes', () => {
    setPackedCacheLimit(3 * 12 * 4); // three entries of layout 'a' (10 floats, 12 with padding)
    const g = { memory: { buffer: new ArrayBuffer(4 * 64) } } as unknown as GemmInstance;
    const [w0, w1, w2, w3] = [{}, {}, {}, {}];
    for (const w of [w0, w1, w2, w3]) lookupPackedB(g, w, 'a', 0, 10); // first sight: not cached
    for (const w of [w0, w1, w2]) {
      const r = lookupPackedB(g, w, 'a', 0, 10)!;
      markFilled(r.entry, 0);
    }
    for (let i = 0; i < 2; i++) expect(lookupPackedB(g, w0, 'a', 0, 10)!.filled).toBe(true); // now the most recent
    markFilled(lookupPackedB(g, w3, 'a', 0, 10)!.entry, 0); // full: w1, the least recent, goes
    expect(packedCacheStats().entries).toBe(3);
    expect(lookupPackedB(g, w0, 'a', 0, 10)!.filled).toBe(true);
    expect(lookupPackedB(g, w2, 'a', 0, 10)!.filled).toBe(true);
    expect(lookupPackedB(g, w3, 'a', 0, 10)!.filled).toBe(true);
    setPackedCacheLimit(64 << 20);
  });

  it('a weight whose other view was evicted to make room for it stays reachable (was: a TypeError in matmul)', () => {
    // Two views of one storage (SeqLSTM's input and recurrent parts) and a bound that holds either, not both:
    // caching the second evicted the first and, with it, the storage's entry list, so the new entry was left
    // unreachable (never hit, never forgotten) and the next eviction failed on it.
    setPackedCacheLimit(1600 * 4);
    setCpuWasm('on');
    try {
      const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 4);
      const weight = fromData(ramp(32 * 64), [32, 64]);
      const small = narrow(weight, 0, 0, 8); // 8 x 64: 512 packed floats
      const large = narrow(weight, 0, 8, 24); // 24 x 64: 1536 packed floats
      const other = fromData(ramp(8 * 64), [8, 64]);
      const x8 = fromData(ramp(9 * 8), [9, 8]);
      const x24 = fromData(ramp(9 * 24), [9, 24]);
      const products = [
        matmul(x8, small),
        matmul(x8, small), // cached
        matmul(x24, large), // cached at once (its storage has an entry), evicting small's
        matmul(x24, large),
        matmul(x8, other),
        matmul(x8, other), // cached, evicting large's
      ];
      expect(packedCacheStats().entries).toBe(1);
      weight.dispose();
      expect(packedCacheStats().entries).toBe(1); // other's
      other.dispose();
      expect(packedCacheStats().entries).toBe(0);
      for (const t of [small, large, x8, x24, ...products]) t.dispose();
    } finally {
      setCpuWasm('auto');
      setPackedCacheLimit(64 << 20);
    }
  });

  it('an entry not yet filled is not filled at any version', () => {
    setPackedCacheLimit(64 * 4);
    const g = { memory: { buffer: new ArrayBuffer(4 * 128) } } as unknown as GemmInstance;
    const w = {};
    expect(lookupPackedB(g, w, 'a', 1, 10)).toBeNull(); // first sight
    const r = lookupPackedB(g, w, 'a', 1, 10)!; // seen at this version before: an entry (never filled here)
    expect(r.filled).toBe(false);
    for (const version of [0, 1, 2]) expect(lookupPackedB(g, w, 'a', version, 10)!.filled).toBe(false);
    setPackedCacheLimit(64 << 20);
  });

  it('compaction moves the kept entries with their floats: evicting the 1st and 3rd of four, the 2nd and 4th keep theirs', () => {
    setPackedCacheLimit(48 * 4); // four entries of layout 'a' (10 floats, 12 with padding)
    const g = { memory: { buffer: new ArrayBuffer(4 * 64) } } as unknown as GemmInstance;
    const F = new Float32Array(g.memory.buffer);
    const ws = [{}, {}, {}, {}];
    const pack = (i: number) => {
      const r = lookupPackedB(g, ws[i]!, 'a', 0, 10)!;
      for (let j = 0; j < 10; j++) F[r.off + j] = signature(i, 'a', 0, j);
      markFilled(r.entry, 0);
    };
    for (let i = 0; i < 4; i++) lookupPackedB(g, ws[i]!, 'a', 0, 10); // first sight
    for (let i = 0; i < 4; i++) pack(i);
    for (const i of [1, 3]) expect(lookupPackedB(g, ws[i]!, 'a', 0, 10)!.filled).toBe(true); // recently used
    const fresh = {};
    lookupPackedB(g, fresh, 'b', 0, 23);
    expect(lookupPackedB(g, fresh, 'b', 0, 23)!.off).toBe(24); // room made: 0 and 2 evicted, 1 and 3 below
    for (const i of [1, 3]) {
      const r = lookupPackedB(g, ws[i]!, 'a', 0, 10)!;
      expect(r.filled).toBe(true);
      expect(Array.from(F.subarray(r.off, r.off + 10))).toEqual(
        Array.from({ length: 10 }, (_, j) => signature(i, 'a', 0, j)),
      );
    }
    setPackedCacheLimit(64 << 20);
  });
});
