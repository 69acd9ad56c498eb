/**
 * Bad inputs to the recurrent modules and their decorators: each is a clear error whose message is checked.
 */
import { describe, expect, it } from 'vitest';
import { nn, randn, tensor } from '@webrnn/rnn';

/** The tutorial's model: Recurrent(LookupTable) -> Linear -> LogSoftMax. */
const tutorial = () =>
  new nn.Sequential()
    .add(new nn.Recurrent(7, new nn.LookupTable(10, 7), new nn.Linear(7, 7), new nn.Sigmoid(), 5))
    .add(new nn.Linear(7, 10))
    .add(new nn.LogSoftMax());
const idx = (...v: number[]) => tensor(v, { dtype: 'int32' });
const g = (n = 1) => randn([n, 10]);

const cases: [string, () => unknown, string][] = [
  [
    'backward before any forward (Recursor)',
    () => new nn.Recursor(tutorial()).backward(idx(1), g()),
    'nn.Recursor: backward: called before forward',
  ],
  [
    'backward after forget()',
    () => {
      const r = new nn.Recursor(tutorial());
      r.forward(idx(1));
      r.forget();
      r.backward(idx(1), g());
    },
    'nn.Recursor: backward: called before forward',
  ],
  [
    'backward before forward (Sequencer)',
    () => new nn.Sequencer(tutorial()).backward([idx(1)], [g()]),
    'nn.Sequencer: backward: called before forward: there is no output to backpropagate from',
  ],
  [
    'more backward calls than forward steps (Recursor)',
    () => {
      const r = new nn.Recursor(tutorial());
      r.forward(idx(1));
      r.forward(idx(2));
      r.backward(idx(2), g());
      r.backward(idx(1), g());
      r.backward(idx(1), g());
    },
    'nn.Recursor: backward: called 3 times but there were only 2 forward step(s) since forget(): call backward once per forward step, in reverse order',
  ],
  [
    'more backward calls than forward steps (Recurrent)',
    () => {
      const r = new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4));
      const x = randn([2, 3]);
      r.forward(x);
      r.backward(x, randn([2, 4]));
      r.backward(x, randn([2, 4]));
    },
    'nn.Recurrent: backward: called 2 times but there were only 1 forward step(s) since forget()',
  ],
  [
    'backward in evaluation mode',
    () => {
      const r = new nn.Recursor(tutorial()).evaluate();
      r.forward(idx(1));
      r.backward(idx(1), g());
    },
    'nn.Recursor: backward: called in evaluation mode, which keeps no history; call training() first',
  ],
  [
    'a step gradient of the wrong shape',
    () => {
      const r = new nn.Recursor(tutorial());
      r.forward(idx(1, 2));
      r.backward(idx(1, 2), randn([2, 9]));
    },
    "nn.Recursor: backward: gradOutput is [2, 9], expected the step output's [2, 10]",
  ],
  [
    'a sequence gradient with too few steps',
    () => {
      const s = new nn.Sequencer(tutorial());
      s.forward([idx(1), idx(2)]);
      s.backward([idx(1), idx(2)], [g()]);
    },
    "nn.Sequencer: backward: gradOutput is {[1, 10]}, expected the output's {[1, 10], [1, 10]}",
  ],
  [
    'batch size changing between steps (Recursor)',
    () => {
      const r = new nn.Recursor(tutorial());
      r.forward(idx(1, 2, 3));
      r.forward(idx(1, 2));
    },
    'nn.Recursor[0] nn.Sequential[0] (nn.Recurrent): input: has batch size 2 (the input module gives [2, 7]), but the previous output has batch size 3 ([3, 7]): the batch size cannot change within a sequence; call forget() to start a new one',
  ],
  [
    'batch size changing between steps (Sequencer)',
    () => new nn.Sequencer(tutorial()).forward([idx(1, 2, 3), idx(1, 2)]),
    'nn.Sequencer step 1 nn.Recursor[0] nn.Sequential[0] (nn.Recurrent): input: has batch size 2',
  ],
  [
    'batch size changing between steps (Recurrence)',
    () => {
      const r = new nn.Recurrence(
        new nn.Sequential()
          .add(new nn.ParallelTable().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 4)))
          .add(new nn.CAddTable()),
        4,
        1,
      );
      r.forward(randn([2, 3]));
      r.forward(randn([4, 3]));
    },
    'nn.Recurrence: input: has shape [4, 3], but the previous output has shape [2, 4] (expected [4, 4]): the batch size cannot change within a sequence (the input has batch size 4, the previous output 2)',
  ],
  [
    'a module whose output does not have outputSize (Recurrence)',
    () => {
      const r = new nn.Recurrence(new nn.SelectTable(0), 4, 1);
      r.forward(randn([2, 3]));
      r.forward(randn([2, 3]));
    },
    "nn.Recurrence: input: has shape [2, 3], but the previous output has shape [2, 3] (expected [2, 4]): outputSize is 4, so the module's output must have that size per sample",
  ],
  [
    'a state set for another batch size',
    () => {
      const r = new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4));
      r.setHiddenState(randn([3, 4]));
      r.forward(randn([2, 3]));
    },
    'nn.Recurrent: input: has batch size 2 (the input module gives [2, 4]), but the previous output has batch size 3 ([3, 4])',
  ],
  [
    'wrong input size',
    () =>
      new nn.Sequencer(new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4))).forward([
        randn([2, 5]),
      ]),
    'nn.Sequencer step 0 nn.Recurrent[1] (nn.Linear(3 -> 4)): input: has shape [2, 5], expected [3] or [N, 3]',
  ],
  [
    'wrong input rank for Recurrence',
    () => new nn.Recurrence(new nn.CAddTable(), 3, 1).forward(randn([2, 2, 3])),
    'nn.Recurrence: input: has shape [2, 2, 3], but nInputDim is 1: expected 1 dimension(s) per sample, or 2 for a batch',
  ],
  [
    'a word index out of range (LookupTable in a Sequencer)',
    () => new nn.Sequencer(tutorial()).forward([idx(1), idx(10)]),
    'nn.Sequencer step 1 nn.Recursor[0] nn.Sequential[0] nn.Recurrent[1] (nn.LookupTable): input: index 10 at position [0] is out of range for nIndex 10 (expected 0 <= index < 10)',
  ],
  [
    'a negative word index (LookupTable in a Recursor)',
    () => new nn.Recursor(tutorial()).forward(idx(-1)),
    'nn.Recursor[0] nn.Sequential[0] nn.Recurrent[1] (nn.LookupTable): input: index -1 at position [0] is out of range for nIndex 10',
  ],
  [
    'float word indices',
    () => new nn.Recursor(tutorial()).forward(randn([2])),
    'nn.Recursor[0] nn.Sequential[0] nn.Recurrent[1] (nn.LookupTable): input: has dtype float32, expected int32 indices (0-based)',
  ],
  [
    'a target class out of range (ClassNLLCriterion in a SequencerCriterion)',
    () =>
      new nn.SequencerCriterion(new nn.ClassNLLCriterion()).forward(
        [randn([2, 10]), randn([2, 10])],
        [idx(1, 2), idx(3, 10)],
      ),
    'nn.SequencerCriterion(nn.ClassNLLCriterion): step 1: target: class 10 at position 1 is out of range for 10 classes (expected 0 <= class < 10)',
  ],
  [
    'a target class out of range (ClassNLLCriterion in a RepeaterCriterion)',
    () => new nn.RepeaterCriterion(new nn.ClassNLLCriterion()).forward([randn([2, 10])], idx(1, -1)),
    'nn.RepeaterCriterion(nn.ClassNLLCriterion): step 0: target: class -1 at position 1 is out of range for 10 classes (expected 0 <= class < 10)',
  ],
  [
    'fewer targets than steps',
    () =>
      new nn.SequencerCriterion(new nn.ClassNLLCriterion()).forward(
        [randn([2, 10]), randn([2, 10])],
        [idx(1, 2)],
      ),
    'nn.SequencerCriterion(nn.ClassNLLCriterion): target: has 1 steps but the input has 2',
  ],
  [
    'an empty sequence',
    () => new nn.Sequencer(tutorial()).forward([]),
    'nn.Sequencer: input: the sequence is empty',
  ],
  [
    'an unknown remember mode',
    () => new nn.Sequencer(tutorial()).remember('always' as never),
    "remember: mode must be 'neither', 'both', 'train' or 'eval', got 'always'",
  ],
  ['rho of zero', () => new nn.Recursor(tutorial(), 0), 'nn.Recursor: rho must be a positive integer, got 0'],
  [
    'a fractional number of Repeater steps',
    () => new nn.Repeater(tutorial(), 1.5),
    'nn.Repeater: rho (the number of steps) must be a positive integer, got 1.5',
  ],
];

describe('recurrent modules: bad inputs give clear errors', () => {
  for (const [name, f, message] of cases) {
    it(name, () => {
      let thrown: unknown = null;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'no error was thrown').toBeInstanceOf(Error);
      expect((thrown as Error).message).toContain(message);
    });
  }

  it('after an error, forget() gives a module that works again', () => {
    const r = new nn.Recursor(tutorial());
    r.forward(idx(1, 2, 3));
    expect(() => r.forward(idx(1, 2))).toThrow(/batch size cannot change/);
    r.forget();
    r.forward(idx(1, 2));
    expect((r.backward(idx(1, 2), g(2)) as unknown as { shape: number[] }).shape).toEqual([2]);
  });
});
