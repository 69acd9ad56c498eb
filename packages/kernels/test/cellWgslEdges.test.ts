import { afterEach, describe, expect, it } from 'vitest';
import { CELL_SLICES, UNARY_FORMULAS, cellKernel, cellValues } from '../src/index.js';
import { wgslCellExpr } from '../src/cellWgsl.js';

/**
 * The edges of the cells' WGSL generator (cellWgsl.ts) that core's WebGPU tests cannot reach with today's table:
 * a launch missing an operand, an activation whose WGSL formula is not a plain call of x, and numbers written as
 * f32 literals. The values of the generated kernels are tested in core (webgpuCells, webgpuKernels).
 */
const dense = { offset: 0, strides: [8, 1] };

describe('cellValues', () => {
  it("refuses a launch that leaves an operand out (null is 'absent', undefined is a mistake), naming it", () => {
    const views = { h: dense, c: dense, act: dense, gates: dense, cPrev: dense };
    const blocks = Object.fromEntries(CELL_SLICES.lstm.map((s, k) => [s, k]));
    expect(cellValues('lstmCell', 2, 8, blocks, views).cPrevOffset).toBe(0);
    const { cPrev: _, ...missing } = views;
    expect(() => cellValues('lstmCell', 2, 8, blocks, missing)).toThrow('lstmCell: operand cPrev is missing');
    const absent = cellValues('lstmCell', 2, 8, blocks, { ...views, cPrev: null });
    expect([absent.cPrevOffset, absent.cPrevStrides]).toEqual([0, [0, 0]]);
  });
});

describe('the activations the cells call', () => {
  // The table is edited in place and restored after each test.
  const formula = UNARY_FORMULAS.sigmoid as { wgsl: string };
  const sigmoid = formula.wgsl;
  afterEach(() => {
    formula.wgsl = sigmoid;
  });

  it('are the elementwise table’s WGSL functions', () => {
    expect(cellKernel({ kind: 'lstmCell' }).code).toContain('ieeeSigmoid(');
  });

  it.each(['0.5 * ieeeTanh(x)', 'ieeeTanh(x) * 0.5', 'ieeeSigmoid(x + 1.0)'])(
    'refuse a formula that is not a call of x alone (%s), by name',
    (wgsl) => {
      formula.wgsl = wgsl;
      expect(() => cellKernel({ kind: 'lstmCell' })).toThrow(
        'the WGSL formula of sigmoid is not a function of x',
      );
    },
  );
});

describe('wgslCellExpr', () => {
  it('writes numbers as f32 literals (a bare integer would make an i32 local in WGSL)', () => {
    const load = () => 'x';
    expect(wgslCellExpr([{ t: 'num', s: '1' }], load)).toBe('1.0');
    expect(wgslCellExpr([{ t: 'num', s: '0.5' }], load)).toBe('0.5');
  });
});
