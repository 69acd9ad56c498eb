/**
 * rnn/state.ts on its own: which modules of a tree hold recurrent state (each once, however often it is reached),
 * and when a backward through a container is refused as a step-wise backward (a recurrent module inside keeps more
 * steps than the container's last forward made), with the counts in the message. recurrentParity.test.ts checks the
 * same refusal end to end through a Sequential.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nn, randn } from '@webrnn/rnn';
import {
  type StateHolder,
  checkRememberMode,
  markSteps,
  refuseStepwise,
  remembers,
  stateHolders,
} from '../src/rnn/state.js';

const rnn = () => new nn.Recurrent(3, new nn.Linear(2, 3), new nn.Linear(3, 3), new nn.Tanh(), 5);

describe('remember modes', () => {
  it("carry the state over as Element-research's remember(mode) says: both always, train or eval in that mode only", () => {
    const table = (['neither', 'both', 'train', 'eval'] as const).map((mode) => [
      mode,
      remembers(mode, true),
      remembers(mode, false),
    ]);
    expect(table).toEqual([
      ['neither', false, false],
      ['both', true, true],
      ['train', true, false],
      ['eval', false, true],
    ]);
  });

  it('refuse anything else, naming the op and the value', () => {
    for (const mode of ['neither', 'both', 'train', 'eval'])
      expect(() => checkRememberMode('op', mode)).not.toThrow();
    for (const bad of ['Both', '', undefined, 1]) {
      expect(() => checkRememberMode('nn.X.remember', bad)).toThrow(
        `nn.X.remember: mode must be 'neither', 'both', 'train' or 'eval', got '${String(bad)}'`,
      );
    }
  });
});

describe('stateHolders', () => {
  it('lists each recurrent module of a tree once, however often the tree reaches it', () => {
    const shared = rnn();
    const other = new nn.SeqLSTM(2, 3);
    const net = new nn.Sequential()
      .add(shared)
      .add(new nn.Sequential().add(shared).add(new nn.Linear(3, 2)))
      .add(other)
      .add(shared);
    const holders = stateHolders(net);
    expect(holders).toHaveLength(2);
    expect(new Set(holders)).toEqual(new Set([shared, other]));
    expect(stateHolders(new nn.Sequential().add(new nn.Linear(2, 2)))).toEqual([]);
  });
});

describe('markSteps', () => {
  it("notes each step-wise module's step count inside a container, none for whole-sequence ones", () => {
    const r = rnn();
    const seqLstm = new nn.SeqLSTM(2, 3);
    const net = new nn.Sequential().add(r).add(seqLstm);
    for (let t = 0; t < 3; t++) r.forward(randn([4, 2]));
    const marks = markSteps(net);
    expect(marks.get(r)).toBe(3);
    expect(marks.has(seqLstm)).toBe(true);
    expect(marks.get(seqLstm)).toBeUndefined();
  });
});

describe('refuseStepwise', () => {
  /** A holder whose counts are given (undefined: a module that does not count steps, as whole-sequence ones). */
  const holder = (count: number | undefined, kept: number | undefined): StateHolder =>
    ({
      errorName: () => 'nn.Fake',
      stepCount: count === undefined ? undefined : () => count,
      keptSteps: kept === undefined ? undefined : () => kept,
    }) as unknown as StateHolder;
  const maybe = (a: fc.Arbitrary<number>) => fc.option(a, { nil: undefined });

  it('refuses exactly when a holder keeps more steps than the last forward made, naming both counts', () => {
    fc.assert(
      fc.property(
        maybe(fc.nat(50)),
        maybe(fc.nat(50)),
        maybe(fc.nat(60)),
        fc.nat(3),
        (mark, made, kept, before) => {
          // Two holders: the first always passes, so the refusal is about the second.
          const ok = holder(7, 1);
          const count = mark === undefined || made === undefined ? undefined : mark + made;
          const h = holder(count, kept);
          const marks = new Map<StateHolder, number | undefined>([
            [ok, 6],
            [h, mark],
          ]);
          const run = () => refuseStepwise('backward', before % 2 === 0 ? [ok, h] : [h, ok], marks);
          const refused = mark !== undefined && made !== undefined && kept !== undefined && kept > made;
          if (!refused) expect(run).not.toThrow();
          else {
            expect(run).toThrow(
              `backward: nn.Fake inside keeps ${kept} steps but only ${made} came from this module's last forward: ` +
                'a step-wise backward (one call per time step) through a plain container is not supported; ' +
                'wrap the container in nn.Recursor (new nn.Recursor(net)), or run whole sequences with nn.Sequencer',
            );
          }
        },
      ),
    );
  });

  it('ignores a holder that has no mark (not inside the module when its forward began)', () => {
    const h = holder(10, 10);
    expect(() => refuseStepwise('backward', [h], new Map())).not.toThrow();
    expect(() => refuseStepwise('backward', [h], new Map([[h, 9]]))).toThrow('keeps 10 steps but only 1');
  });
});
