import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../src/io/sha256.js';

/**
 * The TypeScript SHA-256 that checkpoints use where there is no node:crypto (a page): the digest of any bytes, fed
 * in any chunks, is node:crypto's; and the standard's own test vectors.
 */
describe('Sha256 (for hosts without node:crypto)', () => {
  it('equals node:crypto on random bytes in random chunks (block edges 55/56/63/64/65 included)', () => {
    const lengths = fc.oneof(fc.constantFrom(0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128), fc.nat(700));
    fc.assert(
      fc.property(
        lengths.chain((n) =>
          fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.array(fc.nat(n), { maxLength: 5 })),
        ),
        ([bytes, cuts]) => {
          const ours = new Sha256();
          let at = 0;
          for (const c of [...cuts].sort((a, b) => a - b)) {
            ours.update(bytes.subarray(at, c));
            at = c;
          }
          ours.update(bytes.subarray(at));
          expect(ours.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives FIPS 180-4's examples, and refuses use after its digest", () => {
    const hex = (s: string) => new Sha256().update(new TextEncoder().encode(s)).digest('hex');
    expect(hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    const h = new Sha256();
    h.digest('hex');
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => h.digest('hex')).toThrow(/twice/);
  });
});
