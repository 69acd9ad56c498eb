import fc from 'fast-check';
import { type Activity, type Tensor, nn, tensor } from '@webrnn/rnn';
import {
  F,
  I,
  type InputSpec,
  type OpEntry,
  type RunContext,
  type Tolerance,
  smallDim,
} from '../../../../core/test/differential/cases.js';
import { type Seeds, build, chained, flat, gradOutputFor, ownCriterion, seedsArb } from '../moduleEntry.js';

/**
 * Criterions: input(s) and target(s) are the harness's inputs, the loss its output (and, in the backward
 * variant, Torch's `criterion.backward(input, target)` too). A criterion holds no parameters.
 */

interface CriterionSpec<P> {
  readonly name: string;
  readonly label?: string;
  readonly gen: fc.Arbitrary<{ inputs: InputSpec[]; params: object }>;
  readonly make: (xs: readonly Tensor[], p: P, ctx: RunContext) => nn.Criterion;
  /** The criterion's input and target from the harness's tensors (default: the first two). */
  readonly args?: (xs: readonly Tensor[], p: P) => [Activity, Activity | number];
  readonly tol: Tolerance | ((p: P) => Tolerance);
  readonly specials?: boolean;
}

function criterionEntries<P>(spec: CriterionSpec<P>): OpEntry[] {
  const gen = fc
    .tuple(spec.gen, seedsArb)
    .map(([c, s]) => ({ inputs: c.inputs, params: { ...c.params, ...s } }));
  const tol = (c: { params?: unknown }) =>
    typeof spec.tol === 'function' ? spec.tol(c.params as P) : spec.tol;
  const common = { op: spec.name, gen, tol, ...(spec.specials === false ? { specials: false } : {}) };
  const setUp = (xs: readonly Tensor[], p: P, ctx: RunContext) => {
    const c = ownCriterion(ctx, spec.make(xs, p, ctx));
    const [input, target] = spec.args ? spec.args(xs, p) : [xs[0]!, xs[1]!];
    return { c, input, target };
  };
  return [
    {
      ...common,
      ...(spec.label ? { label: spec.label } : {}),
      run: (xs, p: P, ctx) => {
        const { c, input, target } = setUp(xs, p, ctx);
        return c.forward(input, target);
      },
    },
    {
      ...common,
      label: `${spec.label ? `${spec.label}, ` : ''}forward + backward(input, target)`,
      run: (xs, p: P, ctx) => {
        const { c, input, target } = setUp(xs, p, ctx);
        const loss = c.forward(input, target);
        return [loss, ...flat(c.backward(input, target))];
      },
    },
  ];
}

const classes = fc.integer({ min: 1, max: 6 });
type NllP = Seeds & { n: number; c: number; weighted: boolean; sizeAverage: boolean; ignore: number };

/** [N, C] scores (or one sample [C]) and N class indices (`beyond` C included); optional class weights. */
const nllGen = (beyond = 0) =>
  fc
    .record({
      n: smallDim,
      c: classes,
      single: fc.boolean(),
      weighted: fc.boolean(),
      sizeAverage: fc.boolean(),
      ignore: fc.constantFrom(-100, 0),
    })
    .map((p) => ({
      inputs: [
        F(p.single ? [p.c] : [p.n, p.c]),
        I(p.single ? [1] : [p.n], { index: p.c + beyond }),
        ...(p.weighted ? [F([p.c], 'pos', false)] : []),
      ],
      params: p,
    }));

type SeqP = Seeds & { t: number; n: number; c: number; mse: boolean };
type ParallelP = Seeds & { n: number; c: number; w: [number, number]; repeat: boolean; extra: boolean };
type ModuleCritP = Seeds & { n: number; c: number; withTarget: boolean };
type MaskP = Seeds & { n: number; d: number; pad: number[] };
type NceP = Seeds & { n: number; k: number; sizeAverage: boolean };

