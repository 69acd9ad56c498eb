import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, noGrad, randn } from '@webrnn/rnn';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * A diverged model reports NaN on every device: one NaN weight behind ReLU, HardTanh, Tanh or Sigmoid (or inside a
 * FastLSTM) makes the loss NaN on WebGPU as on the CPU, where WGSL's max/clamp/tanh used to turn the NaN into a
 * finite activation and the loss stayed finite. The NaN outputs fall at the same positions on both devices.
 */
const gpu = await webgpuForFile('diverged model');

const ACTIVATIONS: [string, () => InstanceType<typeof nn.Module>][] = [
  ['ReLU', () => new nn.ReLU()],
  ['HardTanh', () => new nn.HardTanh()],
  ['Tanh', () => new nn.Tanh()],
  ['Sigmoid', () => new nn.Sigmoid()],
];

/** Outputs, loss and the first layer's weight gradient of `build()` with weight [0] set to NaN, on `device`. */
async function diverged(
  build: () => InstanceType<typeof nn.Module>,
  x: Tensor,
  y: Tensor,
  device: 'cpu' | 'webgpu',
) {
  manualSeed(3);
  const m = build().to(device);
  const [params, grads] = m.parameters();
  noGrad(() => params[0]!.narrow(0, 0, 1).fill_(Number.NaN));
  const c = new nn.MSECriterion();
  const xd = x.to(device);
  const yd = y.to(device);
  const out = m.forward(xd) as Tensor;
  const loss = c.forward(out, yd);
  m.backward(xd, c.backward(out, yd));
  return {
    out: Array.from(await out.data()).map(Number.isNaN),
    loss: (await loss.data())[0]!,
    grad: Array.from(await grads[0]!.data()).some(Number.isNaN),
  };
}

describe('a NaN weight gives a NaN loss on WebGPU as on the CPU', () => {
  for (const [name, act] of ACTIVATIONS) {
    it.skipIf(!gpu)(`Linear -> ${name} -> Linear`, async () => {
      manualSeed(1);
      const x = randn([5, 3]);
      const y = randn([5, 2]);
      const build = () => new nn.Sequential().add(new nn.Linear(3, 4)).add(act()).add(new nn.Linear(4, 2));
      const cpu = await diverged(build, x, y, 'cpu');
      const webgpu = await diverged(build, x, y, 'webgpu');
      expect(cpu.loss).toBeNaN();
      expect(webgpu.loss).toBeNaN();
      expect(webgpu.out).toEqual(cpu.out);
      expect(webgpu.grad).toBe(cpu.grad);
    });
  }

  it.skipIf(!gpu)('Sequencer(FastLSTM)', async () => {
    manualSeed(2);
    const x = randn([4, 3, 2]);
    const y = randn([4, 3, 5]);
    const build = () => new nn.Sequencer(new nn.FastLSTM(2, 5));
    const cpu = await diverged(build, x, y, 'cpu');
    const webgpu = await diverged(build, x, y, 'webgpu');
    expect(cpu.loss).toBeNaN();
    expect(webgpu.loss).toBeNaN();
    expect(webgpu.out).toEqual(cpu.out);
  });
});
