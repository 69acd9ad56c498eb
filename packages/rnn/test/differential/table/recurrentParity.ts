import fc from 'fast-check';
import { type Tensor, nn } from '@webrnn/rnn';
import { F, type OpEntry } from '../../../../core/test/differential/cases.js';
import { type ModuleSpec, backwardEntry, forwardEntry } from '../moduleEntry.js';
import { type SeqP, masked, seqTol, sequenced, wholeSequence } from './recurrent.js';

/**
 * The recurrent modules of Element-research's rnn added for Torch parity (issue 12): SeqLSTMP, MuFuRu, Bayesian
 * dropout in ER's argument forms (FastLSTM positional, LSTM p, rnn's lazy mono Dropout) and FastLSTM's recurrent
 * batch normalisation.
 */

/**
 * FastLSTM with recurrent batch normalisation in a Sequencer: batches of N >= 2 (training needs a variance). In
 * training the batch statistics; with `evaluated`, one training forward first (moving the running statistics),
 * then the compared forward in evaluation mode on them. Normalising divides by sqrt(var + eps): with Torch's eps
 * 1e-5, a batch of equal rows (an expanded view) turns float32 rounding of ~1e-7 into O(1) differences in every
 * framework, so the entries use eps = 0.1 (a gain of at most ~3); the golden and Jacobian tests use 1e-5.
 */
function batchNormalised(evaluated: boolean): OpEntry[] {
  const spec: ModuleSpec<SeqP> = {
    name: 'FastLSTM',
    label: `bn (recurrent batch normalisation), ${evaluated ? 'evaluation on running statistics' : 'training'}, in a Sequencer`,
    gen: fc
      .record({
        t: fc.integer({ min: 1, max: 4 }),
        n: fc.integer({ min: 2, max: 4 }),
        d: fc.integer({ min: 1, max: 4 }),
        h: fc.integer({ min: 1, max: 4 }),
      })
      .map((p) => ({ inputs: [F([p.t, p.n, p.d])], params: p })),
    make: (p: SeqP) => new nn.Sequencer(new nn.FastLSTM(p.d, p.h, undefined, { bn: true, eps: 0.1 })),
    ...(evaluated
      ? {
          prepare: (m: nn.Module, [x]: readonly Tensor[]) => {
            m.forward(x!);
            m.evaluate();
          },
        }
      : {}),
    tol: (p: SeqP) => {
      const t = seqTol(p);
      return { rtol: t.rtol * 10, ftol: t.ftol * 10 };
    },
  };
  return evaluated ? [forwardEntry(spec)] : [forwardEntry(spec), backwardEntry(spec)];
}

export const RECURRENT_PARITY: OpEntry[] = [
  ...batchNormalised(false),
  ...batchNormalised(true),
  ...sequenced('MuFuRu', (p) => new nn.MuFuRu(p.d, p.h)),
  ...sequenced(
    'MuFuRu',
    (p) => new nn.MuFuRu(p.d, p.h, ['keep', 'replace']),
    'keep, replace (GRU-like), in a Sequencer',
  ),
  ...masked('MuFuRu', (p) => new nn.Sequencer(new nn.MuFuRu(p.d, p.h)), seqTol),
  ...sequenced(
    'FastLSTM',
    (p) => new nn.FastLSTM(p.d, p.h, undefined, null, null, null, 0.25, true),
    "Element-research's positional (..., p = 0.25, mono), in a Sequencer",
  ),
  ...sequenced(
    'LSTM',
    (p) => new nn.LSTM(p.d, p.h, undefined, true, 0.25),
    'dropout p = 0.25, in a Sequencer',
  ),
  // rnn's lazy Dropout: one mask for every step of the sequence (drawn at the first, kept until the backward).
  ...sequenced(
    'Dropout',
    () => new nn.Dropout(0.25, false, false, true, true),
    'lazy, mono: one mask for the sequence, in a Sequencer',
  ),
  // Element-research's SeqLSTMP: the projection is there even when R == H (SeqLSTM(D, H, H) has none).
  ...wholeSequence('SeqLSTMP', (p) => new nn.SeqLSTMP(p.d, p.h, p.h), 'R == H (projected all the same)'),
  ...wholeSequence('SeqLSTMP', (p) => new nn.SeqLSTMP(p.d, p.h, p.h + 1), 'R > H'),
];
