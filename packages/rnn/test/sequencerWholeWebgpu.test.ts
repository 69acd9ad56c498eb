import { describe, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Sequencer(FastLSTM) and Sequencer(GRU) over a tensor run as one lstmSequence / gruSequence
 * (sequencerWhole.test.ts): on WebGPU they must equal the CPU, outputs, gradInput, the initial state's gradient
 * and every parameter gradient, at batch 1 and a larger one.
 */
const gpu = await webgpuForFile('rnn whole-sequence Sequencer');

const UNITS = {
  FastLSTM: (D: number, H: number) => new nn.FastLSTM(D, H),
  GRU: (D: number, H: number) => new nn.GRU(D, H),
};

describe('the whole-sequence Sequencer on WebGPU equals the CPU', () => {
  for (const [name, make, T, N, D, H] of [
    ['FastLSTM', UNITS.FastLSTM, 7, 1, 5, 8],
    ['FastLSTM', UNITS.FastLSTM, 4, 6, 3, 17],
    ['GRU', UNITS.GRU, 6, 1, 4, 9],
    ['GRU', UNITS.GRU, 3, 5, 6, 12],
  ] as const) {
    it.skipIf(!gpu)(`${name}: T ${T}, N ${N}, D ${D}, H ${H}`, async () => {
      manualSeed(4);
      const x = randn([T, N, D]);
      const gy = randn([T, N, H]);
      const run = (device: 'cpu' | 'webgpu') => {
        manualSeed(9);
        const lstm = make(D, H);
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
