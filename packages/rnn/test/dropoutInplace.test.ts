import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randn, tidy } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * nn.Dropout's `inplace` (Torch's 3rd argument): the input is overwritten with the output, which otherwise equals
 * the out-of-place Dropout's for the same seed (training, lazy, v1 evaluation), gradients included; an op that
 * saved the overwritten tensor refuses its backward (PyTorch's rule, where Torch would use the dropped values).
 */
const gpu = await webgpuForFile('nn.Dropout inplace');

const values = (t: Tensor) => Array.from(t.dataSync());
const pArb = fc.constantFrom(0.25, 0.5, 0.9);

/** The same Dropout run twice from one seed, out of place then in place: outputs, gradInputs, and the input after. */
function both(p: number, v1: boolean, lazy: boolean, train: boolean, shape: number[]) {
  const x0 = randn(shape);
  const go = randn(shape);
  const run = (inplace: boolean) => {
    manualSeed(5);
    const d = new nn.Dropout(p, v1, inplace, lazy);
    if (!train) d.evaluate();
    const x = x0.clone();
    const y = d.forward(x) as Tensor;
    const g = d.backward(x, go) as Tensor;
    const out = { y: values(y), g: values(g), x: values(x) };
    d.dispose();
    return out;
  };
  return { before: values(x0), plain: run(false), inplace: run(true) };
}

describe('nn.Dropout(p, v1, inplace)', () => {
  it('gives the out-of-place outputs and gradients, and leaves the output in the input', () => {
    fc.assert(
      fc.property(
        pArb,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        (p, v1, lazy, train, shape) => {
          const before = memory().tensors;
          tidy(() => {
            const r = both(p, v1, lazy, train, shape);
            expect(r.inplace.y).toEqual(r.plain.y);
            expect(r.inplace.g).toEqual(r.plain.g);
            expect(r.plain.x).toEqual(r.before); // out of place: the input is untouched
            expect(r.inplace.x).toEqual(r.inplace.y); // in place: it holds the output
          });
          expect(memory().tensors).toBe(before);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a lazy in-place mask is shared by the steps of a sequence, as out of place', () => {
    const steps = (inplace: boolean) => {
      manualSeed(9);
      const d = new nn.Dropout(0.5, false, inplace, true);
      const xs = [randn([3, 4]), randn([3, 4])];
      return xs.map((x) => values(d.forward(x.clone()) as Tensor));
    };
    expect(steps(true)).toEqual(steps(false));
  });

  it('Linear -> Dropout(inplace) -> Linear trains as out of place; after Tanh (which saved it) backward is refused', () => {
    const grads = (inplace: boolean) => {
      manualSeed(3);
      const m = new nn.Sequential()
        .add(new nn.Linear(3, 5))
        .add(new nn.Dropout(0.5, false, inplace))
        .add(new nn.Linear(5, 2));
      const x = randn([4, 3]);
      m.forward(x);
      const gi = values(m.backward(x, randn([4, 2])) as Tensor);
      return [gi, ...m.parameters()[1].map(values)];
    };
    expect(grads(true)).toEqual(grads(false));
    const t = new nn.Sequential().add(new nn.Tanh()).add(new nn.Dropout(0.5, false, true));
    const x = randn([2, 3]);
    t.forward(x);
    expect(() => t.backward(x, randn([2, 3]))).toThrow(
      /saved by 'tanh' was modified in place after it was used/,
    );
  });

  it.skipIf(!gpu)('WebGPU: in place equals the CPU for the same mask', async () => {
    const cpu = new nn.Dropout(0.5, true, true);
    const g = new nn.Dropout(0.5, true, true);
    cpu.evaluate();
    g.evaluate(); // v1 evaluation: a deterministic in-place scaling
    const x = randn([3, 4]);
    const xg = x.to('webgpu');
    const xc = x.clone();
    await expectCloseToCpu('output', cpu.forward(xc) as Tensor, g.forward(xg) as Tensor, 0);
    await expectCloseToCpu('input after', xc, xg, 0);
    expect(values(xc)).toEqual(values(x).map((v) => Math.fround(v * 0.5)));
  });
});
