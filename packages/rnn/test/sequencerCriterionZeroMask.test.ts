/**
 * SequencerCriterion.setZeroMask (torch/rnn's AbstractSequencerCriterion:setZeroMask): step t's decorated
 * MaskZeroCriterion gets row t of a [T, N] mask. Checked against the zero-row masking of the same criterion (the
 * padded rows of the input are zeros, as MaskZero modules make them) and against the sum over steps of the plain
 * criterion on the kept rows alone, with random masks; and on WebGPU (where only an explicit CPU mask works)
 * against the CPU.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, indexSelect, manualSeed, nn, randn, tensor, zeros } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

const [T, N, C] = [4, 3, 5];

/** Log-probabilities [N, C] per step, with the masked rows zeroed; class targets per step; the mask [T, N]. */
function batch(bits: boolean[], dtype: 'float64' | 'float32' = 'float64') {
  const inputs: Tensor[] = [];
  const targets: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const keep = tensor(
      Array.from({ length: N }, (_, n) => (bits[t * N + n] ? 0 : 1)),
      { dtype, shape: [N, 1] },
    );
    inputs.push(randn([N, C], { dtype }).logSoftmax(-1).mul(keep));
    targets.push(
      tensor(
        Int32Array.from({ length: N }, (_, n) => (t + 2 * n) % C),
        { dtype: 'int32' },
      ),
    );
  }
  const mask = tensor(bits.map(Number), { shape: [T, N], dtype: 'int32' });
  return { inputs, targets, mask };
}

const masks = fc.array(fc.boolean(), { minLength: T * N, maxLength: T * N });

describe('SequencerCriterion.setZeroMask', () => {
  it('equals zero-row masking and the sum of the plain criterion over each step’s kept rows', () => {
    fc.assert(
      fc.property(masks, fc.integer({ min: 0, max: 1000 }), (bits, seed) => {
        manualSeed(seed);
        const { inputs, targets, mask } = batch(bits);
        const byRows = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
        const byMask = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
        byMask.setZeroMask(mask);
        const a = byRows.forward(inputs, targets).itemSync();
        const b = byMask.forward(inputs, targets).itemSync();
        let want = 0;
        const plain = new nn.ClassNLLCriterion();
        for (let t = 0; t < T; t++) {
          const kept = Array.from({ length: N }, (_, n) => n).filter((n) => !bits[t * N + n]);
          if (kept.length === 0) continue;
          const idx = tensor(Int32Array.from(kept), { dtype: 'int32' });
          want += plain.forward(indexSelect(inputs[t]!, 0, idx), indexSelect(targets[t]!, 0, idx)).itemSync();
        }
        expect(b).toBeCloseTo(want, 12);
        expect(a).toBeCloseTo(want, 12);
        const ga = byRows.backward(inputs, targets) as Tensor[];
        const gb = byMask.backward(inputs, targets) as Tensor[];
        gb.forEach((g, t) => {
          const v = Array.from(g.dataSync());
          expect(v).toEqual(Array.from(ga[t]!.dataSync()));
          for (let n = 0; n < N; n++) {
            if (bits[t * N + n]) expect(v.slice(n * C, (n + 1) * C).every((x) => x === 0)).toBe(true);
          }
        });
      }),
      { numRuns: 30 },
    );
  });

  it('a mask masks rows that are not zero; null restores zero-row masking', () => {
    manualSeed(1);
    const bits = Array.from({ length: T * N }, (_, i) => i % 4 === 1);
    const { inputs, targets, mask } = batch(Array(T * N).fill(false)); // no zero rows in the input
    const c = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
    const unmasked = c.forward(inputs, targets).itemSync();
    c.setZeroMask(tensor(bits.map(Number), { shape: [T, N], dtype: 'int32' }));
    const masked = c.forward(inputs, targets).itemSync();
    expect(masked).not.toBeCloseTo(unmasked, 6);
    c.setZeroMask(null);
    expect(c.forward(inputs, targets).itemSync()).toBe(unmasked);
    c.setZeroMask(mask); // all zeros: nothing masked
    expect(c.forward(inputs, targets).itemSync()).toBeCloseTo(unmasked, 12);
  });

  it('bad masks and criteria without a mask are refused with what was expected', () => {
    const { inputs, targets } = batch(Array(T * N).fill(false));
    const c = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion()));
    expect(() => c.setZeroMask(zeros([N]))).toThrow(
      'nn.SequencerCriterion.setZeroMask: zeroMask has shape [3], expected [T, N] (steps, batch)',
    );
    c.setZeroMask(zeros([T + 1, N]));
    expect(() => c.forward(inputs, targets)).toThrow(
      'zeroMask: has shape [5, 3] (5 steps), but the input has 4 steps',
    );
    expect(() => new nn.SequencerCriterion(new nn.ClassNLLCriterion()).setZeroMask(zeros([T, N]))).toThrow(
      'nn.SequencerCriterion.setZeroMask: the decorated nn.ClassNLLCriterion takes no mask; decorate a MaskZeroCriterion',
    );
  });
});

const gpu = await webgpuForFile('sequencerCriterionZeroMask');

describe('SequencerCriterion.setZeroMask on WebGPU', () => {
  it.skipIf(!gpu)('with a CPU mask, loss and gradients equal the CPU', async () => {
    manualSeed(3);
    const bits = Array.from({ length: T * N }, (_, i) => i % 3 === 0);
    const { inputs, targets, mask } = batch(bits, 'float32');
    const run = (device: 'cpu' | 'webgpu') => {
      const c = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
      c.setZeroMask(mask); // stays on the CPU: MaskZeroCriterion reads it on the host
      const xs = inputs.map((x) => x.to(device));
      const ys = targets.map((y) => y.to(device));
      return { loss: c.forward(xs, ys), grads: c.backward(xs, ys) as Tensor[] };
    };
    const a = run('cpu');
    const b = run('webgpu');
    await expectCloseToCpu('loss', a.loss, b.loss);
    for (let t = 0; t < T; t++) await expectCloseToCpu(`grad ${t}`, a.grads[t]!, b.grads[t]!);
  });
});