export const CRITERIONS: OpEntry[] = [
  ...criterionEntries({
    name: 'ClassNLLCriterion',
    gen: nllGen(),
    make: (xs, p: NllP) => new nn.ClassNLLCriterion(p.weighted ? xs[2]! : null, p.sizeAverage, p.ignore),
    tol: (p: NllP) => chained(p.n),
  }),
  ...criterionEntries({
    name: 'ClassNLLCriterion',
    label: 'targets up to C: out-of-range ones must be refused on every device',
    gen: nllGen(1),
    make: (xs, p: NllP) => new nn.ClassNLLCriterion(p.weighted ? xs[2]! : null, p.sizeAverage, p.ignore),
    tol: (p: NllP) => chained(p.n),
  }),
  ...criterionEntries({
    name: 'CrossEntropyCriterion',
    gen: nllGen(),
    make: (xs, p: NllP) => new nn.CrossEntropyCriterion(p.weighted ? xs[2]! : null, p.sizeAverage),
    tol: (p: NllP) => chained(Math.max(p.n, p.c), 2),
  }),
  ...criterionEntries({
    name: 'MSECriterion',
    gen: fc
      .record({ s: fc.array(smallDim, { maxLength: 3 }), sizeAverage: fc.boolean() })
      .map(({ s, sizeAverage }) => ({
        inputs: [F(s), F(s)],
        params: { n: s.reduce((a, b) => a * b, 1), sizeAverage },
      })),
    make: (_xs, p: Seeds & { n: number; sizeAverage: boolean }) => new nn.MSECriterion(p.sizeAverage),
    tol: (p: Seeds & { n: number }) => chained(p.n),
  }),
  ...criterionEntries({
    name: 'BCECriterion',
    gen: fc
      .record({
        n: smallDim,
        c: classes,
        weighted: fc.boolean(),
        sizeAverage: fc.boolean(),
        hard: fc.boolean(),
      })
      .map((p) => ({
        inputs: [
          F([p.n, p.c], 'prob'),
          F([p.n, p.c], p.hard ? 'mask' : 'prob', false),
          ...(p.weighted ? [F([p.c], 'pos', false)] : []),
        ],
        params: p,
      })),
    make: (xs, p: Seeds & { n: number; c: number; weighted: boolean; sizeAverage: boolean }) =>
      new nn.BCECriterion(p.weighted ? xs[2]! : null, p.sizeAverage),
    tol: (p: Seeds & { n: number; c: number }) => chained(p.n * p.c, 2),
    // The CPU refuses inputs outside [0, 1] (NaN included) where it can read them, as Torch asserts; WebGPU
    // cannot read them synchronously and does not check: a documented difference, not compared here.
    specials: false,
  }),
  ...criterionEntries({
    name: 'SequencerCriterion',
    label: 'ClassNLLCriterion or MSECriterion per step',
    gen: fc
      .record({ t: fc.integer({ min: 1, max: 4 }), n: smallDim, c: classes, mse: fc.boolean() })
      .map((p) => ({
        inputs: [F([p.t, p.n, p.c]), p.mse ? F([p.t, p.n, p.c]) : I([p.t, p.n], { index: p.c })],
        params: p,
      })),
    make: (_xs, p: SeqP) =>
      new nn.SequencerCriterion(p.mse ? new nn.MSECriterion() : new nn.ClassNLLCriterion()),
    tol: (p: SeqP) => chained(p.t * p.n * p.c),
  }),
  ...criterionEntries({
    name: 'RepeaterCriterion',
    label: 'MSECriterion, one target for every step',
    gen: fc
      .record({ t: fc.integer({ min: 1, max: 4 }), n: smallDim, c: classes })
      .map((p) => ({ inputs: [F([p.t, p.n, p.c]), F([p.n, p.c])], params: p })),
    make: () => new nn.RepeaterCriterion(new nn.MSECriterion()),
    tol: (p: SeqP) => chained(p.t * p.n * p.c),
  }),
  ...criterionEntries({
    name: 'MaskZeroCriterion',
    label: 'MSECriterion, explicit mask on the CPU',
    gen: fc.record({ n: smallDim, d: classes }).chain((p) =>
      fc.array(fc.integer({ min: 0, max: 1 }), { minLength: p.n, maxLength: p.n }).map((pad) => ({
        inputs: [F([p.n, p.d]), F([p.n, p.d])],
        params: { ...p, pad },
      })),
    ),
    // Rows are selected on the host, so the mask lives on the CPU whatever the device (as the class asks).
    make: (_xs, p: MaskP) =>
      new nn.MaskZeroCriterion(new nn.MSECriterion(), 1).setZeroMask(
        tensor(p.pad, { shape: [p.n], dtype: 'int32', device: 'cpu' }),
      ),
    tol: (p: MaskP) => chained(p.n * p.d),
  }),
  ...criterionEntries({
    name: 'ParallelCriterion',
    label: 'w0 * ClassNLLCriterion + w1 * MSECriterion (or MSE twice on one target), maybe one more input',
    gen: fc
      .record({
        n: smallDim,
        c: classes,
        w: fc.tuple(fc.constantFrom(1, 0.5, -2), fc.constantFrom(1, 0.25, 3)),
        repeat: fc.boolean(),
        extra: fc.boolean(),
      })
      .map((p) => ({
        inputs: p.repeat
          ? [F([p.n, p.c]), F([p.n, p.c]), F([p.n, p.c]), ...(p.extra ? [F([p.c])] : [])]
          : [
              F([p.n, p.c]),
              F([p.n, p.c]),
              I([p.n], { index: p.c }),
              F([p.n, p.c]),
              ...(p.extra ? [F([p.c])] : []),
            ],
        params: p,
      })),
    make: (_xs, p: ParallelP) =>
      p.repeat
        ? new nn.ParallelCriterion(true)
            .add(new nn.MSECriterion(), p.w[0])
            .add(new nn.MSECriterion(false), p.w[1])
        : new nn.ParallelCriterion()
            .add(new nn.ClassNLLCriterion(), p.w[0])
            .add(new nn.MSECriterion(), p.w[1]),
    // An input entry beyond the criteria is ignored: its gradient is zeros.
    args: (xs, p: ParallelP) =>
      p.repeat
        ? [[xs[0]!, xs[1]!, ...(p.extra ? [xs[3]!] : [])], xs[2]!]
        : [
            [xs[0]!, xs[1]!, ...(p.extra ? [xs[4]!] : [])],
            [xs[2]!, xs[3]!],
          ],
    tol: (p: ParallelP) => chained(p.n * p.c, 2),
  }),
  ...criterionEntries({
    name: 'ModuleCriterion',
    label: 'ClassNLLCriterion after LogSoftMax, or MSECriterion after Tanh with a MulConstant target module',
    gen: fc.record({ n: smallDim, c: classes, withTarget: fc.boolean() }).map((p) => ({
      inputs: [F([p.n, p.c]), p.withTarget ? F([p.n, p.c]) : I([p.n], { index: p.c })],
      params: p,
    })),
    make: (_xs, p: ModuleCritP) =>
      p.withTarget
        ? new nn.ModuleCriterion(new nn.MSECriterion(), new nn.Tanh(), new nn.MulConstant(0.5))
        : new nn.ModuleCriterion(new nn.ClassNLLCriterion(), new nn.LogSoftMax()),
    tol: (p: ModuleCritP) => chained(Math.max(p.n, p.c), 2),
  }),
  ...criterionEntries({
    name: 'NCECriterion',
    label: "NCEModule's table {Pmt, Pms, Pnt, Pns} of probabilities",
    gen: fc
      .record({ n: smallDim, k: fc.integer({ min: 1, max: 4 }), sizeAverage: fc.boolean() })
      .map((p) => ({
        inputs: [F([p.n], 'prob'), F([p.n, p.k], 'prob'), F([p.n], 'prob'), F([p.n, p.k], 'prob')],
        params: p,
      })),
    make: (_xs, p: NceP) => new nn.NCECriterion(p.sizeAverage),
    args: (xs) => [[...xs], 0],
    tol: (p: NceP) => chained(p.n * (p.k + 1), 2),
  }),
];

