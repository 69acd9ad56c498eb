import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Uniforms, canonical } from '../src/index.js';

/**
 * A kernel's cache key is the canonical JSON of its spec (spec.ts): equal specs must give equal keys whatever
 * their key order, and different specs different keys, or the runtime would reuse the wrong pipeline. The uniform
 * block (uniforms.ts) is the one layout both the WGSL and the packed values follow: reads and packs outside the
 * declared fields are refused by name, and a pack writes exactly the block's words.
 */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 3 }), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 2 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** The same value with every object's keys in reverse order. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as object)
        .reverse()
        .map(([k, x]) => [k, reversed(x)]),
    );
  return v;
}

describe('canonical (the kernel key)', () => {
  it('is JSON that parses back to the value, whatever the key order', () => {
    fc.assert(
      fc.property(json, (v) => {
        const key = canonical(v);
        expect(JSON.parse(key)).toEqual(v);
        expect(canonical(reversed(v))).toBe(key);
      }),
    );
  });

  it('gives different keys to different values (no two specs share a pipeline)', () => {
    // An independent serialisation with sorted keys: equal exactly for deep-equal values.
    const reference = (v: unknown) =>
      JSON.stringify(v, (_, x) =>
        x !== null && typeof x === 'object' && !Array.isArray(x)
          ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
          : x,
      );
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(canonical(a) === canonical(b)).toBe(reference(a) === reference(b));
      }),
    );
    expect(canonical([12])).not.toBe(canonical([1, 2]));
    expect(canonical({ a: [1, 2] })).not.toBe(canonical({ a: 1, 2: 2 }));
  });

  it('sorts keys and leaves out undefined fields (an absent option and an undefined one are the same spec)', () => {
    expect(canonical({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(canonical({ kind: 'map', check: undefined })).toBe(canonical({ kind: 'map' }));
    expect(canonical(null)).toBe('null');
    expect(canonical(3)).toBe('3');
  });
});

describe('Uniforms', () => {
  const U = new Uniforms({ n: 1, shape: 3, scale: 1 }, ['scale']);

  it('packs exactly its words at the given offset, floats as their bits', () => {
    const into = new Int32Array(U.words + 8).fill(-7);
    U.pack({ n: 5, shape: [1, 2, 3], scale: 0.5 }, into, 4);
    const bits = new Int32Array(new Float32Array([0.5]).buffer)[0];
    expect([...into]).toEqual([-7, -7, -7, -7, 5, 1, 2, 3, bits, -7, -7, -7, -7, -7, -7, -7]);
    expect(U.words).toBe(8);
  });

  it('fields are integers unless listed as floats', () => {
    const plain = new Uniforms({ a: 1 });
    expect([...plain.pack({ a: 3 })]).toEqual([3, 0, 0, 0]);
  });

  it('refuses a field or element that is not declared, naming it', () => {
    expect(() => U.at('m')).toThrow('uniform m[0] is not declared');
    expect(() => U.at('shape', 3)).toThrow('uniform shape[3] is not declared');
    expect(() => U.at('shape', -1)).toThrow('uniform shape[-1] is not declared');
    expect(U.at('shape', 2)).toBe('u.v[0].w');
  });

  it('refuses a pack without a field or with the wrong length, naming it', () => {
    expect(() => U.pack({ n: 1, shape: [1, 2, 3] })).toThrow('uniform scale has no value');
    expect(() => U.pack({ n: 1, shape: [1, 2], scale: 1 })).toThrow('uniform shape needs 3 values, got 2');
  });
});
