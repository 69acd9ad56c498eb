import fc from 'fast-check';
import { type Tensor, mul, nn, randn } from '@webrnn/rnn';
import {
  ARITH,
  EXACT,
  F,
  I,
  type OpEntry,
  TRANSCENDENTAL,
  smallDim,
} from '../../../../core/test/differential/cases.js';
import { type Seeds, backwardEntry, chained, forwardEntry } from '../moduleEntry.js';

/** Layers with parameters, activations, and the modules that decorate or convert one tensor. */

const feat = fc.integer({ min: 1, max: 7 });
/** Inputs [N, D] or one sample [D] (N may be 0 or 1). */
const batchOrSample = (d: number) =>
  fc.oneof(
    smallDim.map((n) => [n, d]),
    fc.constant([d]),
  );

type LinearP = Seeds & { i: number; o: number; bias: boolean; n: number };
/** A matmul over `i` terms; the weight's gradient sums over the batch. */
export const linearTol = (p: { i: number; n: number }) => chained(Math.max(p.i, p.n));
const linear = {
  name: 'Linear',
  gen: fc
    .record({ i: feat, o: feat, bias: fc.boolean() })
    .chain((p) => batchOrSample(p.i).map((s) => ({ inputs: [F(s)], params: { ...p, n: s[0] } }))),
  make: (p: LinearP) => new nn.Linear(p.i, p.o, p.bias),
  tol: linearTol,
};

type SequentialP = Seeds & { i: number; h: number; o: number; n: number };
const sequential = {
  name: 'Sequential',
  label: 'Linear, Tanh, Linear, LogSoftMax',
  gen: fc
    .record({ i: feat, h: feat, o: feat, n: smallDim })
    .map((p) => ({ inputs: [F([p.n, p.i])], params: p })),
  make: (p: SequentialP) =>
    new nn.Sequential()
      .add(new nn.Linear(p.i, p.h))
      .add(new nn.Tanh())
      .add(new nn.Linear(p.h, p.o))
      .add(new nn.LogSoftMax()),
  tol: (p: SequentialP) => chained(Math.max(p.i, p.h, p.o, p.n), 3),
};

/** Any shape up to rank 4 with small dims. */
const anyShape = fc.array(smallDim, { minLength: 0, maxLength: 4 });
const activation = (name: string, make: () => nn.Module, tol = TRANSCENDENTAL): OpEntry =>
  forwardEntry({ name, gen: anyShape.map((s) => ({ inputs: [F(s)], params: {} })), make, tol });

/** SoftMax and LogSoftMax take [C], [N, C], [C, H, W] or [N, C, H, W]. */
const softmaxShape = fc
  .integer({ min: 1, max: 4 })
  .chain((r) =>
    fc
      .array(smallDim, { minLength: r, maxLength: r })
      .map((s) => ({ inputs: [F(s)], params: { n: s.reduce((a, b) => a * b, 1) } })),
  );
/**
 * The gradient of sum(softmax) is 0 up to rounding; through an expanded input a base element sums the rounding of
 * every element it feeds: up to the input's size.
 */
const softmaxTol = (p: SizeP) => chained(p.n);
type SizeP = Seeds & { n: number };

type CMulP = Seeds & { size: number[]; batch: boolean; n: number };
type AddP = Seeds & { d: number; scalar: boolean; n: number };
type IndexP = Seeds & { nIndex: number; d: number; n: number };
type DropoutP = Seeds & { p: number; v1: boolean; train: boolean };
type MaskZeroP = Seeds & { i: number; o: number; n: number; explicit: boolean };

const mask2: { index: number } = { index: 2 };

type LinearNoBiasP = Seeds & { i: number; o: number; n: number };
const linearNoBias = {
  name: 'LinearNoBias',
  gen: fc
    .record({ i: feat, o: feat })
    .chain((p) => batchOrSample(p.i).map((s) => ({ inputs: [F(s)], params: { ...p, n: s[0] ?? 1 } }))),
  make: (p: LinearNoBiasP) => new nn.LinearNoBias(p.i, p.o),
  tol: linearTol,
};

/** Modules without parameters whose backward is the point (a constant shift, a cut, a copy). */
const gradOnly = (name: string, label: string, make: () => nn.Module, tol = ARITH): OpEntry =>
  backwardEntry({ name, label, gen: anyShape.map((s) => ({ inputs: [F(s)], params: {} })), make, tol });

