import { describe, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, randint, randn, tensor } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * The attention modules on WebGPU against the same modules on the CPU (f32 both): outputs, gradInputs and every
 * parameter gradient after one forward/backward, masked (with an all-masked sequence) and unmasked, single-step
 * and multi-step, seq-first and batchfirst.
 */
const gpu = await webgpuForFile('attention');

type Build = (o: nn.AttentionOptions) => nn.Attention;

const BUILDS: readonly [string, Build][] = [
  ['AdditiveAttention', (o) => new nn.AdditiveAttention(5, 6, 7, o)],
  ['DotAttention dot', (o) => new nn.DotAttention(6, 6, 'dot', o)],
  ['DotAttention general', (o) => new nn.DotAttention(5, 6, 'general', o)],
  ['DotAttention concat', (o) => new nn.DotAttention(5, 6, 'concat', { ...o, hiddenSize: 4 })],
];

async function compare(build: Build, input: Activity, batchfirst: boolean) {
  const run = (device: 'cpu' | 'webgpu') => {
    manualSeed(5);
    const m = build({ batchfirst }).to(device);
    const x = (input as Tensor[]).map((t) => t.to(device));
    const out = m.forward(x) as Tensor[];
    manualSeed(6);
    const gos = out.map((o) => randn(o.shape).to(device));
    const gin = m.backward(x, gos) as Tensor[];
    return { out, gin, grads: m.parameters()[1] };
  };
  const a = run('cpu');
  const b = run('webgpu');
  await expectCloseToCpu('context', a.out[0]!, b.out[0]!);
  await expectCloseToCpu('weights', a.out[1]!, b.out[1]!);
  await expectCloseToCpu('gradInput query', a.gin[0]!, b.gin[0]!, 1e-3);
  await expectCloseToCpu('gradInput keys', a.gin[1]!, b.gin[1]!, 1e-3);
  if (a.gin[2]) await expectCloseToCpu('gradInput mask', a.gin[2], b.gin[2]!);
  for (let i = 0; i < a.grads.length; i++)
    await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
}

describe('attention on WebGPU equals the CPU', () => {
  for (const [name, build] of BUILDS) {
    const hq = build({}).querySize;
    it.skipIf(!gpu)(`${name}: multi-step, int32 mask with an all-masked sequence`, async () => {
      manualSeed(1);
      // T = 5, N = 3; sequence 2 is all padding.
      const mask = tensor(
        [
          [1, 1, 0],
          [1, 1, 0],
          [1, 0, 0],
          [0, 0, 0],
          [1, 1, 0],
        ],
        { dtype: 'int32' },
      );
      await compare(build, [randn([4, 3, hq]), randn([5, 3, 6]), mask], false);
    });

    it.skipIf(!gpu)(`${name}: single step, float mask, batchfirst`, async () => {
      manualSeed(2);
      const mask = randint(0, 2, [3, 5], { dtype: 'int32' }).cast('float32');
      await compare(build, [randn([3, hq]), randn([3, 5, 6]), mask], true);
    });

    it.skipIf(!gpu)(`${name}: multi-step batchfirst without a mask`, async () => {
      manualSeed(3);
      await compare(build, [randn([2, 4, hq]), randn([2, 7, 6])], true);
    });
  }
});
