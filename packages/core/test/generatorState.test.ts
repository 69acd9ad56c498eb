import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, WebrnnError, randn } from '@webrnn/core';

/** getState/setState (PyTorch's get/set_rng_state): a restored generator draws exactly what it would have drawn. */
describe('Generator state', () => {
  it('restoring a state (through JSON) repeats every draw after it, whatever came before', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(50),
        fc.array(fc.constantFrom('next', 'normal', 'uint32'), { maxLength: 40 }),
        (seed, before, ops) => {
          const g = new Generator(seed);
          for (let i = 0; i < before; i++) i % 3 === 0 ? g.normal() : g.next();
          const state = JSON.parse(JSON.stringify(g.getState()));
          const draw = (h: Generator) =>
            ops.map((op) => (op === 'next' ? h.next() : op === 'normal' ? h.normal() : h.nextUint32()));
          const first = draw(g);
          const other = new Generator(seed + 1);
          other.setState(state);
          expect(draw(other)).toEqual(first);
          g.setState(state);
          expect(draw(g)).toEqual(first);
        },
      ),
    );
  });

  it('tensors drawn after a restore repeat too', () => {
    const g = new Generator(7);
    const state = g.getState();
    const a = randn([3, 5], { generator: g, dtype: 'float64' }).dataSync();
    g.setState(state);
    expect(randn([3, 5], { generator: g, dtype: 'float64' }).dataSync()).toEqual(a);
  });

  it('refuses a state that is not one, naming the call', () => {
    const g = new Generator(1);
    for (const bad of [
      null,
      {},
      { xoshiro128: [0, 0, 0, 0], spare: null },
      { xoshiro128: [1, 2, 3], spare: null },
      { xoshiro128: [1, 2, 3, 2 ** 32], spare: null },
      { xoshiro128: [1, 2, 3, 4], spare: Number.NaN },
    ]) {
      expect(() => g.setState(bad as never), JSON.stringify(bad)).toThrow(WebrnnError);
      expect(() => g.setState(bad as never)).toThrow(/Generator\.setState/);
    }
  });
});
