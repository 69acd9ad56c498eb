import fc from 'fast-check';
import { type Activity, type Tensor, nn } from '@webrnn/rnn';
import {
  ARITH,
  EXACT,
  F,
  type InputSpec,
  type OpEntry,
  smallDim,
} from '../../../../core/test/differential/cases.js';
import { type Seeds, backwardEntry, chained, forwardEntry } from '../moduleEntry.js';

/** Shape modules (Reshape, View, Transpose, Select) and Torch's table modules. */

const shapeOf = (minRank: number, maxRank: number) =>
  fc.integer({ min: minRank, max: maxRank }).chain((r) => fc.array(smallDim, { minLength: r, maxLength: r }));
const dimOf = (r: number) => fc.integer({ min: -r, max: r - 1 });
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** `k` tensors of one shape (the table modules that add, multiply or subtract entries). */
const sameShapes = (k: number) =>
  shapeOf(0, 3).map((s): { inputs: InputSpec[]; params: object } => ({
    inputs: Array.from({ length: k }, () => F(s)),
    params: {},
  }));

type TableP = Seeds & { dim: number; k: number; batch?: boolean };
type FeatP = Seeds & { d: number; o: number; n: number };

/** ConcatTable(Linear, Linear), ParallelTable and MapTable of Linears: the table containers with parameters. */
const tableOfLinears = fc
  .record({ d: fc.integer({ min: 1, max: 5 }), o: fc.integer({ min: 1, max: 5 }), n: smallDim })
  .map((p) => ({ inputs: [F([p.n, p.d]), F([p.n, p.d])], params: p }));
const linTol = (p: FeatP) => chained(Math.max(p.d, p.n));

const parallelTable = {
  name: 'ParallelTable',
  label: 'Linear, Tanh',
  gen: tableOfLinears,
  make: (p: FeatP) => new nn.ParallelTable().add(new nn.Linear(p.d, p.o)).add(new nn.Tanh()),
  input: (xs: readonly Tensor[]) => [xs[0]!, xs[1]!],
  tol: linTol,
};

