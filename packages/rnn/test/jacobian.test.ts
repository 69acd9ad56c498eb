import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  manualSeed,
  mul,
  nn,
  randint,
  randn,
  tensor,
  uniform,
} from '@webrnn/rnn';
import { f64, jacobian, jacobianCriterion } from './helpers/jacobian.js';

/**
 * Module-level Jacobian checks in the spirit of torch's nn.Jacobian: for every module (and criterion) of one
 * table, on float64 CPU tensors with shapes drawn by fast-check, the gradInput returned by `backward` and the
 * parameter gradients it accumulates are compared with central differences of sum(output * R) for a random R.
 * Stochastic modules (Dropout) are reseeded before every forward so that each evaluation sees the same mask.
 */

// ---- the table ---------------------------------------------------------------------------------------------

const dims = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  d: fc.integer({ min: 1, max: 4 }),
  k: fc.integer({ min: 1, max: 3 }),
});

const x64 = (...shape: number[]) => randn(shape, f64);
const probs = (...shape: number[]) => uniform(shape, 0.05, 0.95, f64);
const anyShape = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 });

/** What a row builds: a module and its input, or a criterion with its input and target. */
type Case =
  | { readonly module: nn.Module; readonly input: Activity }
  | { readonly crit: nn.Criterion; readonly input: Tensor; readonly target: Tensor | number };

interface Row {
  readonly name: string;
  readonly arb: fc.Arbitrary<unknown>;
  readonly build: (c: never) => Case;
}

const row = <T>(name: string, arb: fc.Arbitrary<T>, build: (c: T) => Case) => ({ name, arb, build }) as Row;
const d = (m: nn.Module) => m.double();

const classes = (n: number, c: number) => randint(0, c, [n]);
const critDims = fc.tuple(dims, fc.boolean()).map(([c, avg]) => ({ ...c, avg }));

