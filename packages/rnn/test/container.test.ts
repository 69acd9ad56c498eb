/**
 * Torch's nn.Container: add, get (0-based here, negative from the end), size, children, the child's index in
 * errors and the nested printing. Found by mutation testing of Container.ts (README "Mutation testing").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebrnnError, nn, randn } from '@webrnn/rnn';

const containers = {
  Sequential: () => new nn.Sequential(),
  ConcatTable: () => new nn.ConcatTable(),
  ParallelTable: () => new nn.ParallelTable(),
};

describe('nn.Container', () => {
  it('get(i) is the i-th added child, counted from the end when negative; other indices are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -9, max: 9 }), (n, i) => {
        const c = new nn.Sequential();
        const added = Array.from({ length: n }, () => new nn.Identity());
        for (const m of added) expect(c.add(m)).toBe(c);
        expect(c.size()).toBe(n);
        expect(c.children()).toEqual(added);
        if (i >= -n && i < n) expect(c.get(i)).toBe(added[i < 0 ? i + n : i]);
        else
          expect(() => c.get(i)).toThrow(
            new WebrnnError('nn.Sequential.get', `index ${i} is out of range for ${n} modules`),
          );
      }),
    );
  });

  it('add refuses what is not a module, naming the container', () => {
    for (const [name, make] of Object.entries(containers)) {
      for (const bad of [3, null, {}]) {
        expect(() => make().add(bad as never)).toThrow(
          new WebrnnError(`nn.${name}.add`, `expected a module, got ${String(bad)}`),
        );
      }
    }
  });

  it("a child's error names the container and the child's 0-based index, nested containers each", () => {
    const inner = new nn.Sequential().add(new nn.Identity()).add(new nn.Linear(5, 2));
    const outer = new nn.Sequential().add(new nn.Tanh()).add(inner);
    expect(() => outer.forward(randn([2, 3]))).toThrow(
      'nn.Sequential[1] nn.Sequential[1] (nn.Linear(5 -> 2)): input: has shape [2, 3], expected [5] or [N, 5]',
    );
  });

  it('a nested container is printed indented one level deeper, every line of it', () => {
    const inner = new nn.Sequential().add(new nn.Identity()).add(new nn.Tanh());
    const text = new nn.Sequential().add(inner).describe();
    const innerLines = inner.describe().split('\n');
    const lines = text.split('\n');
    const at = lines.findIndex((l, k) => k > 0 && l.endsWith(innerLines[0]!));
    expect(lines[at]).toBe(`  (1): ${innerLines[0]}`);
    // Torch's nesting: the inner lines after the first are shifted by the outer entry's two spaces.
    innerLines.slice(1).forEach((l, k) => expect(lines[at + 1 + k]).toBe(`  ${l}`));
  });
});
