import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BINARY_FORMULAS,
  FLOAT_TO_INT32,
  PARAM_UNARY_FORMULAS,
  UNARY_FORMULAS,
  type ElementwiseFormula,
} from '@webrnn/kernels';
import { type Tensor, tensor } from '@webrnn/core';
import * as ops from '@webrnn/core';
import { forceCompiledFormulas, formulaClosure } from '../src/backends/cpu/formulaClosure.js';

/**
 * Pages with a strict Content-Security-Policy (no 'unsafe-eval') forbid `new Function`; the CPU backend then runs
 * every formula as a closure tree (formulaClosure.ts). Each formula of the table, float and int32, must give what
 * JavaScript itself computes (the compiled path is the reference), bit for bit, NaN and -0 included; and the ops
 * on strided views must give the same tensors on both paths.
 */

const NAMES: Record<number, string[]> = { 1: ['x', 'p0', 'p1'], 2: ['a', 'b'] };

const special = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  1,
  -1,
  2147483647,
  -2147483648,
];
const anyNumber = fc.oneof(
  fc.constantFrom(...special),
  fc.double(),
  fc.integer({ min: -2147483648, max: 2147483647 }),
);

function cases(): [string, string, number][] {
  const out: [string, string, number][] = [];
  const add = (name: string, f: ElementwiseFormula, arity: number) => {
    out.push([name, f.js, arity]);
    if (f.jsInt) out.push([`${name} (int32)`, f.jsInt, arity]);
  };
  for (const [n, f] of Object.entries(UNARY_FORMULAS)) add(n, f, 1);
  for (const [n, f] of Object.entries(PARAM_UNARY_FORMULAS)) add(n, f, 1);
  for (const [n, f] of Object.entries(BINARY_FORMULAS)) add(n, f, 2);
  add('float->int32', FLOAT_TO_INT32, 1);
  out.push(['where', '(c !== 0 ? a : b)', 3]);
  return out;
}

describe('formulaClosure (the CPU formulas without new Function)', () => {
  it.each(cases())('%s equals the compiled formula', (_name, expr, arity) => {
    const names = arity === 3 ? ['c', 'a', 'b'] : NAMES[arity]!;
    const compiled = new Function(...names, `return ${expr};`) as (...v: number[]) => number;
    const closure = formulaClosure(expr, names);
    fc.assert(
      fc.property(fc.array(anyNumber, { minLength: names.length, maxLength: names.length }), (v) => {
        expect(Object.is(closure(v), compiled(...v))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps JavaScript precedence and associativity', () => {
    const exprs = [
      '1 - 2 - 3',
      '8 / 4 / 2',
      '-x * 3 + 2',
      '1 + 2 * 3 | 0',
      'x > 1 ? 2 : x < -1 ? 3 : 4',
      '(1 + 2) * -x',
    ];
    for (const e of exprs) {
      for (const x of [-3, 0, 0.5, 5]) {
        expect(formulaClosure(e, ['x'])([x]), e).toBe(new Function('x', `return ${e};`)(x));
      }
    }
  });

  it('refuses what it does not know, naming the formula', () => {
    expect(() => formulaClosure('y + 1', ['x'])).toThrow(/formula 'y \+ 1': unknown name 'y'/);
    expect(() => formulaClosure('x ** 2', ['x'])).toThrow(/formula 'x \*\* 2'/);
    expect(() => formulaClosure('Math.random()', ['x'])).toThrow(/unknown name 'Math.random'/);
    expect(() => formulaClosure('(x + 1', ['x'])).toThrow(/expected '\)'/);
    expect(() => formulaClosure('x = 1', ['x'])).toThrow(/cannot read from '= 1'/);
  });
});

describe('CPU ops under a strict CSP (closure path) equal the compiled path', () => {
  afterEach(() => forceCompiledFormulas(null));

  const run = (compiled: boolean, f: () => Tensor): number[] => {
    forceCompiledFormulas(compiled);
    const t = f();
    const out = Array.from(t.dataSync());
    t.dispose();
    return out;
  };

  it('on random shapes and views (transposed, narrowed, expanded), float32 and int32', () => {
    const dims = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 });
    fc.assert(
      fc.property(dims, fc.boolean(), fc.integer({ min: 0, max: 1000 }), (shape, int, seed) => {
        const n = shape.reduce((p, q) => p * q, 1);
        const vals = (k: number) =>
          Array.from({ length: n }, (_, i) =>
            int ? ((i * 7 + seed + k) % 11) - 5 : Math.sin(i + seed + k) * 3,
          );
        const dtype = int ? 'int32' : 'float32';
        const a = ops.reshape(tensor(vals(0), { dtype }), shape);
        const b = ops.reshape(tensor(vals(1), { dtype }), shape);
        const at = ops.transpose(a, 0, -1);
        const bt = ops.transpose(b, 0, -1);
        const row = ops.narrow(a, 0, 0, 1);
        const progs: (() => Tensor)[] = [
          () => ops.add(at, bt),
          () => ops.mul(a, b),
          () => ops.sub(ops.expand(row, shape), b),
          () => ops.maximum(at, bt),
          () => ops.clamp(at, -1, 2),
          () => ops.where(ops.gt(a, b), a, b),
          () => (int ? ops.neg(at) : ops.sigmoid(at)),
          () => (int ? ops.abs(a) : ops.tanh(ops.exp(at))),
        ];
        for (const p of progs) expect(run(false, p)).toEqual(run(true, p));
        for (const t of [a, b]) t.dispose();
      }),
      { numRuns: 40 },
    );
  });
});
