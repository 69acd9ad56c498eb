/**
 * rnn/masking.ts on its own, against plain-array references: which rows are real (zero rows, NaN rows, explicit
 * zeroMasks), how masked rows are zeroed (exactly 0, even where the row held NaN or Inf; each tensor of a step once),
 * when a tensor is left alone, and the exact messages of each refusal. maskZero.test.ts, trimZero.test.ts and the
 * recurrent tests check the same through the modules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/arbitraries.js';
import { type Tensor, tensor } from '@webrnn/rnn';
import {
  applyKeep,
  batchRankOf,
  checkLeading,
  floatOf,
  keepFromZeroMask,
  maskIfBatched,
  maskStep,
  nonZeroRows,
  stepKeepFromInput,
  stepKeepFromMask,
} from '../src/rnn/masking.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = (data: readonly number[], shape: readonly number[]) =>
  tensor(data, { shape: [...shape], dtype: 'float64' });
/** A value that is often 0, sometimes NaN or infinite. */
const value = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: realIn(-5, 5) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, -0) },
);
/** A shape of rank 1..3 and values for it, with a batch rank 0..rank. */
const batch = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(3))
  .chain(([shape, b]) => {
    const size = shape.reduce((a, d) => a * d, 1);
    return fc.record({
      shape: fc.constant(shape),
      batchRank: fc.constant(b % (shape.length + 1)),
      data: fc.array(value, { minLength: size, maxLength: size }),
    });
  });

/** 1 per row (the trailing dims after batchRank) that holds a non-zero (NaN counts), else 0. */
function rowsRef(data: readonly number[], shape: readonly number[], batchRank: number): number[] {
  const rowSize = shape.slice(batchRank).reduce((a, d) => a * d, 1);
  const rows = data.length / rowSize;
  return Array.from({ length: rows }, (_, r) =>
    data.slice(r * rowSize, (r + 1) * rowSize).some((v) => v !== 0) ? 1 : 0,
  );
}

describe('which rows are real', () => {
  it('nonZeroRows: 1 for a row with a non-zero or NaN, 0 for an all-zero row, in the leading shape', () => {
    fc.assert(
      fc.property(batch, ({ shape, batchRank, data }) => {
        const x = f64(data, shape);
        const k = nonZeroRows(x, batchRank, 'float64');
        expect(k.shape).toEqual(shape.slice(0, batchRank));
        expect(k.dtype).toBe('float64');
        expect(arr(k)).toEqual(rowsRef(data, shape, batchRank));
      }),
    );
  });

  it('keepFromZeroMask: 1 where the mask is 0, in the dtype asked; floatOf keeps floats, maps int32 to float32', () => {
    const k = keepFromZeroMask(tensor([0, 1, 0, 7], { dtype: 'int32' }), 'float64', 'cpu');
    expect(k.dtype).toBe('float64');
    expect(arr(k)).toEqual([1, 0, 1, 0]);
    expect(floatOf(tensor([1], { dtype: 'int32' }))).toBe('float32');
    expect(floatOf(f64([1], [1]))).toBe('float64');
  });

  it('batchRankOf: the dimensions before a sample, refused when unknown or too many', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), (rank, nInputDim) => {
        const x = f64([0], new Array<number>(rank).fill(1));
        if (rank >= nInputDim) expect(batchRankOf(x, nInputDim)).toBe(rank - nInputDim);
        else {
          expect(() => batchRankOf(x, nInputDim)).toThrow(
            `input: has shape [${x.shape.join(', ')}] (${rank} dimension(s)), but nInputDim is ${nInputDim}: ` +
              `expected ${nInputDim} dimension(s) per sample, after any batch dimensions`,
          );
        }
      }),
    );
    expect(() => batchRankOf(f64([0], [1]), undefined)).toThrow(
      'nInputDim: was not given and no zeroMask is set: give nInputDim (dimensions per sample) or call setZeroMask',
    );
  });

  it('stepKeepFromInput: batched when rank >= 2 unless nInputDim says, refused at another rank', () => {
    // Rank 1: one sample (a scalar keep); rank 2: a batch of rows.
    expect(stepKeepFromInput(f64([0, 0, 0], [3]), undefined).shape).toEqual([]);
    expect(arr(stepKeepFromInput(f64([0, 0, 0, 1], [2, 2]), undefined))).toEqual([0, 1]);
    // nInputDim 2 makes a [2, 2] input one sample, a [2, 2, 1] input a batch of two.
    expect(arr(stepKeepFromInput(f64([0, 0, 0, 1], [2, 2]), 2))).toEqual([1]);
    expect(arr(stepKeepFromInput(f64([0, 0, 0, 1], [2, 2, 1]), 2))).toEqual([0, 1]);
    expect(() => stepKeepFromInput(f64([0], [1]), 2)).toThrow(
      "input: has shape [1], but maskZero's nInputDim is 2: expected 2 dimension(s) per sample, or 3 for a batch",
    );
    expect(() => stepKeepFromInput(f64([0], [1, 1, 1, 1]), 2)).toThrow("maskZero's nInputDim is 2");
  });

  it('stepKeepFromMask: row `step` of a [T, N] zeroMask, refused past T or for another batch size', () => {
    const mask = tensor([0, 1, 1, 0, 0, 0], { shape: [3, 2], dtype: 'int32' });
    const x = f64([1, 2, 3, 4], [2, 2]);
    expect([0, 1, 2].map((t) => arr(stepKeepFromMask(x, mask, t)))).toEqual([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(stepKeepFromMask(x, mask, 0).dtype).toBe('float64');
    expect(() => stepKeepFromMask(x, mask, 3)).toThrow(
      'zeroMask: has shape [3, 2] (3 steps), but this is step 4 since it was set or since forget(): the mask must cover every step of the sequence',
    );
    expect(() => stepKeepFromMask(f64([1, 2, 3], [3, 1]), mask, 1)).toThrow(
      'zeroMask: has shape [3, 2] ([T, N]), but the input of step 1 has shape [3, 1]: expected batch size 2 (its first dimension)',
    );
    expect(() => stepKeepFromMask(f64([1], []), mask, 0)).toThrow('expected batch size 2');
  });
});

