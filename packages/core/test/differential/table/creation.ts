import fc from 'fast-check';
import * as core from '@webrnn/core';
import { Generator } from '@webrnn/core';
import { ARITH, EXACT, F, I, type OpEntry, shapeArb } from '../cases.js';

/** Creation: the same arguments give the same values on every device (random ones from a seeded Generator). */
const created = (
  op: string,
  gen: fc.Arbitrary<unknown>,
  make: (p: never, o: core.TensorOptions) => core.Tensor,
  tol = ARITH,
): OpEntry => ({
  op,
  gen: gen.map((params) => ({ inputs: [], params })),
  run: (_xs, p, { device, float }) => make(p as never, { device, dtype: float }),
  tol,
});

const seeded = fc.record({ shape: shapeArb(0, 3), seed: fc.integer({ min: 0, max: 2 ** 30 }) });

export const CREATION: OpEntry[] = [
  created(
    'full',
    fc.record({ shape: shapeArb(), v: fc.integer({ min: -99, max: 99 }) }),
    (p: { shape: number[]; v: number }, o) => core.full(p.shape, p.v / 8, o),
  ),
  created('zeros', shapeArb(), (s: number[], o) => core.zeros(s, o), EXACT),
  created('ones', shapeArb(), (s: number[], o) => core.ones(s, o), EXACT),
  created(
    'arange',
    fc.tuple(
      fc.integer({ min: -9, max: 9 }),
      fc.integer({ min: -9, max: 30 }),
      fc.constantFrom(1, 2, 3, -1, 0.5, 0.25),
    ),
    ([a, b, s]: number[], o) => core.arange(a!, b!, s!, o),
  ),
  created(
    'linspace',
    fc.tuple(
      fc.integer({ min: -9, max: 9 }),
      fc.integer({ min: -9, max: 9 }),
      fc.integer({ min: 0, max: 12 }),
    ),
    ([a, b, n]: number[], o) => core.linspace(a!, b!, n!, o),
  ),
  created(
    'range',
    fc.tuple(
      fc.integer({ min: -9, max: 9 }),
      fc.integer({ min: 0, max: 30 }),
      fc.constantFrom(1, 2, 3, -1, 0.5, 0.25, 0.1),
    ),
    // end = start + len * |step| (or - for negative steps): the step always leads from start to end.
    ([a, len, s]: number[], o) => core.range(a!, a! + Math.sign(s!) * Math.min(len!, 9), s!, o),
  ),
  created(
    'logspace',
    fc.tuple(
      fc.integer({ min: -6, max: 6 }),
      fc.integer({ min: -6, max: 6 }),
      fc.integer({ min: 0, max: 12 }),
      fc.constantFrom(10, 2, Math.E, 0.5),
    ),
    ([a, b, n, base]: number[], o) => core.logspace(a!, b!, n!, base!, o),
  ),
  created('uniform', seeded, (p: { shape: number[]; seed: number }, o) =>
    core.uniform(p.shape, -2, 3, { ...o, generator: new Generator(p.seed) }),
  ),
  created('rand', seeded, (p: { shape: number[]; seed: number }, o) =>
    core.rand(p.shape, { ...o, generator: new Generator(p.seed) }),
  ),
  created('randn', seeded, (p: { shape: number[]; seed: number }, o) =>
    core.randn(p.shape, { ...o, generator: new Generator(p.seed) }),
  ),
  created(
    'randint',
    seeded,
    (p: { shape: number[]; seed: number }, o) =>
      core.randint(-5, 7, p.shape, { device: o.device, generator: new Generator(p.seed) }),
    EXACT,
  ),
  created(
    'randperm',
    fc.record({ n: fc.integer({ min: 0, max: 40 }), seed: fc.integer({ min: 0, max: 2 ** 30 }) }),
    (p: { n: number; seed: number }, o) =>
      core.randperm(p.n, { device: o.device, generator: new Generator(p.seed) }),
    EXACT,
  ),
  created(
    'tensor',
    fc.array(fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 3, maxLength: 3 }), { maxLength: 4 }),
    (rows: number[][], o) =>
      core.tensor(
        rows.map((r) => r.map((v) => v / 4)),
        o,
      ),
    EXACT,
  ),
  created(
    'fromData',
    fc.array(fc.integer({ min: -99, max: 99 }), { maxLength: 12 }),
    (vs: number[], o) =>
      core.fromData(
        Float64Array.from(vs, (v) => v / 4),
        [vs.length],
        o,
      ),
    EXACT,
  ),
  ...(['zerosLike', 'onesLike'] as const).map(
    (op): OpEntry => ({
      op,
      gen: fc
        .record({ shape: shapeArb(), int: fc.boolean() })
        .map(({ shape, int }) => ({ inputs: [int ? I(shape) : F(shape)] })),
      run: ([x]) => core[op](x!),
      tol: EXACT,
    }),
  ),
  {
    op: 'fullLike',
    gen: fc
      .record({ shape: shapeArb(), int: fc.boolean() })
      .map(({ shape, int }) => ({ inputs: [int ? I(shape) : F(shape)] })),
    run: ([x]) => core.fullLike(x!, 3),
    tol: EXACT,
  },
  {
    op: 'scalarLike',
    gen: fc
      .record({ shape: shapeArb(), int: fc.boolean() })
      .map(({ shape, int }) => ({ inputs: [int ? I(shape) : F(shape)] })),
    run: ([x]) => core.scalarLike(x!, -7),
    tol: EXACT,
  },
];
