import { describe, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Sequencer(FastLSTM) over a tensor runs as one lstmSequence (sequencerWhole.test.ts): on WebGPU it must equal the
 * CPU, outputs, gradInput, the initial states' gradients and every parameter gradient, at batch 1 and a larger one.
 */
const gpu = await webgpuForFile('rnn whole-sequence Sequencer');

describe('Sequencer(FastLSTM) whole-sequence path on WebGPU equals the CPU', () => {
  for (const [T, N, D, H] of [
    [7, 1, 5, 8],
    [4, 6, 3, 17],
  ] as const) {
    it.skipIf(!gpu)(`T ${T}, N ${N}, D ${D}, H ${H}`, async () => {
      manualSeed(4);
      const x = randn([T, N, D]);
      const gy = randn([T, N, H]);
      const run = (device: 'cpu' | 'webgpu') => {
        manualSeed(9);
        const lstm = new nn.FastLSTM(D, H);
        const seq = new nn.Sequencer(lstm).to(device);
        const xd = x.to(device);
        const out = seq.forward(xd) as Tensor;
        const gIn = seq.backward(xd, gy.to(device)) as Tensor;
        return { out, gIn, grads: seq.parameters()[1], gPrev: lstm.gradPrevOutput! };
      };
      const a = run('cpu');
      const b = run('webgpu');
      await expectCloseToCpu('output', a.out, b.out);
      await expectCloseToCpu('gradInput', a.gIn, b.gIn, 1e-3);
      await expectCloseToCpu('gradPrevOutput', a.gPrev, b.gPrev, 1e-3);
      for (let i = 0; i < a.grads.length; i++)
        await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
    });
  }
});
