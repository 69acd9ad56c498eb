import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuBackend, type LstmGateOrder, type View, setCpuWasm } from '@webrnn/core';
import { CELLS, type CellKind, cellJs, cellOperandNames, cellWidth, isOptional } from '@webrnn/kernels';
import { cellClosureLoop } from '../src/backends/cpu/cellsClosure.js';
import * as hand from './helpers/handWrittenCells.js';

/**
 * The CPU's cell loops are generated from kernels' cell table (cells.ts, cellJs.ts): they must give, bit for bit,
 * what the hand-written loops they replaced gave (helpers/handWrittenCells.ts), on random strided views (transposed,
 * padded, offset), float32 and float64, every gate order, absent gradients, and values that include NaN, +-Inf,
 * +-0 and overflowing magnitudes. Elements outside the views must stay as they were.
 */
const cpu = new CpuBackend();
// The JS loops, bit for bit: the wasm cells (taken from 64 units up) are held to an error bound in cellsWasm.test.
setCpuWasm('off');
const ORDERS: readonly LstmGateOrder[] = ['izfo', 'ifog', 'ifgo'];
const SPECIAL = [Number.NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 88.8, -104];

type Views = Record<string, View | null>;

/** The kernel through the backend (the generated loop) or through the hand-written loop. */
function runGenerated(kind: CellKind, v: Views, order: LstmGateOrder): void {
  (cpu.cell as (k: CellKind, v: Views, o: LstmGateOrder) => void).call(cpu, kind, v, order);
}

function runHand(kind: CellKind, v: Views, order: LstmGateOrder): void {
  const o = (n: string) => v[n]!;
  switch (kind) {
    case 'lstmCell':
      return hand.lstmCellCpu(order, o('gates'), o('cPrev'), o('h'), o('c'), o('act'));
    case 'lstmCellBackward':
      return hand.lstmCellBackwardCpu(
        order,
        o('act'),
        o('c'),
        o('cPrev'),
        v.gH!,
        v.gC!,
        o('gGates'),
        o('gCPrev'),
      );
    case 'gruGates':
      return hand.gruGatesCpu(o('gates'), o('hPrev'), o('act'), o('rh'));
    case 'gruOut':
      return hand.gruOutCpu(o('xc'), o('m'), o('act'), o('hPrev'), o('hc'), o('h'));
    case 'gruOutBackward':
      return hand.gruOutBackwardCpu(o('act'), o('hc'), o('hPrev'), o('gH'), o('gPre'), o('gGates'));
    case 'gruGatesBackward':
      return hand.gruGatesBackwardCpu(o('act'), o('hPrev'), o('gH'), o('gRh'), o('gGates'), o('gHPrev'));
  }
}

