/**
 * webrnn running the benchmark's workloads, written the way the Torch tutorial writes them: nn modules (the
 * tutorial's Sequencer(FastLSTM) for seed-cos and small-latency, SeqLSTM layers for the language model), a
 * criterion, backward, updateParameters; one tidy per iteration.
 */
import * as webrnn from '@webrnn/rnn';
import { type Tensor, memory, nn, tensor, tidy } from '@webrnn/rnn';
import {
  CHAR_GEN,
  argmax,
  CHAR_LSTM,
  type Measurement,
  SEED_COS,
  SMALL_LATENCY,
  lcg,
  timeIt,
} from '../workloads.js';

type Device = 'cpu' | 'webgpu';

function train(
  model: InstanceType<typeof nn.Module>,
  crit: InstanceType<typeof nn.Criterion>,
  x: Tensor,
  y: Tensor,
  lr: number,
) {
  return async () => {
    const loss = tidy(() => {
      model.zeroGradParameters();
      const out = model.forward(x);
      const l = crit.forward(out, y);
      model.backward(x, crit.backward(out, y));
      model.updateParameters(lr);
      return l;
    });
    await loss.item();
    loss.dispose();
  };
}

function seedCos(device: Device) {
  const { input, hidden: H, rho, batch, lr } = SEED_COS;
  const model = new nn.Sequential()
    .add(new nn.Sequencer(new nn.Sequential().add(new nn.Linear(input, H)).add(new nn.FastLSTM(H, H))))
    .add(new nn.Select(0, -1))
    .add(new nn.Linear(H, 1))
    .add(new nn.HardTanh())
    .to(device);
  const xs = Float32Array.from({ length: rho * batch }, (_, i) =>
    Math.cos((Math.floor(i % batch) * 25 + Math.floor(i / batch)) * 0.1),
  );
  const x = tensor(xs, { shape: [rho, batch, 1], device });
  const y = tensor(
    Float32Array.from({ length: batch }, (_, b) => Math.cos((b * 25 + rho) * 0.1)),
    { shape: [batch, 1], device },
  );
  return train(model, new nn.MSECriterion(), x, y, lr);
}

/** The language model as a user wanting speed writes it: whole-sequence SeqLSTM layers (Element-research's). */
function charModel(device: Device) {
  const { vocab, embed, hidden: H } = CHAR_LSTM;
  return new nn.Sequential()
    .add(new nn.LookupTable(vocab, embed))
    .add(new nn.SeqLSTM(embed, H))
    .add(new nn.SeqLSTM(H, H))
    .add(new nn.Sequencer(new nn.Linear(H, vocab)))
    .to(device);
}

function charData(device: Device) {
  const { vocab, seq, batch } = CHAR_LSTM;
  const rand = lcg(2);
  const ids = Int32Array.from({ length: (seq + 1) * batch }, () => Math.floor(rand() * vocab));
  const all = tensor(ids, { shape: [seq + 1, batch], device });
  return { x: all.narrow(0, 0, seq).contiguous(), y: all.narrow(0, 1, seq).contiguous() };
}

function charTrain(device: Device) {
  const { x, y } = charData(device);
  return train(
    charModel(device),
    new nn.SequencerCriterion(new nn.CrossEntropyCriterion(), true),
    x,
    y,
    CHAR_LSTM.lr,
  );
}

function charInfer(device: Device) {
  const model = charModel(device).evaluate();
  const { x } = charData(device);
  return async () => {
    const out = tidy(() => model.forward(x) as Tensor);
    await out.data();
    out.dispose();
  };
}

/**
 * Generation at batch 1: the same model evaluating one token at a time, its SeqLSTM layers remembering their state
 * between calls (Element-research's `remember('both')`), the next token the argmax of the logits read back.
 */
