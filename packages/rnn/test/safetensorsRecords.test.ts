/**
 * What decodeSafetensors gives back is the caller's: plain records whose entries (any name, `__proto__` too) can
 * be replaced and deleted like those of an object literal, over random names and metadata.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/io/index.js';

describe('decoded records', () => {
  it('tensors and metadata are ordinary mutable own properties, whatever their names', () => {
    const name = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString'),
      fc.string({ minLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 4 }).filter((ns) => !ns.includes('__metadata__')),
        fc.dictionary(
          name.filter((k) => !k.startsWith('webrnn')),
          fc.string(),
          { maxKeys: 3 },
        ),
        (names, meta) => {
          const tensors = Object.fromEntries(
            names.map((n, i) => [n, { dtype: 'float32' as const, shape: [1], data: new Float32Array([i]) }]),
          );
          // Object.fromEntries keeps '__proto__' as an own name, as the decoder must.
          const out = decodeSafetensors(encodeSafetensors(tensors, { ...meta }));
          expect(Object.keys(out.tensors).sort()).toEqual([...names].sort());
          expect(Object.keys(out.metadata).sort()).toEqual(Object.keys(meta).sort());
          for (const rec of [out.tensors, out.metadata] as Record<string, unknown>[]) {
            for (const k of Object.keys(rec)) {
              const d = Object.getOwnPropertyDescriptor(rec, k)!;
              expect([d.writable, d.enumerable, d.configurable]).toEqual([true, true, true]);
              rec[k] = 'replaced';
              expect(rec[k]).toBe('replaced');
              delete rec[k];
              expect(Object.hasOwn(rec, k)).toBe(false);
            }
          }
          expect(names.every((n) => Object.hasOwn(tensors, n))).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
});
