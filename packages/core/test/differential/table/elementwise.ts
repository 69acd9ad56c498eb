import fc from 'fast-check';
import * as core from '@webrnn/core';
import type { Tensor } from '@webrnn/core';
import {
  ARITH,
  type Domain,
  EXACT,
  F,
  I,
  type OpEntry,
  TRANSCENDENTAL,
  type Tolerance,
  broadcastArb,
  shapeArb,
} from '../cases.js';

/** The elementwise ops: unary, with parameters, binary with a tensor or a number, where, and in place. */

const unary = (
  op: keyof typeof core,
  domain: Domain,
  tol: Tolerance,
  ints: boolean,
  intDomain: Domain = 'int',
): OpEntry => ({
  op,
  gen: fc
    .record({ shape: shapeArb(), int: ints ? fc.boolean() : fc.constant(false) })
    .map(({ shape, int }) => ({ inputs: [int ? I(shape, intDomain) : F(shape, domain)] })),
  run: ([x]) => (core[op] as (x: Tensor) => Tensor)(x!),
  tol,
});

/**
 * WGSL states sin/cos accuracy as an absolute error (near zero crossings a GPU's result is not relatively
 * accurate): 2e-5 relative plus 4e-6 absolute (the floor scale is at least 1), about 30 float32 ULP of 1.
 */
const SINUSOID: Tolerance = { rtol: TRANSCENDENTAL.rtol, ftol: 4e-6 };

/** int32 inputs appear for the ops that take them, and once for each float-only op (both devices must refuse). */
export const UNARY: OpEntry[] = [
  unary('neg', 'any', EXACT, true),
  unary('exp', 'any', TRANSCENDENTAL, false),
  unary('log', 'pos', TRANSCENDENTAL, false),
  unary('sqrt', 'pos', ARITH, false),
  unary('abs', 'away', EXACT, true),
  unary('sign', 'grid', EXACT, true),
  unary('tanh', 'any', TRANSCENDENTAL, false),
  unary('sigmoid', 'any', TRANSCENDENTAL, false),
  unary('relu', 'away', EXACT, true),
  unary('step', 'grid', EXACT, true),
  unary('square', 'any', ARITH, true),
  unary('reciprocal', 'away', ARITH, false),
  // 'any' is [-3, 3]: WGSL's sin/cos are accurate only near [-pi, pi] on some GPUs (an absolute error that grows
  // with |x| beyond), so the domain stays inside; NaN/Inf inputs (the harness's special values) give NaN.
  unary('cos', 'any', SINUSOID, false),
  unary('sin', 'any', SINUSOID, false),
  { ...unary('cos', 'any', EXACT, false), label: 'int32 refused', gen: intOnly() },
  { ...unary('exp', 'any', EXACT, false), label: 'int32 refused', gen: intOnly() },
];

function intOnly() {
  return shapeArb(0, 2).map((shape) => ({ inputs: [I(shape)] }));
}

export const PARAM_UNARY: OpEntry[] = [
  {
    op: 'affine',
    gen: fc
      .record({
        shape: shapeArb(),
        int: fc.boolean(),
        scale: fc.integer({ min: -6, max: 6 }),
        shift: fc.integer({ min: -6, max: 6 }),
      })
      .map(({ shape, int, scale, shift }) => ({
        inputs: [int ? I(shape) : F(shape)],
        params: int ? [scale, shift] : [scale * 0.75, shift * 0.5],
      })),
    run: ([x], [s, b]) => core.affine(x!, s, b),
    tol: ARITH,
  },
  ...(['clamp', 'hardtanh'] as const).map(
    (op): OpEntry => ({
      op,
      gen: fc
        .record({
          shape: shapeArb(),
          int: fc.boolean(),
          lo: fc.integer({ min: -6, max: 2 }),
          width: fc.integer({ min: 0, max: 6 }),
        })
        .map(({ shape, int, lo, width }) => ({
          // grid values hit the bounds exactly: the gradient's rule at the bounds (inclusive for clamp, strict for
          // hardtanh) is compared too.
          inputs: [int ? I(shape) : F(shape, 'grid')],
          params: [lo * 0.5, (lo + width) * 0.5],
        })),
      run: ([x], [lo, hi]) => core[op](x!, lo, hi),
      tol: EXACT,
    }),
  ),
];

type BinaryFn = (a: Tensor, b: Tensor | number) => Tensor;

