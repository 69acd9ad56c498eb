import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, io, memory, nn, randn, tensor, tidy } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * dpnn's nn.Constant: the value whatever the input, repeated over the batch when the input has more than
 * `nInputDim` dimensions; zero gradInput; the value is a buffer (saved, converted, moved); bad input refused.
 */
const gpu = await webgpuForFile('nn.Constant');

const values = (t: Tensor) => Array.from(t.dataSync());

describe('nn.Constant', () => {
  it('outputs the value, or one copy per row of a batch (input rank > nInputDim); gradInput is zeros', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
        fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        (shape, vshape, nInputDim) => {
          const before = memory().tensors;
          tidy(() => {
            const v = randn(vshape);
            const m = new nn.Constant(v, nInputDim);
            const x = randn(shape);
            const y = m.forward(x);
            const batched = nInputDim !== undefined && shape.length > nInputDim;
            // The reference: the value's numbers, written out once per row by hand.
            const rows = batched ? shape[0]! : 1;
            expect(y.shape).toEqual(batched ? [rows, ...vshape] : vshape);
            expect(values(y)).toEqual(Array.from({ length: rows }, () => values(v)).flat());
            const g = m.backward(x, randn(y.shape));
            expect(g.shape).toEqual(shape);
            expect(values(g).every((e) => e === 0)).toBe(true);
            v.fill_(7); // the module holds its own copy
            expect(values(m.forward(x)).includes(7)).toBe(false);
            m.dispose();
          });
          expect(memory().tensors).toBe(before);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a number is a tensor [1] (Torch's torch.Tensor{v}); any input dtype, int32 indices too", () => {
    const m = new nn.Constant(2.5, 1);
    const idx = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: 'int32' },
    );
    expect(m.forward(idx).shape).toEqual([3, 1]);
    expect(values(m.forward(idx))).toEqual([2.5, 2.5, 2.5]);
    expect(values(new nn.Constant(-1).forward(idx))).toEqual([-1]);
    expect(m.describe()).toBe('nn.Constant(1, 1)');
  });

  it("appends a constant in a ConcatTable (dpnn's use) without touching the other branch's gradient", () => {
    const m = new nn.ConcatTable().add(new nn.Constant(tensor([1, 2]), 1)).add(new nn.Identity());
    const x = randn([4, 3]);
    const [c, y] = m.forward(x) as Tensor[];
    expect(c!.shape).toEqual([4, 2]);
    expect(values(y!)).toEqual(values(x));
    const gy = randn([4, 3]);
    expect(values(m.backward(x, [randn([4, 2]), gy]) as Tensor)).toEqual(values(gy));
  });

  it('the value is a buffer: in the state dict, saved and loaded, converted by type()', async () => {
    const a = new nn.Sequential().add(new nn.Constant(randn([2, 2]), 1));
    expect(io.namedBuffers(a).map(([n]) => n)).toEqual(['0.value']);
    const b = new nn.Sequential().add(new nn.Constant(randn([2, 2]), 1));
    io.loadModuleFromSafetensors(await io.moduleToSafetensors(a), b);
    const x = randn([3, 5]);
    expect(values(b.forward(x) as Tensor)).toEqual(values(a.forward(x) as Tensor));
    b.double();
    expect((b.forward(x) as Tensor).dtype).toBe('float64');
    expect(() => io.loadStateDict(b, { '0.value': randn([3]) })).toThrow(
      "shape mismatch: '0.value' is [3] there, [2, 2] in the module",
    );
  });

  it('refuses a bad value or nInputDim, a table input, and an input on another device', () => {
    expect(() => new nn.Constant('1' as unknown as number)).toThrow(
      'nn.Constant: value must be a number or a live tensor, got 1',
    );
    const dead = randn([2]);
    dead.dispose();
    expect(() => new nn.Constant(dead)).toThrow('value must be a number or a live tensor');
    expect(() => new nn.Constant(1, -1)).toThrow('nInputDim must be a non-negative integer, got -1');
    expect(() => new nn.Constant(1, 1.5)).toThrow('nInputDim must be a non-negative integer, got 1.5');
    expect(() => new nn.Constant(1).forward([randn([2])] as unknown as Tensor)).toThrow(
      /nn\.Constant\(1\): input: expected a tensor, got a table/,
    );
  });

  it.skipIf(!gpu)(
    'WebGPU: to() moves the value; outputs equal the CPU; a CPU module refuses a GPU input',
    async () => {
      const cpu = new nn.Constant(randn([3]), 1);
      const x = randn([2, 4]);
      const g = cpu.clone().to('webgpu');
      expect(g.value.device).toBe('webgpu');
      const xg = x.to('webgpu');
      await expectCloseToCpu('output', cpu.forward(x), g.forward(xg), 0);
      const gi = g.backward(xg, randn([2, 3]).to('webgpu'));
      await expectCloseToCpu('gradInput', cpu.backward(x, randn([2, 3])), gi, 0);
      expect(() => cpu.forward(xg)).toThrow(
        "input: is on webgpu, the constant on cpu (move the module with .to('webgpu'))",
      );
    },
  );
});
