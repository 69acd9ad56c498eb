import { describe, expect, it } from 'vitest';
import { nn } from '@webrnn/rnn';

/**
 * The decorators that differentiate their criterion on the tape (SequencerCriterion, RepeaterCriterion,
 * MaskZeroCriterion) refuse a criterion whose backward does work of its own: VRClassReward hands out its reward
 * there, ModuleCriterion runs its input module's backward, ParallelCriterion its parts'. Wrapped, that work would be
 * skipped without a word (the policy would never learn). Every other criterion of nn is accepted.
 */
const decorators = {
  SequencerCriterion: (c: nn.Criterion) => new nn.SequencerCriterion(c),
  RepeaterCriterion: (c: nn.Criterion) => new nn.RepeaterCriterion(c),
  MaskZeroCriterion: (c: nn.Criterion) => new nn.MaskZeroCriterion(c, 1),
};

const ownBackward: Record<string, () => nn.Criterion> = {
  VRClassReward: () => new nn.VRClassReward(new nn.ReinforceNormal(0.5)),
  ModuleCriterion: () => new nn.ModuleCriterion(new nn.MSECriterion(), new nn.Tanh()),
  ParallelCriterion: () => new nn.ParallelCriterion().add(new nn.MSECriterion()),
};

const tapeBackward: Record<string, () => nn.Criterion> = {
  ClassNLLCriterion: () => new nn.ClassNLLCriterion(),
  CrossEntropyCriterion: () => new nn.CrossEntropyCriterion(),
  MSECriterion: () => new nn.MSECriterion(),
  BCECriterion: () => new nn.BCECriterion(),
  NCECriterion: () => new nn.NCECriterion(),
  SequencerCriterion: () => new nn.SequencerCriterion(new nn.MSECriterion()),
  RepeaterCriterion: () => new nn.RepeaterCriterion(new nn.MSECriterion()),
  MaskZeroCriterion: () => new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1),
};

describe('criterion decorators on the tape', () => {
  it('every criterion of nn is listed here, by whether its backward is its own', () => {
    const criteria = Object.entries(nn)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof nn.Criterion)
      .map(([k]) => k)
      .sort();
    expect(criteria).toEqual([...Object.keys(ownBackward), ...Object.keys(tapeBackward)].sort());
    for (const make of Object.values(ownBackward))
      expect(make().backward).not.toBe(nn.Criterion.prototype.backward);
    for (const make of Object.values(tapeBackward))
      expect(make().backward).toBe(nn.Criterion.prototype.backward);
  });

  for (const [dec, wrap] of Object.entries(decorators)) {
    it(`${dec} refuses a criterion with a backward of its own, naming both, and takes the others`, () => {
      for (const [name, make] of Object.entries(ownBackward)) {
        expect(() => wrap(make()), name).toThrow(new RegExp(`nn\\.${dec}.*cannot decorate nn\\.${name}`));
      }
      for (const make of Object.values(tapeBackward)) expect(() => wrap(make())).not.toThrow();
      expect(() => wrap({} as nn.Criterion)).toThrow(/expected a criterion to decorate/);
    });
  }
});
