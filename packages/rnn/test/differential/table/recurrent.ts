import fc from 'fast-check';
import { type Activity, type Tensor, narrow, nn, transpose, unbind } from '@webrnn/rnn';
import {
  EXACT,
  F,
  I,
  type InputSpec,
  type OpEntry,
  type RunResult,
  type Tolerance,
  smallDim,
} from '../../../../core/test/differential/cases.js';
import {
  type ModuleSpec,
  type Seeds,
  backwardEntry,
  build,
  chained,
  flat,
  forwardEntry,
  gradOutputFor,
  seedsArb,
} from '../moduleEntry.js';

/**
 * Recurrent modules over whole sequences: step modules inside a Sequencer (and step by step through a
 * Recursor, backward in reverse order as Element-research's protocol asks), whole-sequence layers (SeqLSTM,
 * SeqGRU, SeqBRNN), bidirectional wrappers, Repeater, VariableLength and RecurrentAttention.
 */

/** Sequence sizes: T steps (T = 0 is refused by the Sequencer on every device), batch N, features D, hidden H. */
export type SeqP = Seeds & { t: number; n: number; d: number; h: number };

const seqDims = (minT = 1) =>
  fc.record({
    t: fc.integer({ min: minT, max: 5 }),
    n: smallDim,
    d: fc.integer({ min: 1, max: 5 }),
    h: fc.integer({ min: 1, max: 5 }),
  });

const seqInput = (minT = 1) => seqDims(minT).map((p) => ({ inputs: [F([p.t, p.n, p.d])], params: p }));

/**
 * Errors compound over steps: each step adds a matmul over D + H terms and carries the state's rounding on; the
 * weights' gradients sum over T * N. Depth T + 1: a wrong gate order or a missing term moves results by O(1).
 */
export const seqTol = (p: SeqP) => chained(Math.max(p.d + p.h, p.t * p.n), p.t + 1);

/** A step module in a Sequencer, on a tensor [T, N, D]; forward, and forward + Torch's backward. */
export function sequenced(name: string, make: (p: SeqP) => nn.Module, label = `in a Sequencer`): OpEntry[] {
  const spec: ModuleSpec<SeqP> = {
    name,
    label,
    gen: seqInput(),
    make: (p: SeqP) => new nn.Sequencer(make(p)),
    tol: seqTol,
  };
  return [forwardEntry(spec), backwardEntry(spec)];
}

/** Whole-sequence layers chain a little more per step (both directions, projections): depth 2T + 2. */
export const wholeSeqTol = (p: SeqP) => chained(Math.max(p.d + 2 * p.h, p.t * p.n), 2 * p.t + 2);

/** A whole-sequence layer on [T, N, D]. */
export function wholeSequence(
  name: string,
  make: (p: SeqP) => nn.Module,
  label?: string,
  minT = 1,
): OpEntry[] {
  const spec: ModuleSpec<SeqP> = {
    name,
    ...(label ? { label } : {}),
    gen: seqInput(minT),
    make,
    tol: wholeSeqTol,
  };
  return [forwardEntry(spec), backwardEntry(spec)];
}

/** Element-research's simple RNN: Recurrent(H, Linear(D, H), Linear(H, H), Tanh). */
const simpleRnn = (p: SeqP) =>
  new nn.Recurrent(p.h, new nn.Linear(p.d, p.h), new nn.Linear(p.h, p.h), new nn.Tanh(), 99);

/** The same step as a Recurrence: [x(t), h(t-1)] -> tanh(Linear(x) + Linear(h)). */
const recurrenceStep = (p: SeqP) =>
  new nn.Sequential()
    .add(new nn.ParallelTable().add(new nn.Linear(p.d, p.h)).add(new nn.Linear(p.h, p.h, false)))
    .add(new nn.CAddTable())
    .add(new nn.Tanh());

/**
 * Recursor step by step: forward each step, then backward once per step in reverse order with a seeded
 * gradOutput. Outputs: every step's output and gradInput, and the parameters' gradients.
 */