/**
 * dpnn's REINFORCE loop: ReinforceNormal samples actions from the seeded generator, VRClassReward scores the
 * class prediction, hands (reward - baseline) to the module, and the module's backward turns it into the
 * gradient of the mean. Outputs: the loss, the criterion's gradInput and the module's.
 */
type VrP = Seeds & { n: number; c: number };
export const REWARD: OpEntry[] = [
  {
    op: 'VRClassReward',
    label: 'rewarding ReinforceNormal (stochastic, seeded)',
    gen: fc
      .record({ n: fc.integer({ min: 1, max: 5 }), c: fc.integer({ min: 2, max: 5 }), seeds: seedsArb })
      .map(({ n, c, seeds }) => ({
        inputs: [F([n, c]), F([n]), I([n], { index: c })],
        params: { n, c, ...seeds },
      })),
    run: ([mean, baseline, target], p: VrP, ctx) => {
      const policy = build(ctx, p.seed, () => new nn.ReinforceNormal(0.5, true));
      const crit = ownCriterion(ctx, new nn.VRClassReward(policy, 2));
      const action = policy.forward(mean!) as Tensor;
      const input = [action, baseline!];
      const loss = crit.forward(input, target!);
      const gradCrit = crit.backward(input, target!);
      const gradPolicy = policy.backward(mean!, gradOutputFor(action, p.gradSeed, ctx));
      return [action, loss, ...flat(gradCrit), ...flat(gradPolicy)];
    },
    tol: (c) => chained((c.params as VrP).n * (c.params as VrP).c, 2),
    // The sample's argmax decides the reward: a NaN would make it a matter of kernel order.
    specials: false,
  },
];