interface Case {
  kind: CellKind;
  N: number;
  H: number;
  order: LstmGateOrder;
  f64: boolean;
  /** Per operand: stored transposed, padding of the row stride, offset, present (optional ones). */
  layouts: { transposed: boolean; pad: number; offset: number; present: boolean }[];
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    kind: fc.constantFrom(...(Object.keys(CELLS) as CellKind[])),
    N: fc.integer({ min: 1, max: 4 }),
    H: fc.integer({ min: 1, max: 5 }),
    order: fc.constantFrom(...ORDERS),
    f64: fc.boolean(),
    layouts: fc.array(
      fc.record({
        transposed: fc.boolean(),
        pad: fc.integer({ min: 0, max: 2 }),
        offset: fc.integer({ min: 0, max: 3 }),
        present: fc.boolean(),
      }),
      { minLength: 7, maxLength: 7 },
    ),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map((c) => c);

/** Two identical sets of operands (one per implementation), random values with specials mixed in. */
function operands(c: Case): [Views, Views] {
  let s = c.seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const a: Views = {};
  const b: Views = {};
  cellOperandNames(c.kind).forEach((name, k) => {
    const l = c.layouts[k]!;
    if (isOptional(c.kind, name) && !l.present) {
      a[name] = b[name] = null;
      return;
    }
    const [rows, cols] = [c.N, cellWidth(c.kind, name) * c.H];
    const [outer, inner] = l.transposed ? [cols, rows] : [rows, cols];
    const n = l.offset + outer * (inner + l.pad);
    const data = Array.from({ length: n }, () =>
      rand() < 0.15 ? SPECIAL[Math.floor(rand() * SPECIAL.length)]! : (rand() * 2 - 1) * 6,
    );
    const strides = l.transposed ? [1, inner + l.pad] : [inner + l.pad, 1];
    const view = (buffer: Float32Array | Float64Array): View => ({
      buffer,
      dtype: c.f64 ? 'float64' : 'float32',
      shape: [rows, cols],
      strides,
      offset: l.offset,
    });
    a[name] = view(c.f64 ? Float64Array.from(data) : Float32Array.from(data));
    b[name] = view(c.f64 ? Float64Array.from(data) : Float32Array.from(data));
  });
  return [a, b];
}

/** Every operand of `kind` equal bit for bit (Object.is: NaN equals NaN, 0 differs from -0) to the hand-written loop's. */
function sameBits(kind: CellKind, got: Views, ref: Views, what: string): void {
  for (const name of cellOperandNames(kind)) {
    const [x, y] = [got[name]?.buffer, ref[name]?.buffer] as (Float32Array | undefined)[];
    if (!x || !y) continue;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i]))
        throw new Error(`${kind} ${name}[${i}]: ${what} ${x[i]}, hand-written ${y[i]}`);
    }
  }
}

describe('the generated CPU cell loops', () => {
  it('equal the hand-written loops bit for bit, NaN and Inf included', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const [gen, ref] = operands(c);
        runGenerated(c.kind, gen, c.order);
        runHand(c.kind, ref, c.order);
        sameBits(c.kind, gen, ref, 'generated');
      }),
      { numRuns: 300, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) },
    );
  });

  it('run as closures (a strict-CSP page, no new Function) with the same values bit for bit', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const [gen, ref] = operands(c);
        const absent = cellOperandNames(c.kind).filter((n) => gen[n] === null);
        const order = CELLS[c.kind].family === 'lstm' ? c.order : undefined;
        cellClosureLoop(c.kind, order, absent)(c.N, c.H, gen);
        runHand(c.kind, ref, c.order);
        sameBits(c.kind, gen, ref, 'closures');
      }),
      { numRuns: 200, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) },
    );
  });

  it('are one compiled loop per kind, gate order and set of absent operands', () => {
    const a = cellJs('lstmCellBackward', 'izfo', ['gC']);
    expect(cellJs('lstmCellBackward', 'izfo', ['gC'])).toEqual(a);
    expect(cellJs('lstmCellBackward', 'ifog', ['gC']).key).not.toBe(a.key);
    expect(cellJs('lstmCellBackward', 'izfo', []).key).not.toBe(a.key);
    // An absent operand is never read: its loads are the literal 0.
    expect(a.source).not.toContain('D_gC[');
    expect(cellJs('lstmCellBackward', 'izfo', []).source).toContain('D_gC[');
  });

  it('types the operands from the table (checked by tsc over the tests: each line below must be an error)', () => {
    const v = cpu.readSync.length as unknown as View;
    const noAct = { gGates: v, gCPrev: v, act: null, c: v, cPrev: v, gH: v, gC: v };
    const calls = [
      // @ts-expect-error gruOut reads m
      () => cpu.cell('gruOut', { hc: v, h: v, xc: v, act: v, hPrev: v }),
      // @ts-expect-error an LSTM kernel takes the gate order
      () => cpu.cell('lstmCell', { h: v, c: v, act: v, gates: v, cPrev: v }),
      // @ts-expect-error a GRU kernel takes none
      () => cpu.cell('gruGates', { act: v, rh: v, gates: v, hPrev: v }, 'izfo'),
      // @ts-expect-error only the optional operands may be null
      () => cpu.cell('lstmCellBackward', noAct, 'ifog'),
    ];
    expect(calls).toHaveLength(4);
  });
});