function charGen(device: Device) {
  const model = charModel(device).evaluate();
  for (const m of model.modules) if (m instanceof nn.SeqLSTM) m.remember('both');
  return async () => {
    model.forget();
    let token = 0;
    for (let t = 0; t < CHAR_GEN.tokens; t++) {
      const x = tensor(Int32Array.of(token), { shape: [1, 1], device });
      const out = tidy(() => model.forward(x) as Tensor);
      token = argmax(await out.data());
      out.dispose();
      x.dispose();
    }
  };
}

function smallLatency(device: Device) {
  const { input, hidden: H, batch, steps } = SMALL_LATENCY;
  const model = new nn.Sequential()
    .add(new nn.Sequencer(new nn.FastLSTM(input, H)))
    .add(new nn.Select(0, -1))
    .to(device);
  const rand = lcg(3);
  const x = tensor(
    Float32Array.from({ length: steps * batch * input }, () => rand() * 2 - 1),
    { shape: [steps, batch, input], device },
  );
  const g = webrnn.ones([batch, H], { device });
  return async () => {
    const probe = tidy(() => {
      model.zeroGradParameters();
      model.forward(x);
      model.backward(x, g);
      return model.parameters()[1][0]!.sum();
    });
    await probe.item();
    probe.dispose();
  };
}

function matmul(device: Device, n: number) {
  const a = webrnn.rand([n, n], { device });
  const b = webrnn.rand([n, n], { device });
  return async () => {
    const c = a.matmul(b);
    await c.data();
    c.dispose();
  };
}

export async function runOurs(device: Device, workloads: readonly string[]): Promise<Measurement[]> {
  if (device === 'webgpu') {
    const init = (webrnn as { initWebGPU?: () => Promise<unknown> }).initWebGPU;
    if (!init || !(await init())) throw new Error('no WebGPU adapter');
  }
  const peer = `ours-${device}`;
  const out: Measurement[] = [];
  const mem = () => ({ rssBytes: process.memoryUsage().rss, gpuBytes: memory().webgpu?.liveBytes });
  for (const w of workloads) {
    if (w === 'seed-cos') {
      const s = await timeIt(seedCos(device), { minSeconds: 5 });
      out.push({ peer, workload: w, value: 1 / s, unit: 'it/s', higherIsBetter: true, ...mem() });
    } else if (w === 'char-lstm-train') {
      const s = await timeIt(charTrain(device), { minRuns: 2, minSeconds: 5 });
      out.push({
        peer,
        workload: w,
        value: (CHAR_LSTM.seq * CHAR_LSTM.batch) / s,
        unit: 'tokens/s',
        higherIsBetter: true,
        ...mem(),
      });
    } else if (w === 'char-lstm-infer') {
      const s = await timeIt(charInfer(device), { minSeconds: 3 });
      out.push({
        peer,
        workload: w,
        value: (CHAR_LSTM.seq * CHAR_LSTM.batch) / s,
        unit: 'tokens/s',
        higherIsBetter: true,
        ...mem(),
      });
    } else if (w === 'char-lstm-gen') {
      const s = await timeIt(charGen(device), { minSeconds: 3 });
      out.push({
        peer,
        workload: w,
        value: CHAR_GEN.tokens / s,
        unit: 'tokens/s',
        higherIsBetter: true,
        ...mem(),
      });
    } else if (w === 'small-latency') {
      const s = await timeIt(smallLatency(device), { minSeconds: 3 });
      out.push({ peer, workload: w, value: 1000 * s, unit: 'ms/seq', higherIsBetter: false, ...mem() });
    } else if (w.startsWith('matmul-')) {
      const n = Number(w.slice(7));
      const s = await timeIt(matmul(device, n), { warmup: 2, minSeconds: 2 });
      out.push({
        peer,
        workload: w as `matmul-${number}`,
        value: (2 * n ** 3) / s / 1e9,
        unit: 'GFLOP/s',
        higherIsBetter: true,
      });
    }
  }
  return out;
}
