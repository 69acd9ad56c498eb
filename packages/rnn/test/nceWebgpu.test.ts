import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn, tensor, tidy } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * NCEModule + NCECriterion on WebGPU against the CPU (float32 both): the same seed gives the same noise (drawn on
 * the host) and the same weights, so the outputs, the loss and every gradient must agree, in training (batch and
 * row noise, Z estimated) and in normalized evaluation; a target out of range is refused by the next read.
 */
const gpu = await webgpuForFile('NCEModule');

interface Run {
  outs: Tensor[];
  loss: Tensor;
  gradInput: Tensor;
  grads: Tensor[];
  z: number | null;
  eval: Tensor;
  m: nn.NCEModule;
}

async function run(device: 'cpu' | 'webgpu', batchnoise: boolean): Promise<Run> {
  manualSeed(21);
  const m = new nn.NCEModule(
    6,
    40,
    7,
    Array.from({ length: 40 }, (_, i) => 1 + (i % 9)),
  ).to(device);
  m.batchnoise = batchnoise;
  const x = randn([5, 6]).to(device);
  const t = tensor([0, 39, 17, 17, 3], { dtype: 'int32', device });
  const crit = new nn.NCECriterion();
  const outs = m.forward([x, t]) as Tensor[];
  const loss = crit.forward(outs, t);
  const gradInput = (m.backward([x, t], crit.backward(outs, t)) as Tensor[])[0]!;
  const z = await m.normalizationConstant();
  m.evaluate();
  m.normalized = true;
  m.logsoftmax = true;
  const evalOut = m.forward([x, t]) as Tensor;
  return { outs, loss, gradInput, grads: m.parameters()[1], z, eval: evalOut, m };
}

describe('nn.NCEModule on WebGPU', () => {
  for (const batchnoise of [true, false]) {
    it.skipIf(!gpu)(
      `agrees with the CPU: outputs, loss and gradients (batchnoise ${batchnoise})`,
      async () => {
        const cpu = await run('cpu', batchnoise);
        const webgpu = await run('webgpu', batchnoise);
        try {
          expect(Array.from(webgpu.m.lastNoise!)).toEqual(Array.from(cpu.m.lastNoise!));
          expect(Math.abs(webgpu.z! - cpu.z!) / cpu.z!).toBeLessThan(1e-5);
          for (const [i, o] of cpu.outs.entries()) await expectCloseToCpu(`output[${i}]`, o, webgpu.outs[i]!);
          await expectCloseToCpu('loss', cpu.loss, webgpu.loss);
          await expectCloseToCpu('gradInput', cpu.gradInput, webgpu.gradInput);
          await expectCloseToCpu('gradWeight', cpu.grads[0]!, webgpu.grads[0]!);
          await expectCloseToCpu('gradBias', cpu.grads[1]!, webgpu.grads[1]!);
          await expectCloseToCpu('normalized log-softmax', cpu.eval, webgpu.eval);
        } finally {
          cpu.m.dispose();
          webgpu.m.dispose();
        }
      },
    );
  }

  it.skipIf(!gpu)("follows a container's to(): its unigram probabilities move with the weights", async () => {
    manualSeed(22);
    using net = new nn.Sequential().add(new nn.NCEModule(3, 4, 2, [1, 2, 3, 4]));
    const forward = (device: 'cpu' | 'webgpu') =>
      tidy(() => {
        manualSeed(23); // the same input and noise on both devices
        const x = randn([2, 3]).to(device);
        return net.forward([x, tensor([1, 3], { dtype: 'int32', device })]) as Tensor[];
      });
    const cpu = forward('cpu');
    net.to('webgpu');
    const webgpu = forward('webgpu');
    for (const [i, o] of cpu.entries()) await expectCloseToCpu(`output[${i}]`, o, webgpu[i]!);
    for (const o of [...cpu, ...webgpu]) o.dispose();
  });

  it.skipIf(!gpu)('refuses a target out of range when the output is read', async () => {
    using m = new nn.NCEModule(3, 4, 2, [1, 1, 1, 1]).to('webgpu');
    const out = tidy(() =>
      m.forward([randn([2, 3]).to('webgpu'), tensor([1, 4], { dtype: 'int32', device: 'webgpu' })]),
    ) as Tensor[];
    await expect(out[0]!.data()).rejects.toThrow(/target.*4.*outputSize 4/);
    for (const o of out) o.dispose();
  });
});
