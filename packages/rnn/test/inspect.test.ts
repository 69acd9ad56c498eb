import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nn } from '@webrnn/rnn';

/** console.log of a module or criterion prints what Torch prints (its toString), not the object's fields. */
describe('util.inspect of modules and criterions', () => {
  it('is the Torch description, at any depth of a container', () => {
    const net = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh());
    const rnn = new nn.Recursor(new nn.Sequential().add(new nn.FastLSTM(4, 5)), 7);
    const crit = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    for (const m of [net, rnn, new nn.Linear(2, 2), crit]) {
      expect(inspect(m)).toBe(m.toString());
      expect(inspect(m)).not.toMatch(/params|boundaryInput|Map\(/);
    }
    expect(inspect({ model: net })).toContain('nn.Sequential');
    for (const m of [net, rnn, crit]) m.dispose();
  });
});
