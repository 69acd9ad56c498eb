import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, type Tensor } from '@webrnn/rnn';

/** Every value of the tensors, as numbers. */
function values(ts: readonly Tensor[]): number[] {
  return ts.flatMap((t) => Array.from(t.dataSync() as ArrayLike<number>));
}

/** All draws inside [-bound, bound], and spread over it (not all at one value, reaching past half the bound). */
function expectUniformIn(vs: readonly number[], bound: number): void {
  const max = Math.max(...vs.map(Math.abs));
  expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
  if (vs.length >= 16) {
    expect(max).toBeGreaterThan(bound / 2);
    expect(new Set(vs).size).toBeGreaterThan(vs.length / 2);
  }
}

// Torch's reset(stdv): the default bound is the module's own (1/sqrt(fan-in) or 1/sqrt(size)); a given stdv is a
// standard deviation, so the bound is stdv*sqrt(3). dpnn's NCEModule takes its stdv as the bound itself and sets
// the bias to -log(outputSize) by default.
describe('reset(stdv) draws uniformly within Torch’s bounds', () => {
  const size = fc.integer({ min: 1, max: 40 });
  const stdv = fc.option(fc.double({ min: 1e-3, max: 5, noNaN: true }), { nil: undefined });

  it('Linear: weight and bias within 1/sqrt(inputSize), or stdv*sqrt(3)', () => {
    fc.assert(
      fc.property(size, size, stdv, fc.integer(), (inp, out, s, seed) => {
        manualSeed(seed);
        const m = new nn.Linear(inp, out);
        m.reset(s);
        expectUniformIn(values([m.weight]), s === undefined ? 1 / Math.sqrt(inp) : s * Math.sqrt(3));
        expectUniformIn(values([m.bias!]), s === undefined ? 1 / Math.sqrt(inp) : s * Math.sqrt(3));
        m.dispose();
      }),
      { numRuns: 40 },
    );
  });

  it('Add and CMul: within 1/sqrt(number of elements), or stdv*sqrt(3)', () => {
    fc.assert(
      fc.property(size, size, stdv, (a, b, s) => {
        const add = new nn.Add([a, b]);
        const cmul = new nn.CMul(a, b);
        add.reset(s);
        cmul.reset(s);
        const bound = s === undefined ? 1 / Math.sqrt(a * b) : s * Math.sqrt(3);
        expectUniformIn(values([add.bias]), bound);
        expectUniformIn(values([cmul.weight]), bound);
        add.dispose();
        cmul.dispose();
      }),
      { numRuns: 40 },
    );
  });

  it('NCEModule: weight within 1/sqrt(inputSize) and bias -log(outputSize); with stdv, both within stdv', () => {
    fc.assert(
      fc.property(size, fc.integer({ min: 2, max: 40 }), stdv, (inp, out, s) => {
        const m = new nn.NCEModule(inp, out, 2, new Array(out).fill(1));
        m.reset(s);
        expectUniformIn(values([m.weight]), s ?? 1 / Math.sqrt(inp));
        const bias = values([m.bias!]);
        if (s === undefined) for (const b of bias) expect(b).toBeCloseTo(-Math.log(out), 5);
        else expectUniformIn(bias, s);
        m.dispose();
      }),
      { numRuns: 30 },
    );
  });
});
