import { describe, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * The bidirectional modules on WebGPU against the CPU (f32 both): one forward and backward with the same weights
 * and data, comparing the outputs, gradInputs and every parameter gradient.
 */
const gpu = await webgpuForFile('bidirectional');

const tensorsOf = (a: Activity): Tensor[] => (Array.isArray(a) ? a.flatMap(tensorsOf) : [a as Tensor]);
const onDevice = (a: Activity, device: 'cpu' | 'webgpu'): Activity =>
  Array.isArray(a) ? a.map((x) => onDevice(x, device)) : (a as Tensor).to(device);

async function compare(build: () => nn.Module, input: Activity) {
  manualSeed(3);
  const go = tensorsOf(build().forward(input)).map((o) => randn(o.shape));
  const unflat = (like: Activity, flat: Tensor[]): Activity => {
    let i = 0;
    const rec = (a: Activity): Activity => (Array.isArray(a) ? a.map(rec) : flat[i++]!);
    return rec(like);
  };
  const run = (device: 'cpu' | 'webgpu') => {
    manualSeed(5);
    const m = build().to(device);
    const x = onDevice(input, device);
    const out = m.forward(x);
    const gin = m.backward(
      x,
      unflat(
        out,
        go.map((g) => g.to(device)),
      ),
    );
    return { out: tensorsOf(out), gin: tensorsOf(gin), grads: m.parameters()[1] };
  };
  const a = run('cpu');
  const b = run('webgpu');
  for (let i = 0; i < a.out.length; i++) await expectCloseToCpu(`output ${i}`, a.out[i]!, b.out[i]!);
  for (let i = 0; i < a.gin.length; i++) await expectCloseToCpu(`gradInput ${i}`, a.gin[i]!, b.gin[i]!, 1e-3);
  for (let i = 0; i < a.grads.length; i++)
    await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
}

describe('bidirectional modules on WebGPU equal the CPU', () => {
  it.skipIf(!gpu)('BiSequencer(FastLSTM, GRU) on a tensor and on a table', async () => {
    manualSeed(1);
    const x = randn([4, 3, 5]);
    const build = () => new nn.BiSequencer(new nn.FastLSTM(5, 6), new nn.GRU(5, 4));
    await compare(build, x);
    await compare(build, [randn([3, 5]), randn([3, 5])]);
  });

  it.skipIf(!gpu)('BiSequencerLM(FastLSTM) and SeqReverseSequence', async () => {
    manualSeed(2);
    await compare(() => new nn.BiSequencerLM(new nn.FastLSTM(3, 4)), randn([5, 2, 3]));
    await compare(() => new nn.SeqReverseSequence(1), randn([2, 6, 3]));
  });

  it.skipIf(!gpu)('SeqBRNN (batchFirst), SeqBLSTM and SeqBGRU', async () => {
    manualSeed(3);
    await compare(() => new nn.SeqBRNN(3, 5, true), randn([2, 4, 3]));
    await compare(() => new nn.SeqBLSTM(3, 5, 2), randn([4, 2, 3]));
    await compare(() => new nn.SeqBGRU(3, 5), randn([4, 2, 3]));
  });
});
