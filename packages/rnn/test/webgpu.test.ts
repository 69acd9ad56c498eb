import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn, tensor, tidy } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * The rnn modules on WebGPU against the same modules on the CPU: one training step of each model, outputs,
 * gradInputs and every parameter gradient. Skipped with one line without an adapter (failing instead when
 * WEBRNN_REQUIRE_WEBGPU=1). f32 on both sides; tolerances as in core's WebGPU tests, a little wider because
 * errors compound over the steps of a sequence.
 */
const gpu = await webgpuForFile('rnn');

/** Build the same model twice (same seed), run one forward/backward on each device, compare everything. */
async function compare(
  build: () => InstanceType<typeof nn.Module>,
  crit: () => InstanceType<typeof nn.Criterion>,
  x: Tensor,
  y: Tensor,
) {
  const run = (device: 'cpu' | 'webgpu') => {
    manualSeed(5);
    const m = build().to(device);
    const c = crit();
    const xd = x.to(device);
    const yd = y.to(device);
    const out = m.forward(xd) as Tensor;
    const loss = c.forward(out, yd);
    const gin = m.backward(xd, c.backward(out, yd));
    return { out, loss, gin, grads: m.parameters()[1] };
  };
  const a = run('cpu');
  const b = run('webgpu');
  await expectCloseToCpu('output', a.out, b.out);
  await expectCloseToCpu('loss', a.loss, b.loss);
  if (x.dtype !== 'int32') await expectCloseToCpu('gradInput', a.gin as Tensor, b.gin as Tensor, 1e-3);
  for (let i = 0; i < a.grads.length; i++)
    await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
}

describe('rnn modules on WebGPU equal the CPU', () => {
  it.skipIf(!gpu)('Sequencer(FastLSTM) regression, as the cos example', async () => {
    manualSeed(1);
    await compare(
      () =>
        new nn.Sequential()
          .add(new nn.Sequencer(new nn.Sequential().add(new nn.Linear(1, 16)).add(new nn.FastLSTM(16, 16))))
          .add(new nn.Select(0, -1))
          .add(new nn.Linear(16, 1))
          .add(new nn.HardTanh()),
      () => new nn.MSECriterion(),
      randn([5, 4, 1]),
      randn([4, 1]),
    );
  });

  it.skipIf(!gpu)(
    'LookupTable + GRU + LSTM language model with SequencerCriterion(ClassNLLCriterion)',
    async () => {
      const x = tensor(
        [
          [1, 2, 3],
          [4, 5, 0],
          [2, 2, 9],
        ],
        { dtype: 'int32' },
      );
      const y = tensor(
        [
          [2, 3, 4],
          [5, 0, 1],
          [2, 9, 9],
        ],
        { dtype: 'int32' },
      );
      await compare(
        () =>
          new nn.Sequencer(
            new nn.Sequential()
              .add(new nn.LookupTable(10, 8))
              .add(new nn.GRU(8, 8))
              .add(new nn.LSTM(8, 8))
              .add(new nn.Linear(8, 10))
              .add(new nn.LogSoftMax()),
          ),
        () => new nn.SequencerCriterion(new nn.ClassNLLCriterion()),
        x,
        y,
      );
    },
  );

  it.skipIf(!gpu)('SeqLSTM (masked, with a projection) and SeqGRU stacked, MSE over every step', async () => {
    manualSeed(3);
    const x = randn([6, 3, 4]);
    // Two padded steps, masked by their zero rows.
    x.narrow(0, 4, 2).narrow(1, 2, 1).zero_();
    await compare(
      () =>
        new nn.Sequential()
          .add(new nn.SeqLSTM(4, 8, 6).maskZero())
          .add(new nn.SeqGRU(6, 5))
          .add(new nn.SeqLSTM(5, 7)),
      () => new nn.MSECriterion(),
      x,
      randn([6, 3, 7]),
    );
  });

  it.skipIf(!gpu)(
    'VariableLength over LookupTableMaskZero, SeqGRU (PyTorch form), SeqLSTM and MaskZero(Linear)',
    async () => {
      // Index sequences of lengths 4, 2 and 3 (tokens 1..9; 0 is LookupTableMaskZero's padding).
      const seqs = [
        [3, 1, 4, 1],
        [5, 9],
        [2, 6, 5],
      ];
      const run = (device: 'cpu' | 'webgpu') => {
        manualSeed(9);
        const m = new nn.VariableLength(
          new nn.Sequential()
            .add(new nn.LookupTableMaskZero(9, 5))
            .add(new nn.SeqGRU(5, 6, { resetAfter: true }))
            .add(new nn.SeqLSTM(6, 4))
            .add(new nn.MaskZero(new nn.Linear(4, 3), 1)),
          true,
        ).to(device);
        const x = seqs.map((q) => tensor(q, { dtype: 'int32', device }));
        const out = m.forward(x) as Tensor;
        manualSeed(10);
        m.backward(x, randn(out.shape).to(device));
        return { out, grads: m.parameters()[1] };
      };
      const a = run('cpu');
      const b = run('webgpu');
      await expectCloseToCpu('output', a.out, b.out);
      for (let i = 0; i < a.grads.length; i++)
        await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
    },
  );

  it.skipIf(!gpu)('trains on WebGPU: the tutorial model on the GPU learns', async () => {
    manualSeed(2);
    const r = new nn.Recurrent(7, new nn.LookupTable(10, 7), new nn.Linear(7, 7), new nn.Sigmoid(), 5);
    const rnn = new nn.Sequencer(
      new nn.Sequential().add(r).add(new nn.Linear(7, 10)).add(new nn.LogSoftMax()),
    ).to('webgpu');
    const crit = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    const x = tensor([[1], [2], [3], [4]], { dtype: 'int32', device: 'webgpu' });
    const y = tensor([[2], [3], [4], [5]], { dtype: 'int32', device: 'webgpu' });
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const l = tidy(() => {
        const out = rnn.forward(x);
        const loss = crit.forward(out, y);
        rnn.zeroGradParameters();
        rnn.backward(x, crit.backward(out, y));
        rnn.updateParameters(0.5);
        return loss;
      });
      losses.push(await l.item());
      l.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
  });
});
