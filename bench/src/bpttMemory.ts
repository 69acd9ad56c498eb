/**
 * BPTT memory against sequence length: the char-lstm model (embedding 64, two SeqLSTM(256) layers, batch 32)
 * trained on sequences of T = 25, 50, 100, 200 steps. For each T it reports the bytes the graph holds after the
 * forward (what backward will read), the bytes held between iterations (parameters, gradients, optimiser: they
 * must not grow) over three iterations, and the bytes per step, so that linear growth is visible at a glance.
 * Also the tutorial's form, Sequencer(FastLSTM).
 *
 *   node bench/dist/bpttMemory.js [cpu|webgpu]     prints a table; writes bench/results/bptt-memory.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, initWebGPU, memory, nn, tensor, tidy } from '@webrnn/rnn';
import { CHAR_LSTM, lcg } from './workloads.js';

type Device = 'cpu' | 'webgpu';
const LENGTHS = [25, 50, 100, 200];

const bytesOn = (device: Device) => (device === 'cpu' ? memory().bytes : (memory().webgpu?.liveBytes ?? 0));

function model(kind: 'SeqLSTM' | 'Sequencer(FastLSTM)', device: Device) {
  const { vocab, embed, hidden: H } = CHAR_LSTM;
  if (kind === 'SeqLSTM') {
    return new nn.Sequential()
      .add(new nn.LookupTable(vocab, embed))
      .add(new nn.SeqLSTM(embed, H))
      .add(new nn.SeqLSTM(H, H))
      .add(new nn.Sequencer(new nn.Linear(H, vocab)))
      .to(device);
  }
  return new nn.Sequencer(
    new nn.Sequential()
      .add(new nn.LookupTable(vocab, embed))
      .add(new nn.FastLSTM(embed, H))
      .add(new nn.FastLSTM(H, H))
      .add(new nn.Linear(H, vocab)),
  ).to(device);
}

interface Row {
  readonly model: string;
  readonly T: number;
  /** Bytes the forward's graph holds (activations saved for backward). */
  readonly graphBytes: number;
  readonly perStep: number;
  /** Bytes held between iterations, after each of three iterations. */
  readonly between: number[];
}

async function measure(kind: 'SeqLSTM' | 'Sequencer(FastLSTM)', device: Device, T: number): Promise<Row> {
  const m = model(kind, device);
  const crit = new nn.SequencerCriterion(new nn.CrossEntropyCriterion(), true);
  const rand = lcg(T);
  const { vocab, batch } = CHAR_LSTM;
  const ids = Int32Array.from({ length: (T + 1) * batch }, () => Math.floor(rand() * vocab));
  const all = tensor(ids, { shape: [T + 1, batch], device });
  const x = all.narrow(0, 0, T).contiguous();
  const y = all.narrow(0, 1, T).contiguous();
  let graphBytes = 0;
  const between: number[] = [];
  for (let it = 0; it < 3; it++) {
    const base = bytesOn(device);
    const loss = tidy(() => {
      m.zeroGradParameters();
      const out = m.forward(x) as Tensor;
      const l = crit.forward(out, y);
      graphBytes = bytesOn(device) - base;
      m.backward(x, crit.backward(out, y));
      m.updateParameters(0.1);
      return l;
    });
    await loss.item();
    loss.dispose();
    m.clearState();
    between.push(bytesOn(device));
  }
  m.dispose();
  for (const t of [all, x, y]) t.dispose();
  return { model: kind, T, graphBytes, perStep: graphBytes / T, between };
}

async function main() {
  const device = (process.argv[2] ?? 'cpu') as Device;
  if (device === 'webgpu' && !(await initWebGPU())) throw new Error('no WebGPU adapter');
  const rows: Row[] = [];
  for (const kind of ['SeqLSTM', 'Sequencer(FastLSTM)'] as const) {
    for (const T of LENGTHS) rows.push(await measure(kind, device, T));
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  console.log(
    `BPTT memory on ${device}: char-lstm model, batch ${CHAR_LSTM.batch}, hidden ${CHAR_LSTM.hidden}`,
  );
  console.log('| model | T | graph MiB | KiB per step | held between iterations (MiB, 3 iterations) |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const held = r.between.map(mib).join(', ');
    console.log(
      `| ${r.model} | ${r.T} | ${mib(r.graphBytes)} | ${(r.perStep / 1024).toFixed(1)} | ${held} |`,
    );
  }
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, `bptt-memory-${device}.json`), `${JSON.stringify(rows, null, 2)}\n`);
  if (device === 'webgpu') (await import('@webrnn/rnn')).getBackend('webgpu').destroy();
}

await main();