const recursorStepByStep: OpEntry = {
  op: 'Recursor',
  label: 'Sequential(Linear, FastLSTM), step by step, backward in reverse order',
  gen: fc.tuple(seqInput(), seedsArb).map(([c, s]) => ({ inputs: c.inputs, params: { ...c.params, ...s } })),
  run: ([x], p: SeqP, ctx): RunResult => {
    const m = build(
      ctx,
      p.seed,
      () => new nn.Recursor(new nn.Sequential().add(new nn.Linear(p.d, p.h)).add(new nn.FastLSTM(p.h, p.h))),
    );
    const steps = unbind(x!, 0);
    const outs = steps.map((s) => m.forward(s) as Tensor);
    const gradOuts = outs.map((o, t) => gradOutputFor(o, p.gradSeed + t, ctx));
    const gradIns: Activity[] = [];
    for (let t = steps.length - 1; t >= 0; t--) gradIns.unshift(m.backward(steps[t]!, gradOuts[t] as Tensor));
    const [params, grads] = m.parameters();
    return {
      outputs: [...outs, ...gradIns.flatMap(flat), ...grads.map((g) => g.clone())],
      watch: params,
    };
  },
  tol: (c) => seqTol(c.params as SeqP),
};

/**
 * Sequences with padding: a [T, N] mask (non-zero = padding, Torch's convention) given with setZeroMask; masked
 * steps output zeros and reset the state.
 */
export function masked(name: string, make: (p: SeqP) => nn.Module, tol: (p: SeqP) => Tolerance): OpEntry[] {
  const spec: ModuleSpec<SeqP> = {
    name,
    label: 'setZeroMask([T, N])',
    gen: seqDims().map((p) => ({ inputs: [F([p.t, p.n, p.d]), I([p.t, p.n], { index: 2 })], params: p })),
    make,
    prepare: (m, [, mask]) => {
      m.setZeroMask(mask!);
    },
    tol,
  };
  return [forwardEntry(spec), backwardEntry(spec)];
}

/**
 * Sequencer.remember(): the input's steps as two sequences in a row, the second starting from the state the
 * first left (the graph is cut between them, as Torch's truncated BPTT).
 */
const remembering: OpEntry = {
  op: 'Sequencer',
  label: 'FastLSTM, remember(): two sequences in a row',
  gen: fc
    .tuple(seqDims(2), seedsArb)
    .chain(([p, s]) =>
      fc
        .integer({ min: 1, max: p.t - 1 })
        .map((cut) => ({ inputs: [F([p.t, p.n, p.d])], params: { ...p, ...s, cut } })),
    ),
  run: ([x], p: SeqP & { cut: number }, ctx): RunResult => {
    const m = build(ctx, p.seed, () => new nn.Sequencer(new nn.FastLSTM(p.d, p.h)).remember('both'));
    const first = m.forward(narrow(x!, 0, 0, p.cut)) as Tensor;
    const second = m.forward(narrow(x!, 0, p.cut, p.t - p.cut)) as Tensor;
    return { outputs: [first, second], watch: m.parameters()[0] };
  },
  tol: (c) => seqTol(c.params as SeqP),
};

/**
 * The tutorial's language model, trained the Torch way: Sequencer(LookupTable, FastLSTM, Linear, LogSoftMax),
 * SequencerCriterion(ClassNLLCriterion), then model.backward(input, criterion.backward(output, target)).
 * Outputs: the loss and the parameters' gradients as backward left them.
 */
type LmP = SeqP & { v: number };
const languageModel: OpEntry = {
  op: 'Sequencer',
  label: 'language model of the tutorial, SequencerCriterion(ClassNLLCriterion), Torch-style backward',
  gen: fc.tuple(seqDims(), fc.integer({ min: 1, max: 7 }), seedsArb).map(([p, v, s]) => ({
    inputs: [I([p.t, p.n], { index: v }), I([p.t, p.n], { index: v })],
    params: { ...p, v, ...s },
  })),
  run: ([tokens, targets], p: LmP, ctx): RunResult => {
    const m = build(
      ctx,
      p.seed,
      () =>
        new nn.Sequencer(
          new nn.Sequential()
            .add(new nn.LookupTable(p.v, p.d))
            .add(new nn.FastLSTM(p.d, p.h))
            .add(new nn.Linear(p.h, p.v))
            .add(new nn.LogSoftMax()),
        ),
    );
    const crit = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    ctx.own(crit);
    const out = m.forward(tokens!);
    const loss = crit.forward(out, targets!);
    m.backward(tokens!, crit.backward(out, targets!));
    const [params, grads] = m.parameters();
    return { outputs: [loss, ...grads.map((g) => g.clone())], watch: params };
  },
  tol: (c) => seqTol(c.params as SeqP),
};

