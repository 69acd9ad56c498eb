import { describe, expect, it } from 'vitest';
import {
  CELLS,
  type CellDef,
  type CellKind,
  cellJs,
  cellKernel,
  cellOperandNames,
  cellWrites,
  parseCell,
} from '../src/index.js';

/**
 * The cell table (cells.ts) is the one place the fused cells' maths is written: it is checked when read (a wrong
 * name or slice fails on every backend at once), and both generators honour its operand lists. The values the
 * generated code computes are tested in core (cellsGenerated.test.ts against the hand-written loops,
 * webgpuKernels.test.ts WebGPU against the CPU, the differential harness through the ops).
 */
const KINDS = Object.keys(CELLS) as CellKind[];
const lstmLike = (body: string[]): CellDef => ({
  family: 'lstm',
  writes: { y: 1 },
  reads: { x: 4 },
  body,
});

describe('the cell table', () => {
  it.each(KINDS)('%s: parses, and stores into every operand it writes', (kind) => {
    const stored = new Set(
      parseCell(kind)
        .filter((s) => s.store)
        .map((s) => s.to),
    );
    expect([...stored].sort()).toEqual(Object.keys(CELLS[kind].writes).sort());
  });

  it.each([
    [['y = w'], "'w' in 'y = w' is neither an operand nor an earlier local"],
    [['y = x[q]'], 'unknown slice [q]'],
    [['y = exp(x)'], 'unknown function exp'],
    [['x = 1'], 'stores into x, which it only reads'],
    [['a = x', 'a = x'], "bad local 'a = x'"],
    [['y = a', 'a = x'], "'a' in 'y = a' is neither an operand nor an earlier local"],
    [['y x'], "cannot read 'y x'"],
    [['y = x > 0 ? x : 0'], "'>' in 'y = x > 0 ? x : 0' is not + - * / or a parenthesis"],
    [['y = x, x'], "',' in 'y = x, x' is not + - * / or a parenthesis"],
  ])('refuses %j', (body, message) => {
    expect(() => parseCell('lstmCell', lstmLike(body))).toThrow(`cell lstmCell: ${message}`);
  });

  it.each(KINDS)(
    '%s: the WGSL binds the present operands, written ones read_write, and no absent one',
    (kind) => {
      const optional: readonly string[] = (CELLS[kind] as CellDef).optional ?? [];
      const k = cellKernel({ kind, absent: [...optional] });
      const present = cellOperandNames(kind).filter((n) => !optional.includes(n));
      expect(k.bindings).toEqual([
        ...present.map((_, i) => (i < cellWrites(kind) ? 'read_write' : 'read')),
        'uniform',
      ]);
      for (const n of optional) expect(k.code).not.toMatch(new RegExp(`\\b${n}\\[`));
      for (const n of present) expect(k.code).toMatch(new RegExp(`var<storage, read(_write)?> ${n}:`));
    },
  );

  it('uses the elementwise table activations on both sides', () => {
    const wgsl = cellKernel({ kind: 'lstmCell' }).code;
    expect(wgsl).toContain('fn ieeeSigmoid(');
    expect(wgsl).toContain('fn ieeeTanh(');
    const js = cellJs('lstmCell', 'izfo').source;
    expect(js).toContain('Math.exp(-x)');
    expect(js).toContain('Math.tanh(x)');
  });

  it('places LSTM gates by the order in JS and by a uniform in WGSL (one pipeline for every order)', () => {
    expect(cellJs('lstmCell', 'izfo').source).toContain('const c_i = 0 * H; const c_z = 1 * H;');
    expect(cellJs('lstmCell', 'ifog').source).toContain('const c_i = 0 * H; const c_f = 1 * H;');
    expect(cellKernel({ kind: 'lstmCell' }).key).toBe(JSON.stringify({ kind: 'lstmCell' }));
  });
});
