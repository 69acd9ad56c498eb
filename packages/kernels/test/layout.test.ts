import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesce } from '../src/index.js';

/**
 * coalesce() merges dims for the strided kernels (elementwise, reduce, matmul's batch): whatever it merges, walking
 * the result in row-major order must visit, for every operand, exactly the offsets the original walk visits, in the
 * same order. Strides: dense with expanded (stride 0) dims, which merge, or arbitrary (0, 1, others), over size-1 dims too.
 */
function offsets(shape: readonly number[], strides: readonly number[]): number[] {
  const out: number[] = [];
  const idx = shape.map(() => 0);
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    out.push(idx.reduce((o, c, d) => o + c * strides[d]!, 0));
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A dense tensor's strides with some dims expanded (stride 0): the layouts that merge. */
const denseStrides = (shape: readonly number[]) =>
  fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }).map((expanded) => {
    let s = 1;
    const out = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      out[d] = expanded[d] ? 0 : s;
      if (!expanded[d]) s *= shape[d]!;
    }
    return out;
  });

const anyStrides = (rank: number) =>
  fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 40 })), {
    minLength: rank,
    maxLength: rank,
  });

const layouts = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.array(fc.oneof(denseStrides(shape), anyStrides(shape.length)), { minLength: 1, maxLength: 3 }),
    ),
  );

describe('coalesce', () => {
  it('visits the same offsets in the same order for every operand, stride-0 dims included', () => {
    fc.assert(
      fc.property(layouts, ([shape, strides]) => {
        const c = coalesce(shape, strides);
        expect(c.shape.every((s) => s > 1) || (c.shape.length === 1 && c.shape[0] === 1)).toBe(true);
        strides.forEach((st, k) => {
          expect(offsets(c.shape, c.strides[k]!)).toEqual(offsets(shape, st));
        });
      }),
      { numRuns: 500 },
    );
  });

  it('merges what walks contiguously, and never an expanded dim with a strided one', () => {
    expect(coalesce([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
    expect(coalesce([2, 3, 4], [[0, 0, 0]])).toEqual({ shape: [24], strides: [[0]] });
    expect(coalesce([3, 4], [[0, 1]])).toEqual({ shape: [3, 4], strides: [[0, 1]] });
    expect(coalesce([3, 4], [[1, 0]])).toEqual({ shape: [3, 4], strides: [[1, 0]] });
    expect(
      coalesce(
        [3, 1, 4],
        [
          [4, 7, 1],
          [0, 9, 0],
        ],
      ),
    ).toEqual({ shape: [12], strides: [[1], [0]] });
  });

  it("a launch of size-1 dims only (or rank 0) is one element at each operand's base: shape [1], stride 0", () => {
    for (const [shape, strides] of [
      [[], [[], []]],
      [
        [1, 1, 1],
        [
          [7, 3, 1],
          [0, 0, 5],
        ],
      ],
    ] as [number[], number[][]][]) {
      expect(coalesce(shape, strides)).toEqual({ shape: [1], strides: strides.map(() => [0]) });
    }
  });
});