const TABLE: readonly Row[] = [
  row('Linear', dims, ({ n, d: f, k }) => ({ module: d(new nn.Linear(f, k + 1)), input: x64(n, f) })),
  row('Linear (1-D input, no bias)', dims, ({ d: f, k }) => ({
    module: d(new nn.Linear(f, k, false)),
    input: x64(f),
  })),
  row('Sequential(Linear, Tanh, Linear, LogSoftMax)', dims, ({ n, d: f, k }) => ({
    module: d(
      new nn.Sequential()
        .add(new nn.Linear(f, 3))
        .add(new nn.Tanh())
        .add(new nn.Linear(3, k + 1))
        .add(new nn.LogSoftMax()),
    ),
    input: x64(n, f),
  })),
  row('Sequential(Linear, Dropout(0.4), ReLU) training', dims, ({ n, d: f, k }) => ({
    module: d(
      new nn.Sequential()
        .add(new nn.Linear(f, k + 2))
        .add(new nn.Dropout(0.4))
        .add(new nn.ReLU()),
    ),
    input: x64(n, f),
  })),
  row('Sigmoid', anyShape, (s) => ({ module: new nn.Sigmoid(), input: x64(...s) })),
  row('Tanh', anyShape, (s) => ({ module: new nn.Tanh(), input: x64(...s) })),
  row('ReLU', anyShape, (s) => ({ module: new nn.ReLU(), input: x64(...s) })),
  row('HardTanh(-0.5, 0.7)', anyShape, (s) => ({ module: new nn.HardTanh(-0.5, 0.7), input: x64(...s) })),
  row('SoftMax (1-4 dims)', anyShape, (s) => ({ module: new nn.SoftMax(), input: x64(...s) })),
  row('LogSoftMax (1-4 dims)', anyShape, (s) => ({ module: new nn.LogSoftMax(), input: x64(...s) })),
  row('Dropout(0.3) training', anyShape, (s) => ({ module: new nn.Dropout(0.3), input: x64(...s) })),
  row('Dropout(0.3, v1) evaluate', anyShape, (s) => ({
    module: new nn.Dropout(0.3, true).evaluate(),
    input: x64(...s),
  })),
  row('Identity on a table', dims, ({ n, d: f }) => ({
    module: new nn.Identity(),
    input: [x64(n, f), [x64(f)]],
  })),
  row('CAddTable', dims, ({ n, d: f, k }) => ({
    module: new nn.CAddTable(),
    input: Array.from({ length: k }, () => x64(n, f)),
  })),
  row('CMulTable', dims, ({ n, d: f, k }) => ({
    module: new nn.CMulTable(),
    input: Array.from({ length: k + 1 }, () => x64(n, f)),
  })),
  row('CSubTable', dims, ({ n, d: f }) => ({ module: new nn.CSubTable(), input: [x64(n, f), x64(n, f)] })),
  row(
    'JoinTable(dim, nInputDims)',
    fc.tuple(dims, fc.integer({ min: -2, max: 1 }), fc.boolean()),
    ([{ n, d: f, k }, dim, batch]) => {
      // Examples are 2-D and differ along the joined dimension e; with nInputDims 2 a batch [n, ...] joins
      // one dimension further right (negative dimensions count from the end either way).
      const e = dim < 0 ? 2 + dim : dim;
      const ex = (len: number) => {
        const shape = e === 0 ? [len, f] : [f, len];
        return batch ? x64(n, ...shape) : x64(...shape);
      };
      return { module: new nn.JoinTable(dim, 2), input: [ex(k), ex(k + 1), ex(1)] };
    },
  ),
  row(
    'SplitTable(dim, nInputDims)',
    fc.tuple(dims, fc.integer({ min: -2, max: 1 })),
    ([{ n, d: f, k }, dim]) => ({
      module: new nn.SplitTable(dim, 2),
      input: x64(n, k + 1, f),
    }),
  ),
  row('SelectTable(index)', fc.tuple(dims, fc.integer({ min: -3, max: 2 })), ([{ n, d: f }, index]) => ({
    module: new nn.SelectTable(index),
    input: [x64(n, f), [x64(f), x64(2)], x64(1)],
  })),
  row(
    'NarrowTable(offset, length)',
    fc.tuple(dims, fc.integer({ min: 0, max: 3 })),
    ([{ n, d: f, k }, offset]) => ({
      module: new nn.NarrowTable(Math.min(offset, 4 - k), k),
      input: [x64(n, f), x64(f), x64(2), [x64(1), x64(n)]],
    }),
  ),
  row('ParallelTable(Linear, Tanh)', dims, ({ n, d: f, k }) => ({
    module: d(new nn.ParallelTable().add(new nn.Linear(f, k)).add(new nn.Tanh())),
    input: [x64(n, f), x64(k, n), x64(2)],
  })),
  row('ConcatTable(Linear, Identity, Sigmoid) on a tensor', dims, ({ n, d: f, k }) => ({
    module: d(new nn.ConcatTable().add(new nn.Linear(f, k)).add(new nn.Identity()).add(new nn.Sigmoid())),
    input: x64(n, f),
  })),
  row('ConcatTable(SelectTable(0), CAddTable) on a table', dims, ({ n, d: f }) => ({
    module: new nn.ConcatTable().add(new nn.SelectTable(0)).add(new nn.CAddTable()),
    input: [x64(n, f), x64(n, f)],
  })),
  row('MapTable(Linear) (shared parameters)', dims, ({ n, d: f, k }) => ({
    module: d(new nn.MapTable(new nn.Linear(f, 2))),
    input: Array.from({ length: k + 1 }, () => x64(n, f)),
  })),
  row('ZipTable', dims, ({ n, d: f, k }) => ({
    module: new nn.ZipTable(),
    input: Array.from({ length: k }, () => [x64(n, f), x64(f)]),
  })),
  row('FlattenTable', dims, ({ n, d: f }) => ({
    module: new nn.FlattenTable(),
    input: [x64(n), [x64(f), [x64(2, f), x64(1)]], [[x64(n, 1)]]],
  })),
  row('Reshape (whole and batch)', fc.tuple(dims, fc.boolean()), ([{ n, d: f, k }, batch]) => ({
    module: new nn.Reshape(f * k),
    input: batch ? x64(n + 1, f, k) : x64(f, k),
  })),
  row('View(-1, f).setNumInputDims(2)', dims, ({ n, d: f, k }) => ({
    module: new nn.View(-1, f).setNumInputDims(2),
    input: x64(n, k, f),
  })),
  row('Transpose([0, 2], [1, 2])', dims, ({ n, d: f, k }) => ({
    module: new nn.Transpose([0, 2], [1, 2]),
    input: x64(n, f, k),
  })),
  row('Transpose([0, 1]).setNumInputDims(2)', dims, ({ n, d: f, k }) => ({
    module: new nn.Transpose([0, 1]).setNumInputDims(2),
    input: x64(n, f, k),
  })),
  row('Select(dim, index)', fc.tuple(dims, fc.integer({ min: -2, max: 1 })), ([{ n, d: f }, dim]) => ({
    module: new nn.Select(dim, -1),
    input: x64(n, f + 1),
  })),
  row('CMul (same size)', dims, ({ d: f, k }) => ({ module: d(new nn.CMul(f, k)), input: x64(k, f) })),
  row('CMul (broadcast, same rank)', dims, ({ n, d: f }) => ({
    module: d(new nn.CMul(1, f)),
    input: x64(n + 1, f),
  })),
  row('CMul (batch)', dims, ({ n, d: f, k }) => ({ module: d(new nn.CMul(f, k)), input: x64(n + 1, f, k) })),
  row(
    'Add (vector, batch, scalar)',
    fc.tuple(dims, fc.integer({ min: 0, max: 2 })),
    ([{ n, d: f }, mode]) => ({
      module: d(new nn.Add(f, mode === 2)),
      input: mode === 0 ? x64(f) : x64(n + 1, f),
    }),
  ),
  row('MulConstant(-2.5)', anyShape, (s) => ({ module: new nn.MulConstant(-2.5), input: x64(...s) })),
  row('Copy(float64, float64, forceCopy)', anyShape, (s) => ({
    module: new nn.Copy('float64', 'float64', true),
    input: x64(...s),
  })),
  row('LookupTable (any index shape)', fc.tuple(dims, anyShape), ([{ d: f, k }, s]) => ({
    module: d(new nn.LookupTable(k + 2, f)),
    input: randint(0, k + 2, s.slice(0, 3)),
  })),
  // criterions, sizeAverage on and off
  row('MSECriterion', critDims, ({ n, d: f, avg }) => ({
    crit: new nn.MSECriterion(avg),
    input: x64(n, f),
    target: x64(n, f),
  })),
  row('ClassNLLCriterion', critDims, ({ n, k, avg }) => ({
    crit: new nn.ClassNLLCriterion(null, avg),
    input: x64(n, k + 1),
    target: classes(n, k + 1),
  })),
  row('ClassNLLCriterion with weights', critDims, ({ n, k, avg }) => ({
    crit: new nn.ClassNLLCriterion(uniform([k + 1], 0.5, 2, f64), avg),
    input: x64(n, k + 1),
    target: classes(n, k + 1),
  })),
  row('ClassNLLCriterion 1-D input, number target', critDims, ({ k, avg }) => ({
    crit: new nn.ClassNLLCriterion(null, avg),
    input: x64(k + 1),
    target: k,
  })),
  row('ClassNLLCriterion with weights and ignored targets', critDims, ({ n, k, avg }) => ({
    crit: new nn.ClassNLLCriterion(uniform([k + 1], 0.5, 2, f64), avg, -100),
    input: x64(n + 1, k + 1),
    target: tensor([-100, ...Array.from({ length: n }, (_, i) => i % (k + 1))], { dtype: 'int32' }),
  })),
  row('CrossEntropyCriterion', critDims, ({ n, k, avg }) => ({
    crit: new nn.CrossEntropyCriterion(null, avg),
    input: x64(n, k + 1),
    target: classes(n, k + 1),
  })),
  row('CrossEntropyCriterion with float32 weights on float64 input', critDims, ({ n, k, avg }) => ({
    crit: new nn.CrossEntropyCriterion(uniform([k + 1], 0.5, 2), avg),
    input: x64(n, k + 1),
    target: classes(n, k + 1),
  })),
  row('CrossEntropyCriterion [1, C] input, number target', critDims, ({ k, avg }) => ({
    crit: new nn.CrossEntropyCriterion(null, avg),
    input: x64(1, k + 1),
    target: 0,
  })),
  row('BCECriterion', critDims, ({ n, d: f, avg }) => ({
    crit: new nn.BCECriterion(null, avg),
    input: probs(n, f),
    target: probs(n, f),
  })),
  row('BCECriterion with per-column weights', critDims, ({ n, d: f, avg }) => ({
    crit: new nn.BCECriterion(uniform([f], 0.5, 2, f64), avg),
    input: probs(n, f),
    target: probs(n, f),
  })),
];

describe('Jacobians of every module and criterion (float64, central differences)', () => {
  for (const r of TABLE) {
    it(r.name, () => {
      fc.assert(
        fc.property(r.arb, fc.integer({ min: 0, max: 1 << 30 }), (c, seed) => {
          manualSeed(seed);
          const k = (r.build as (c: unknown) => Case)(c);
          if ('module' in k) jacobian(k.module, k.input, seed);
          else jacobianCriterion(k.crit, k.input, k.target);
        }),
        { numRuns: 8 },
      );
    });
  }
});

describe('the Jacobian checker itself', () => {
  it('catches a wrong gradient (a detached factor)', () => {
    class Bad extends nn.Module {
      override updateOutput(input: Activity): Activity {
        const x = input as Tensor;
        return mul(x, x.detach()); // d(x^2)/dx is 2x, but the tape sees only x
      }
    }
    expect(() => jacobian(new Bad(), x64(2, 3), 1)).toThrow(/gradInput 0\[0\]: backward/);
  });
});