/** A binary op over two broadcast tensors, or a tensor and a number. */
const binary = (
  op: keyof typeof core,
  domains: [Domain, Domain],
  tol: Tolerance,
  ints: false | [Domain, Domain],
): OpEntry => ({
  op,
  gen: fc
    .record({
      shapes: broadcastArb(2),
      int: ints ? fc.boolean() : fc.constant(false),
      scalar: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.integer({ min: -4, max: 4 }) },
      ),
    })
    .map(({ shapes: [sa, sb], int, scalar }) => {
      const [da, db] = int && ints ? ints : domains;
      const a = int ? I(sa!, da) : F(sa!, da);
      if (scalar !== null) {
        // A number operand from the second domain: an integer (int32) or a half-integer.
        const v = pickNumber(db, scalar, int);
        return { inputs: [a], params: v };
      }
      return { inputs: [a, int ? I(sb!, db) : F(sb!, db)], params: null };
    }),
  run: ([a, b], scalar) => (core[op] as BinaryFn)(a!, scalar === null ? b! : scalar),
  tol,
});

function pickNumber(domain: Domain, k: number, int: boolean): number {
  if (int) return domain === 'intNonZero' && k === 0 ? 3 : k;
  if (domain === 'pos') return Math.abs(k) * 0.5 + 0.5;
  if (domain === 'away') return k === 0 ? 1.5 : k * 0.5;
  return k * 0.5;
}

export const BINARY: OpEntry[] = [
  binary('add', ['any', 'any'], ARITH, ['int', 'int']),
  binary('sub', ['any', 'any'], ARITH, ['int', 'int']),
  binary('mul', ['any', 'any'], ARITH, ['int', 'int']),
  binary('div', ['any', 'away'], ARITH, ['int', 'intNonZero']),
  binary('pow', ['pos', 'any'], TRANSCENDENTAL, false),
  binary('maximum', ['grid', 'grid'], EXACT, ['int', 'int']),
  binary('minimum', ['grid', 'grid'], EXACT, ['int', 'int']),
  ...(['gt', 'ge', 'lt', 'le', 'eq'] as const).map((op) =>
    binary(op, ['grid', 'grid'], EXACT, ['int', 'int']),
  ),
  {
    op: 'where',
    gen: fc
      .record({ shapes: broadcastArb(3), intCond: fc.boolean(), int: fc.boolean(), scalarB: fc.boolean() })
      .map(({ shapes: [sc, sa, sb], intCond, int, scalarB }) => ({
        inputs: [
          intCond ? I(sc!, { index: 2 }) : F(sc!, 'mask', false),
          int ? I(sa!) : F(sa!),
          ...(scalarB ? [] : [int ? I(sb!) : F(sb!)]),
        ],
        params: scalarB ? 2 : null,
      })),
    run: ([c, a, b], scalar) => core.where(c!, a!, scalar === null ? b! : scalar),
    tol: EXACT,
  },
];

/**
 * In place: the target is a view into a dense base that does not require grad, and what is compared is the whole
 * base afterwards (so a kernel that writes outside the view is caught).
 */
const inPlace = (op: 'add' | 'sub' | 'mul' | 'div'): OpEntry => ({
  op: 'binaryInPlace',
  label: op,
  gen: fc
    .record({ shapes: broadcastArb(2), int: fc.boolean() })
    .filter(({ shapes: [t, s] }) => t!.length >= s!.length)
    .map(({ shapes: [t, s], int }) => ({
      inputs: [
        int ? I(t!) : F(t!, 'any', false),
        int ? I(s!, op === 'div' ? 'intNonZero' : 'int') : F(s!, op === 'div' ? 'away' : 'any', false),
      ],
    })),
  run: ([t, s], _p, { bases }) => {
    core.binaryInPlace(op, t!, s!);
    return core.clone(bases[0]!);
  },
  tol: ARITH,
});

export const IN_PLACE: OpEntry[] = [
  ...(['add', 'sub', 'mul', 'div'] as const).map(inPlace),
  {
    op: 'addInPlace',
    gen: broadcastArb(2)
      .filter(([t, s]) => t!.length >= s!.length)
      .map(([t, s]) => ({ inputs: [F(t!, 'any', false), F(s!, 'any', false)] })),
    run: ([t, s], _p, { bases }) => {
      core.addInPlace(t!, s!);
      return core.clone(bases[0]!);
    },
    tol: ARITH,
  },
  {
    op: 'copyInPlace',
    gen: fc
      .record({ shapes: broadcastArb(2), intSrc: fc.boolean() })
      .filter(({ shapes: [t, s] }) => t!.length >= s!.length)
      .map(({ shapes: [t, s], intSrc }) => ({
        inputs: [F(t!, 'any', false), intSrc ? I(s!) : F(s!, 'any', false)],
      })),
    run: ([t, s], _p, { bases }) => {
      core.copyInPlace(t!, s!);
      return core.clone(bases[0]!);
    },
    tol: EXACT,
  },
  {
    op: 'fillInPlace',
    gen: fc
      .record({ shape: shapeArb(), int: fc.boolean(), v: fc.integer({ min: -9, max: 9 }) })
      .map(({ shape, int, v }) => ({ inputs: [int ? I(shape) : F(shape, 'any', false)], params: v })),
    run: ([t], v, { bases }) => {
      core.fillInPlace(t!, v);
      return core.clone(bases[0]!);
    },
    tol: EXACT,
  },
];