type RepeaterP = SeqP;
type VarP = Seeds & { lengths: number[]; d: number; h: number; lastOnly: boolean };
type AttnP = Seeds & { n: number; d: number; h: number; t: number };

export const RECURRENT: OpEntry[] = [
  ...sequenced('Sequencer', (p) => new nn.Linear(p.d, p.h), 'Linear (wrapped in a Recursor)'),
  ...sequenced('FastLSTM', (p) => new nn.FastLSTM(p.d, p.h)),
  ...sequenced('LSTM', (p) => new nn.LSTM(p.d, p.h)),
  ...sequenced('GRU', (p) => new nn.GRU(p.d, p.h)),
  // Variational dropout: masks drawn from the seeded generator, the same on every device.
  ...sequenced(
    'FastLSTM',
    (p) => new nn.FastLSTM(p.d, p.h, undefined, { p: 0.25 }),
    'dropout p = 0.25, in a Sequencer',
  ),
  ...sequenced(
    'GRU',
    (p) => new nn.GRU(p.d, p.h, undefined, 0.25, true),
    'dropout p = 0.25 (one mask), in a Sequencer',
  ),
  ...sequenced('LSTM', (p) => new nn.LSTM(p.d, p.h, undefined, false), 'without peepholes, in a Sequencer'),
  ...sequenced('Recurrent', simpleRnn, 'Linear, Linear, Tanh in a Sequencer'),
  ...sequenced('Recurrence', (p) => new nn.Recurrence(recurrenceStep(p), p.h, 1)),
  ...sequenced(
    'NormStabilizer',
    (p) => new nn.Sequential().add(new nn.Linear(p.d, p.h)).add(new nn.NormStabilizer(0.5)),
    'after a Linear, in a Sequencer',
  ),
  forwardEntry({
    name: 'Recursor',
    label: 'Sequential(Linear, FastLSTM) in a Sequencer',
    gen: seqInput(),
    make: (p: SeqP) =>
      new nn.Sequencer(
        new nn.Recursor(new nn.Sequential().add(new nn.Linear(p.d, p.h)).add(new nn.FastLSTM(p.h, p.h))),
      ),
    tol: seqTol,
  }),
  recursorStepByStep,
  ...wholeSequence('SeqLSTM', (p) => new nn.SeqLSTM(p.d, p.h)),
  ...wholeSequence(
    'SeqLSTM',
    (p) => new nn.SeqLSTM(p.d, p.h, Math.max(1, p.h - 1)),
    'with a projection (LSTMP)',
  ),
  ...wholeSequence('SeqGRU', (p) => new nn.SeqGRU(p.d, p.h)),
  ...wholeSequence(
    'SeqGRU',
    (p) => new nn.SeqGRU(p.d, p.h, { resetAfter: true }),
    'resetAfter (the reset gate after the product, as PyTorch)',
  ),
  ...(() => {
    // batchfirst: the input is [N, T, D] (drawn as [T, N, D] and transposed as a view, so both layouts occur).
    const spec: ModuleSpec<SeqP> = {
      name: 'SeqLSTM',
      label: 'batchfirst',
      gen: seqInput(),
      make: (p: SeqP) => {
        const m = new nn.SeqLSTM(p.d, p.h);
        m.batchfirst = true;
        return m;
      },
      input: ([x]) => transpose(x!, 0, 1),
      tol: wholeSeqTol,
    };
    return [forwardEntry(spec), backwardEntry(spec)];
  })(),
  ...masked('FastLSTM', (p) => new nn.Sequencer(new nn.FastLSTM(p.d, p.h)), seqTol),
  ...masked('GRU', (p) => new nn.Sequencer(new nn.GRU(p.d, p.h)), seqTol),
  ...masked('SeqLSTM', (p) => new nn.SeqLSTM(p.d, p.h), wholeSeqTol),
  ...masked('SeqGRU', (p) => new nn.SeqGRU(p.d, p.h), wholeSeqTol),
  remembering,
  forwardEntry({
    name: 'Sequencer',
    label: 'GRU over a table of steps (as in Torch)',
    gen: seqInput(),
    make: (p: SeqP) => new nn.Sequencer(new nn.GRU(p.d, p.h)),
    input: ([x]) => unbind(x!, 0),
    tol: seqTol,
  }),
  forwardEntry({
    name: 'BiSequencer',
    label: 'FastLSTM over a table of steps (as in Torch)',
    gen: seqInput(),
    make: (p: SeqP) => new nn.BiSequencer(new nn.FastLSTM(p.d, p.h)),
    input: ([x]) => unbind(x!, 0),
    tol: wholeSeqTol,
  }),
  languageModel,
  ...wholeSequence('SeqBRNN', (p) => new nn.SeqBRNN(p.d, p.h)),
  ...wholeSequence('SeqBLSTM', (p) => new nn.SeqBLSTM(p.d, p.h)),
  ...wholeSequence('SeqBGRU', (p) => new nn.SeqBGRU(p.d, p.h, new nn.JoinTable(-1))),
  ...wholeSequence('SeqReverseSequence', () => new nn.SeqReverseSequence(0)),
  ...wholeSequence('BiSequencer', (p) => new nn.BiSequencer(new nn.FastLSTM(p.d, p.h))),
  // T >= 2: shorter sequences are refused (on every device alike, which the harness checks too).
  ...wholeSequence('BiSequencerLM', (p) => new nn.BiSequencerLM(new nn.GRU(p.d, p.h)), undefined, 1),
  ...(() => {
    const spec: ModuleSpec<RepeaterP> = {
      name: 'Repeater',
      label: 'Recurrent, the same input every step',
      gen: seqDims().map((p) => ({ inputs: [F([p.n, p.d])], params: p })),
      make: (p: RepeaterP) => new nn.Repeater(simpleRnn(p), p.t),
      tol: seqTol,
    };
    return [forwardEntry(spec), backwardEntry(spec)];
  })(),
  ...[false, true].map((lastOnly) =>
    forwardEntry({
      name: 'VariableLength',
      label: `Sequencer(FastLSTM)${lastOnly ? ', last step only' : ''}`,
      gen: fc
        .record({
          lengths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
          d: fc.integer({ min: 1, max: 4 }),
          h: fc.integer({ min: 1, max: 4 }),
        })
        .map((p) => ({
          inputs: p.lengths.map((l): InputSpec => F([l, p.d])),
          params: { ...p, lastOnly },
        })),
      make: (p: VarP) => new nn.VariableLength(new nn.Sequencer(new nn.FastLSTM(p.d, p.h)), p.lastOnly),
      input: (xs) => [...xs],
      tol: (p: VarP) => chained(p.d + p.h + p.lengths.length * 4, 5),
    }),
  ),
  {
    op: 'padSequences',
    label: 'sequences [Ti, D] into [Tmax, N, D] and the zero mask',
    gen: fc
      .record({
        lengths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        d: fc.array(smallDim, { maxLength: 2 }),
        side: fc.constantFrom<'left' | 'right'>('left', 'right'),
        value: fc.constantFrom(0, -1.5),
      })
      .map((p) => ({ inputs: p.lengths.map((l): InputSpec => F([l, ...p.d])), params: p })),
    run: (xs, p: { side: 'left' | 'right'; value: number }) => {
      const b = nn.padSequences(xs, { side: p.side, value: p.value });
      return [b.input, b.zeroMask];
    },
    tol: EXACT,
  },
  forwardEntry({
    name: 'RecurrentAttention',
    label: 'Recurrent over {input, action}, ReinforceNormal sampling from the seeded generator, rewarded',
    gen: fc
      .record({
        n: smallDim,
        d: fc.integer({ min: 1, max: 4 }),
        h: fc.integer({ min: 1, max: 4 }),
        t: fc.integer({ min: 1, max: 3 }),
      })
      // The input, and the reward handed to the REINFORCE module before backward.
      .map((p) => ({ inputs: [F([p.n, p.d]), F([p.n], 'any', false)], params: p })),
    make: (p: AttnP) => {
      const inputModule = new nn.Sequential()
        .add(new nn.ParallelTable().add(new nn.Linear(p.d, p.h)).add(new nn.Linear(2, p.h)))
        .add(new nn.CAddTable());
      const rnn = new nn.Recurrent(p.h, inputModule, new nn.Linear(p.h, p.h), new nn.Tanh(), 99);
      const action = new nn.Sequential().add(new nn.Linear(p.h, 2)).add(new nn.ReinforceNormal(0.3));
      return new nn.RecurrentAttention(rnn, action, p.t, [p.h]);
    },
    prepare: (m, [, reward]) => nn.reinforce(m, reward!),
    tol: (p: AttnP) => chained(Math.max(p.d + p.h, p.n * p.t), 2 * p.t + 1),
  }),
];
