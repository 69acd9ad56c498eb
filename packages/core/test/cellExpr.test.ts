import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CellDef, parseCell } from '@webrnn/kernels';
import { type CellExpr, cellExpr } from '../src/backends/cpu/wasm/cellExpr.js';

/**
 * The wasm generator's expression trees (cellExpr.ts) against JavaScript's own parser: random expressions of
 * numbers, + - * /, unary minus and parentheses (more than today's table uses) evaluate to the same value, so
 * precedence and left-to-right association match what the JS and WGSL generators' pasted text means.
 */
const evaluate = (e: CellExpr): number => {
  switch (e.k) {
    case 'num':
      return e.value;
    case 'neg':
      return -evaluate(e.arg);
    case 'bin': {
      const [a, b] = [evaluate(e.a), evaluate(e.b)];
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    default:
      throw new Error(`no ${e.k} here`);
  }
};

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: 0, max: 9 }).map(String),
    fc
      .tuple(tie('e'), fc.constantFrom(' + ', ' - ', ' * ', ' / ', '*', '+'), tie('e'))
      .map(([a, op, b]) => a + op + b),
    tie('e').map((a) => `(${a})`),
    tie('e').map((a) => `-(${a})`),
  ),
})).e;

describe('cell expression trees', () => {
  it('evaluate as JavaScript evaluates the same text', () => {
    fc.assert(
      fc.property(exprArb, (text) => {
        const def: CellDef = { family: 'gru', writes: { h: 1 }, reads: {}, body: [`h = ${text}`] };
        const got = evaluate(cellExpr(parseCell('gruOut', def)[0]!.expr));
        const want = new Function(`return ${text};`)() as number;
        expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))).toBe(true);
      }),
      { numRuns: 300, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261205) },
    );
  });

  it('refuse an unbalanced expression', () => {
    const tokens = (body: string) =>
      parseCell('gruOut', { family: 'gru', writes: { h: 1 }, reads: {}, body: [body] })[0]!.expr;
    expect(() => cellExpr(tokens('h = (1 + 2'))).toThrow(/expected '\)'/);
    expect(() => cellExpr(tokens('h = 1 + 2)'))).toThrow(/trailing/);
  });
});
