import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WG, grid } from '../src/index.js';
import { sharedStorage, walk } from '../src/wgsl.js';

/**
 * The shared WGSL pieces (wgsl.ts) at their edges: the launch grid past WebGPU's 65535 workgroups per dimension
 * (reached on a device only by launches of more than 16M threads; tested up to 2^31 threads, within 65535^2
 * groups), the bindings of operands sharing a buffer, and the walk of a 0-d shape.
 */
const MAX_GROUPS = 65535;

describe('grid', () => {
  it('covers every thread with at most 65535 groups per dimension, in one row while they fit', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 31 })),
        fc.constantFrom(1, 64, WG),
        (threads, wg) => {
          const [x, y, z] = grid(threads, wg);
          const groups = Math.max(1, Math.ceil(threads / wg));
          expect(z).toBe(1);
          expect(x * y * wg).toBeGreaterThanOrEqual(threads);
          expect(Math.max(x, y)).toBeLessThanOrEqual(MAX_GROUPS);
          if (groups <= MAX_GROUPS) expect([x, y]).toEqual([groups, 1]);
          // Folded, no more than one row of groups is idle.
          else expect(x * (y - 1)).toBeLessThan(groups);
        },
      ),
    );
  });

  it('switches to two rows exactly past 65535 groups', () => {
    expect(grid(MAX_GROUPS * WG)).toEqual([MAX_GROUPS, 1, 1]);
    expect(grid(MAX_GROUPS * WG + 1)).toEqual([32768, 2, 1]);
    expect(grid(0)).toEqual([1, 1, 1]);
  });
});

describe('sharedStorage', () => {
  it('binds each buffer once, written when its operand is among the first `writes`', () => {
    const decls = sharedStorage(['h', 'c', 'x', 'cPrev', 'w'], 2, { cPrev: 'c', w: 'x' });
    expect(decls).toEqual([
      { name: 'h', type: 'f32', write: true },
      { name: 'c', type: 'f32', write: true },
      { name: 'x', type: 'f32', write: false },
    ]);
  });
});

describe('walk', () => {
  it('of a 0-d shape only starts each operand at its base', () => {
    const code = walk('tid', 0, () => 'n', [{ offset: 'o', base: 'b', stride: () => 's' }]);
    expect(code).toContain('var o = b;');
    expect(code).not.toContain('o +=');
  });
});