export const TABLES: OpEntry[] = [
  forwardEntry({
    name: 'Reshape',
    gen: shapeOf(1, 3).chain((s) =>
      fc.constantFrom('whole', 'batch').map((mode) => ({
        inputs: [F(s)],
        // Reshape each example (batch) or the whole input to [size] (reversed dims: a real reshape).
        params: { size: mode === 'batch' ? [sizeOf(s.slice(1))] : [...s].reverse(), batch: mode === 'batch' },
      })),
    ),
    make: (p: Seeds & { size: number[]; batch: boolean }) => new nn.Reshape(...p.size, p.batch),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'View',
    label: 'View(-1) of each example',
    gen: shapeOf(2, 4).map((s) => ({ inputs: [F(s)], params: { nd: s.length - 1 } })),
    make: (p: Seeds & { nd: number }) => new nn.View(-1).setNumInputDims(p.nd),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'Transpose',
    gen: shapeOf(2, 4).chain((s) =>
      fc
        .array(fc.tuple(fc.nat(s.length - 1), fc.nat(s.length - 1)), { minLength: 1, maxLength: 2 })
        .map((perms) => ({ inputs: [F(s)], params: { perms } })),
    ),
    make: (p: Seeds & { perms: [number, number][] }) => new nn.Transpose(...p.perms),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'Select',
    gen: shapeOf(1, 4)
      .filter((s) => s.every((d) => d > 0))
      .chain((s) =>
        dimOf(s.length).chain((dim) => {
          const n = s[dim < 0 ? dim + s.length : dim]!;
          return fc
            .integer({ min: -n, max: n - 1 })
            .map((index) => ({ inputs: [F(s)], params: { dim, index } }));
        }),
      ),
    make: (p: Seeds & { dim: number; index: number }) => new nn.Select(p.dim, p.index),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'CAddTable',
    gen: fc.integer({ min: 1, max: 3 }).chain(sameShapes),
    make: () => new nn.CAddTable(),
    input: (xs) => [...xs],
    tol: ARITH,
  }),
  forwardEntry({
    name: 'CMulTable',
    gen: fc.integer({ min: 1, max: 3 }).chain(sameShapes),
    make: () => new nn.CMulTable(),
    input: (xs) => [...xs],
    tol: ARITH,
  }),
  forwardEntry({
    name: 'CSubTable',
    gen: sameShapes(2),
    make: () => new nn.CSubTable(),
    input: (xs) => [...xs],
    tol: ARITH,
  }),
  forwardEntry({
    name: 'JoinTable',
    gen: shapeOf(1, 3).chain((s) =>
      fc
        .record({
          dim: dimOf(s.length),
          k: fc.integer({ min: 1, max: 3 }),
          extra: fc.array(smallDim, { minLength: 3, maxLength: 3 }),
        })
        .map(({ dim, k, extra }) => {
          const d = dim < 0 ? dim + s.length : dim;
          // Entries differ along the joined dimension only.
          const inputs = Array.from({ length: k }, (_, i) => F(s.map((x, j) => (j === d ? extra[i]! : x))));
          return { inputs, params: { dim, k } };
        }),
    ),
    make: (p: TableP) => new nn.JoinTable(p.dim),
    input: (xs) => [...xs],
    tol: EXACT,
  }),
  forwardEntry({
    name: 'SplitTable',
    gen: shapeOf(1, 3).chain((s) => dimOf(s.length).map((dim) => ({ inputs: [F(s)], params: { dim } }))),
    make: (p: TableP) => new nn.SplitTable(p.dim),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'SelectTable',
    gen: fc.integer({ min: 1, max: 4 }).chain((k) =>
      fc.record({ s: shapeOf(0, 2), index: fc.integer({ min: -k, max: k - 1 }) }).map(({ s, index }) => ({
        inputs: Array.from({ length: k }, () => F(s)),
        params: { index },
      })),
    ),
    make: (p: Seeds & { index: number }) => new nn.SelectTable(p.index),
    input: (xs) => [...xs],
    tol: EXACT,
  }),
  forwardEntry({
    name: 'NarrowTable',
    gen: fc.integer({ min: 1, max: 4 }).chain((k) =>
      fc.nat(k - 1).chain((offset) =>
        fc
          .record({ s: shapeOf(0, 2), length: fc.integer({ min: 0, max: k - offset }) })
          .map(({ s, length }) => ({
            inputs: Array.from({ length: k }, () => F(s)),
            params: { offset, length },
          })),
      ),
    ),
    make: (p: Seeds & { offset: number; length: number }) => new nn.NarrowTable(p.offset, p.length),
    input: (xs) => [...xs],
    tol: EXACT,
  }),
  forwardEntry({
    name: 'FlattenTable',
    gen: fc
      .integer({ min: 3, max: 5 })
      .chain((k) =>
        shapeOf(0, 2).map((s) => ({ inputs: Array.from({ length: k }, () => F(s)), params: {} })),
      ),
    make: () => new nn.FlattenTable(),
    // {x0, {x1, {x2, ...}}}: a nested table.
    input: (xs) => xs.reduceRight<Activity>((rest, x) => [x, rest], [] as Activity[]),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'ZipTable',
    gen: shapeOf(0, 2).map((s) => ({ inputs: [F(s), F(s), F(s), F(s)], params: {} })),
    make: () => new nn.ZipTable(),
    input: ([a, b, c, d]) => [
      [a!, b!],
      [c!, d!],
    ],
    tol: EXACT,
  }),
  forwardEntry({
    name: 'ConcatTable',
    label: 'Linear, Identity',
    gen: tableOfLinears,
    make: (p: FeatP) => new nn.ConcatTable().add(new nn.Linear(p.d, p.o)).add(new nn.Identity()),
    tol: linTol,
  }),
  forwardEntry(parallelTable),
  backwardEntry(parallelTable),
  forwardEntry({
    name: 'MapTable',
    label: 'Linear (shared)',
    gen: tableOfLinears,
    make: (p: FeatP) => new nn.MapTable(new nn.Linear(p.d, p.o)),
    input: (xs) => [xs[0]!, xs[1]!],
    // The shared weight's gradient sums over both entries.
    tol: (p: FeatP) => chained(Math.max(p.d, 2 * p.n)),
  }),
];