type PaddingP = Seeds & { dim: number; pad: number; nInputDim?: number; value: number; index: number };
/** Padding of a rank 1-3 input along any dim (negative too), before (pad < 0) or after (pad > 0) any index. */
const padding = {
  name: 'Padding',
  gen: fc.array(smallDim, { minLength: 1, maxLength: 3 }).chain((s) =>
    fc
      .record({
        dim: fc.integer({ min: -s.length, max: s.length - 1 }),
        pad: fc.integer({ min: -3, max: 3 }),
        value: fc.constantFrom(0, -1.5, 2),
        batch: fc.boolean(),
      })
      .chain((p) => {
        const d = p.dim < 0 ? s.length + p.dim : p.dim;
        // With nInputDim = rank - 1 the input is a batch: a non-negative dim moves one to the right.
        const batched = p.batch && s.length > 1 && p.dim >= 0 && p.dim < s.length - 1;
        const axis = batched ? d + 1 : d;
        return fc.integer({ min: 0, max: s[axis]! }).map((index) => ({
          inputs: [F(s)],
          params: {
            dim: p.dim,
            pad: p.pad,
            value: p.value,
            index,
            ...(batched ? { nInputDim: s.length - 1 } : {}),
          },
        }));
      }),
  ),
  make: (p: PaddingP) => new nn.Padding(p.dim, p.pad, p.nInputDim, p.value, p.index),
  tol: EXACT,
};

type ConstantP = Seeds & { value: number[]; nInputDim?: number };
/** A seeded value [1-2 dims] after any input up to rank 3; with nInputDim below the input's rank, one per row. */
const constant = {
  name: 'Constant',
  gen: fc
    .record({
      s: fc.array(smallDim, { minLength: 0, maxLength: 3 }),
      value: fc.array(smallDim, { minLength: 1, maxLength: 2 }),
      nInputDim: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    })
    .map(({ s, value, nInputDim }) => ({
      inputs: [F(s)],
      params: { value, ...(nInputDim === undefined ? {} : { nInputDim }) },
    })),
  make: (p: ConstantP) => {
    const v = randn(p.value);
    const m = new nn.Constant(v, p.nInputDim);
    v.dispose();
    return m;
  },
  tol: EXACT,
};

