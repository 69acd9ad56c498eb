import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebrnnError, tensor, zeros } from '@webrnn/core';

/**
 * Writing in place into an expanded tensor (a dim of size > 1 with stride 0) would write several values into one
 * memory location: the CPU would keep the last, WebGPU threads would race. Refused, as in PyTorch; fill_ writes one
 * value everywhere and stays allowed.
 */
describe('in-place writes into expanded tensors', () => {
  it('add_/sub_/mul_/div_/copy_ refuse a target with a stretched dim, naming the op and the strides', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('add_', 'sub_', 'mul_', 'div_', 'copy_'),
        (n, m, op) => {
          const base = zeros([1, m]);
          const target = base.expand([n, m]);
          const src = tensor(
            Array.from({ length: n * m }, (_, i) => i + 1),
            { shape: [n, m] },
          );
          const call = () =>
            (target as unknown as Record<string, (s: unknown) => unknown>)[op]!.call(target, src);
          expect(call).toThrow(WebrnnError);
          expect(call).toThrow(
            new RegExp(
              `^${op}: cannot write in place into an expanded tensor of shape \\[${n}, ${m}\\] \\(strides \\[0, [01]\\]\\)`,
            ),
          );
          // Nothing was written.
          expect(Array.from(base.dataSync())).toEqual(new Array(m).fill(0));
        },
      ),
      { numRuns: 20, seed: 7 },
    );
  });

  it('fill_ into an expanded tensor, and any write into an empty one, are allowed', () => {
    const base = zeros([1, 3]);
    base.expand([4, 3]).fill_(2);
    expect(Array.from(base.dataSync())).toEqual([2, 2, 2]);
    const empty = zeros([1, 0]).expand([4, 0]);
    expect(() => empty.add_(1)).not.toThrow();
  });
});
