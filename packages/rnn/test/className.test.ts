import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nn } from '@webrnn/rnn';
import { className } from '../src/module/className.js';

/** Names that bundlers give classes (esbuild: `_FastLSTM`, `Linear2`) print, save and load as the source's. */
describe('className', () => {
  it("undoes a bundler's renaming, and leaves every class of nn as it is", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Za-z]{0,12}$/), fc.nat(3), fc.nat(20), (name, under, n) => {
        const renamed = '_'.repeat(under) + name + (n > 0 ? String(n) : '');
        expect(className({ name: renamed })).toBe(name);
      }),
    );
    for (const [key, value] of Object.entries(nn)) {
      if (typeof value === 'function' && /^[A-Z]/.test(key)) expect(className(value)).toBe(key);
    }
  });

  it('a renamed class prints and names its structure as the original', () => {
    const renamed = { _FastLSTM: class extends nn.FastLSTM {} }._FastLSTM;
    expect(renamed.name).toBe('_FastLSTM');
    expect(new renamed(2, 3).typeName).toBe('nn.FastLSTM');
  });
});