export const LAYERS: OpEntry[] = [
  forwardEntry(constant),
  backwardEntry(constant),
  forwardEntry(linear),
  backwardEntry(linear),
  forwardEntry(sequential),
  backwardEntry(sequential),
  forwardEntry(linearNoBias),
  backwardEntry(linearNoBias),
  gradOnly('SAdd', 'addend 0.75', () => new nn.SAdd(0.75)),
  gradOnly('SAdd', 'addend -1.25, negate', () => new nn.SAdd(-1.25, true)),
  gradOnly('ZeroGrad', 'gradInput zeros', () => new nn.ZeroGrad(), EXACT),
  gradOnly('CopyGrad', 'gradInput a copy of gradOutput', () => new nn.CopyGrad(), EXACT),
  forwardEntry(padding),
  backwardEntry(padding),
  activation('Sigmoid', () => new nn.Sigmoid()),
  activation('Tanh', () => new nn.Tanh()),
  activation('ReLU', () => new nn.ReLU(), EXACT),
  activation('HardTanh', () => new nn.HardTanh(-0.5, 1.5), EXACT),
  activation('Identity', () => new nn.Identity(), EXACT),
  activation('MulConstant', () => new nn.MulConstant(-1.75), ARITH),
  forwardEntry({
    name: 'SoftMax',
    gen: softmaxShape,
    make: (_p: SizeP) => new nn.SoftMax(),
    tol: softmaxTol,
  }),
  forwardEntry({
    name: 'LogSoftMax',
    gen: softmaxShape,
    make: (_p: SizeP) => new nn.LogSoftMax(),
    tol: softmaxTol,
  }),
  forwardEntry({
    name: 'CMul',
    gen: fc
      .record({ size: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }), n: smallDim })
      .chain(({ size, n }) =>
        fc.boolean().map((batch) => ({
          inputs: [F(batch ? [n, ...size] : size)],
          params: { size, batch, n },
        })),
      ),
    make: (p: CMulP) => new nn.CMul(p.size),
    // The weight's gradient sums over the batch.
    tol: (p: CMulP) => chained(p.n),
  }),
  forwardEntry({
    name: 'Add',
    gen: fc
      .record({ d: feat, scalar: fc.boolean(), n: smallDim, batch: fc.boolean() })
      .map((p) => ({ inputs: [F(p.batch ? [p.n, p.d] : [p.d])], params: p })),
    make: (p: AddP) => new nn.Add(p.d, p.scalar),
    tol: (p: AddP) => chained(p.n * p.d),
  }),
  forwardEntry({
    name: 'Copy',
    label: 'forceCopy',
    gen: anyShape.map((s) => ({ inputs: [F(s)], params: {} })),
    make: () => new nn.Copy('float32', 'float32', true),
    tol: EXACT,
  }),
  forwardEntry({
    name: 'Dropout',
    label: 'training, mask from the seeded generator',
    gen: fc
      .record({ s: anyShape, p: fc.constantFrom(0, 0.25, 0.5), v1: fc.boolean() })
      .map(({ s, p, v1 }) => ({ inputs: [F(s)], params: { p, v1, train: true } })),
    make: (p: DropoutP) => new nn.Dropout(p.p, p.v1),
    tol: ARITH,
  }),
  forwardEntry({
    name: 'Dropout',
    label: 'evaluation',
    gen: fc
      .record({ s: anyShape, p: fc.constantFrom(0.25, 0.5), v1: fc.boolean() })
      .map(({ s, p, v1 }) => ({ inputs: [F(s)], params: { p, v1, train: false } })),
    make: (p: DropoutP) => new nn.Dropout(p.p, p.v1),
    prepare: (m) => {
      m.evaluate();
    },
    tol: ARITH,
  }),
  ...[0, 2].map((beyond) =>
    forwardEntry({
      name: 'LookupTable',
      ...(beyond
        ? { label: 'indices up to nIndex + 1: out-of-range ones must be refused on every device' }
        : {}),
      gen: fc
        .record({ nIndex: fc.integer({ min: 1, max: 9 }), d: feat, s: fc.array(smallDim, { maxLength: 2 }) })
        .map(({ nIndex, d, s }) => ({
          inputs: [I(s, { index: nIndex + beyond })],
          params: { nIndex, d, n: s.reduce((a, b) => a * b, 1) },
        })),
      make: (p: IndexP) => new nn.LookupTable(p.nIndex, p.d),
      // Repeated indices add their gradients.
      tol: (p: IndexP) => chained(p.n),
    }),
  ),
  forwardEntry({
    name: 'LookupTableMaskZero',
    gen: fc
      .record({ nIndex: fc.integer({ min: 1, max: 9 }), d: feat, s: fc.array(smallDim, { maxLength: 2 }) })
      .map(({ nIndex, d, s }) => ({
        // 0 is the padding token, 1..nIndex the real ones.
        inputs: [I(s, { index: nIndex + 1 })],
        params: { nIndex, d, n: s.reduce((a, b) => a * b, 1) },
      })),
    make: (p: IndexP) => new nn.LookupTableMaskZero(p.nIndex, p.d),
    tol: (p: IndexP) => chained(p.n),
  }),
  ...[false, true].map((explicit) =>
    forwardEntry({
      name: 'MaskZero',
      label: explicit ? 'Linear, setZeroMask' : 'Linear, zero rows found in the input',
      gen: fc.record({ i: feat, o: feat, n: smallDim }).map((p) => ({
        // Input [N, i] and which rows are padding: [N] (explicit mask) or [N, 1] (zeroes the input's rows).
        inputs: [F([p.n, p.i]), explicit ? I([p.n], mask2) : F([p.n, 1], 'mask', false)],
        params: { ...p, explicit },
      })),
      make: (p: MaskZeroP) => new nn.MaskZero(new nn.Linear(p.i, p.o), 1),
      input: ([x, m], p: MaskZeroP) => (p.explicit ? x! : mul(x!, m!)),
      prepare: (m, [, mask], p: MaskZeroP) => {
        if (p.explicit) m.setZeroMask(mask as Tensor);
      },
      tol: linearTol,
    }),
  ),
  // Trimmed on the CPU (the rows are read there), masked where they cannot be read (WebGPU): equal results.
  ...[false, true].map((explicit) =>
    backwardEntry({
      name: 'TrimZero',
      label: explicit ? 'Linear, setZeroMask' : 'Linear, zero rows found in the input',
      gen: fc.record({ i: feat, o: feat, n: smallDim }).map((p) => ({
        // Input [N, i] and which rows are padding: [N] (explicit mask) or [N, 1] (zeroes the input's rows).
        inputs: [F([p.n, p.i]), explicit ? I([p.n], mask2) : F([p.n, 1], 'mask', false)],
        params: { ...p, explicit },
      })),
      make: (p: MaskZeroP) => new nn.TrimZero(new nn.Linear(p.i, p.o), 1),
      input: ([x, m], p: MaskZeroP) => (p.explicit ? x! : mul(x!, m!)),
      prepare: (m, [, mask], p: MaskZeroP) => {
        if (p.explicit) m.setZeroMask(mask as Tensor);
      },
      tol: linearTol,
    }),
  ),
];
