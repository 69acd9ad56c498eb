import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_RANK, type MatmulOperand, matmulValues } from '../src/index.js';

/**
 * matmulValues() fills the uniform block every matmul variant reads: sizes and strides as given, the batch dims
 * padded with zeros to MAX_BATCH_RANK (the kernels walk `batchRank` of them), the launch's place in the grid
 * (`groupBase`, [0, 0, 0] for a single launch). More batch dims than the block holds must be refused, not cut: the
 * kernel would ignore the extra dims and every batch past the first would read the wrong matrices.
 */
const dim = fc.integer({ min: 1, max: 500 });
const stride = fc.integer({ min: 0, max: 1000 });
const operand = (rank: number): fc.Arbitrary<MatmulOperand> =>
  fc.record({
    offset: fc.nat(1000),
    row: stride,
    col: stride,
    batch: fc.array(stride, { minLength: rank, maxLength: rank }),
  });
const withRank = (min: number, max: number) =>
  fc.integer({ min, max }).chain((rank) =>
    fc.record({
      M: dim,
      N: dim,
      K: dim,
      a: operand(rank),
      b: operand(rank),
      batch: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: rank, maxLength: rank }),
      outOffset: fc.nat(1000),
      gridCols: fc.integer({ min: 1, max: 8 }),
      groupBase: fc.tuple(fc.nat(65535), fc.nat(65535), fc.nat(65535)),
    }),
  );
const pad = (v: readonly number[]) => [...v, ...new Array<number>(MAX_BATCH_RANK - v.length).fill(0)];

describe('matmulValues', () => {
  it('passes sizes and strides through and pads up to MAX_BATCH_RANK batch dims with zeros', () => {
    fc.assert(
      fc.property(withRank(0, MAX_BATCH_RANK), ({ M, N, K, a, b, batch, outOffset, gridCols, groupBase }) => {
        const v = matmulValues(M, N, K, a, b, batch, outOffset);
        expect(v).toMatchObject({ M, N, K, outOffset, aOffset: a.offset, aRow: a.row, aCol: a.col });
        expect(v).toMatchObject({ bOffset: b.offset, bRow: b.row, bCol: b.col, batchRank: batch.length });
        expect(v.batchShape).toEqual(pad(batch));
        expect(v.aBatch).toEqual(pad(a.batch));
        expect(v.bBatch).toEqual(pad(b.batch));
        // One launch (no split grid) starts at the origin.
        expect(v.gridCols).toBe(1);
        expect(v.groupBase).toEqual([0, 0, 0]);
        const split = matmulValues(M, N, K, a, b, batch, outOffset, gridCols, groupBase);
        expect(split).toMatchObject({ gridCols, groupBase });
      }),
    );
  });

  it(`refuses more than MAX_BATCH_RANK (${MAX_BATCH_RANK}) batch dims, naming how many it got`, () => {
    fc.assert(
      fc.property(withRank(MAX_BATCH_RANK + 1, MAX_BATCH_RANK + 4), ({ M, N, K, a, b, batch, outOffset }) => {
        expect(() => matmulValues(M, N, K, a, b, batch, outOffset)).toThrow(
          `matmul supports at most ${MAX_BATCH_RANK} batch dims that do not merge, got ${batch.length}`,
        );
      }),
    );
  });
});