describe('how masked rows are zeroed', () => {
  it('applyKeep: masked rows exactly 0 (NaN and Inf too), kept rows untouched, whatever dtype the keep has', () => {
    fc.assert(
      fc.property(batch, fc.boolean(), ({ shape, batchRank, data }, f32Keep) => {
        const x = f64(data, shape);
        const lead = shape.slice(0, batchRank);
        const rows = lead.reduce((a, d) => a * d, 1);
        const keepValues = Array.from({ length: rows }, (_, r) => ((r * 7 + data.length) % 3 === 0 ? 0 : 1));
        const k = tensor(keepValues, { shape: lead, dtype: f32Keep ? 'float32' : 'float64' });
        const y = applyKeep(x, k);
        expect(y.shape).toEqual(shape);
        const rowSize = data.length / rows;
        const expected = data.map((v, i) => (keepValues[Math.floor(i / rowSize)] ? v : 0));
        expect(arr(y)).toEqual(expected);
      }),
    );
  });

  it('maskIfBatched: masks a tensor led by the mask shape; leaves int32, lower ranks and other batches alone', () => {
    const k = tensor([1, 0], { dtype: 'float64' });
    const x = f64([1, 2, 3, 4], [2, 2]);
    expect(arr(maskIfBatched(x, k))).toEqual([1, 2, 0, 0]);
    // A tensor of exactly the mask's shape is masked too.
    expect(arr(maskIfBatched(f64([3, 4], [2]), k))).toEqual([3, 0]);
    const ints = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'int32' });
    expect(maskIfBatched(ints, k)).toBe(ints);
    const scalar = f64([5], []);
    expect(maskIfBatched(scalar, k)).toBe(scalar);
    const other = f64([1, 2, 3], [3, 1]);
    expect(maskIfBatched(other, k)).toBe(other);
  });

  it('checkLeading: passes a tensor led by the mask shape, else names the expected shape', () => {
    const k = tensor([1, 0], { dtype: 'float64' });
    expect(() => checkLeading(f64([1, 2], [2, 1]), k, 'gradOutput', null)).not.toThrow();
    expect(() => checkLeading(f64([1, 2], [2]), k, 'gradOutput', null)).not.toThrow();
    expect(() => checkLeading(f64([1, 2, 3], [3]), k, 'gradOutput', null)).toThrow(
      'gradOutput: has shape [3] float64, but its leading dimensions must be [2] (one mask entry per row)',
    );
    const zm = tensor([0, 1], { shape: [1, 2], dtype: 'int32' });
    const k2 = tensor([1, 0], { shape: [1, 2], dtype: 'float64' });
    expect(() => checkLeading(f64([1, 2], [2]), k2, 'input', zm)).toThrow(
      "input: has shape [2] float64, but its leading dimensions must be the zeroMask's shape [1, 2] (one mask entry per row)",
    );
  });

  it('maskStep: zeroes the output and the state once each (a state that is the output stays the output)', () => {
    const k = tensor([0, 1], { dtype: 'float64' });
    const h = f64([1, 2, 3, 4], [2, 2]);
    const c = f64([5, 6, 7, 8], [2, 2]);
    const ids = tensor([3, 4], { dtype: 'int32' });
    const { output, state } = maskStep(k, h, [h, c, ids], 'nn.Test');
    const [sh, sc, si] = state as Tensor[];
    expect(arr(output as Tensor)).toEqual([0, 0, 3, 4]);
    expect(sh).toBe(output);
    expect(arr(sc!)).toEqual([0, 0, 7, 8]);
    expect(si).toBe(ids);
    expect(maskStep(k, h, null, 'nn.Test').state).toBeNull();
    // A scalar keep (one unbatched sample) applies to tensors of any shape.
    expect(arr(maskStep(tensor(0, { dtype: 'float64' }), c, null, 'nn.Test').output as Tensor)).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it('maskStep: refuses an unbatched tensor or another batch size, naming the module and the part', () => {
    const k = tensor([0, 1], { dtype: 'float64' });
    expect(() => maskStep(k, f64([1, 2, 3], [3]), null, 'nn.Test')).toThrow(
      'nn.Test: the output has shape [3], but the mask has 2 row(s): masking needs batched steps ([N, ...])',
    );
    expect(() => maskStep(k, f64([1, 2], [2, 1]), [f64([1], [])], 'nn.Test')).toThrow(
      'nn.Test: the state has shape [], but the mask has 2 row(s)',
    );
  });
});
