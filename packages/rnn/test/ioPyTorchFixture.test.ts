import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Tensor, io, nn, tensor } from '@webrnn/rnn';

/**
 * A checkpoint written by PyTorch itself (scripts/golden/make_pytorch_checkpoint.py: torch 1.13's Embedding ->
 * LSTM with proj_size -> Linear, float64, its state_dict in safetensors layout) loads through `io.fromPyTorch` into
 * LookupTable -> SeqLSTM(LSTMP) -> Sequencer(Linear), and the model then gives the outputs PyTorch computed; and
 * `io.toPyTorch` gives the state_dict back in PyTorch's names and layouts.
 */
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const golden = JSON.parse(readFileSync(fixture('pytorch_lstm.json'), 'utf8')) as {
  sizes: { V: number; D: number; H: number; R: number; O: number; T: number; N: number };
  input: number[][];
  output: number[];
};
const MAP = { '0': 'embed', '1': 'lstm', '2.0.0': 'fc' };
const torchTensors = () =>
  io.decodeSafetensors(new Uint8Array(readFileSync(fixture('pytorch_lstm.safetensors')))).tensors;

function model() {
  const { V, D, H, R, O } = golden.sizes;
  return new nn.Sequential()
    .add(new nn.LookupTable(V, D))
    .add(new nn.SeqLSTM(D, H, R))
    .add(new nn.Sequencer(new nn.Linear(R, O)))
    .type('float64');
}

function expectPyTorchOutputs(m: nn.Module): void {
  const { T, N, O } = golden.sizes;
  const y = m.forward(tensor(golden.input, { dtype: 'int32' })) as Tensor;
  expect(y.shape).toEqual([T, N, O]);
  const got = Array.from(y.dataSync());
  expect(got.length).toBe(golden.output.length);
  for (let i = 0; i < got.length; i++) {
    expect(Math.abs(got[i]! - golden.output[i]!), `output[${i}]`).toBeLessThan(1e-12);
  }
}

describe('a PyTorch checkpoint', () => {
  it("loads into the matching modules, which give PyTorch's outputs", () => {
    const m = model();
    io.loadStateDict(m, io.fromPyTorch(torchTensors(), MAP));
    expectPyTorchOutputs(m);
    m.dispose();
  });

  it("exports back to PyTorch's names and layouts (the LSTM's two biases summed into bias_ih)", async () => {
    const original = torchTensors();
    const m = model();
    io.loadStateDict(m, io.fromPyTorch(original, MAP));
    const exported = await io.toPyTorch(m, MAP);
    const names = Object.keys(original).sort();
    expect(Object.keys(exported).sort()).toEqual(names);
    for (const name of names) {
      const [a, b] = [exported[name]!, original[name]!];
      expect(a.shape, name).toEqual(b.shape);
      if (!name.startsWith('lstm.bias')) expect(Array.from(a.data), name).toEqual(Array.from(b.data));
    }
    const biasSum = (d: typeof original, i: number) =>
      d['lstm.bias_ih_l0']!.data[i]! + d['lstm.bias_hh_l0']!.data[i]!;
    for (let i = 0; i < original['lstm.bias_ih_l0']!.data.length; i++) {
      expect(biasSum(exported, i)).toBeCloseTo(biasSum(original, i), 14);
    }
    // Through a file and back into a fresh model: PyTorch's outputs again.
    const bytes = io.encodeSafetensors(exported, { format: 'pt' });
    const again = model();
    io.loadStateDict(again, io.fromPyTorch(io.decodeSafetensors(bytes).tensors, MAP));
    expectPyTorchOutputs(again);
    await expect(io.toPyTorch(m, { '2': 'fc' })).rejects.toThrow(
      "toPyTorch: no PyTorch layout for nn.Sequencer at '2' (exported: LookupTable, Linear, SeqLSTM)",
    );
    await expect(io.toPyTorch(m, { '5': 'x' })).rejects.toThrow("toPyTorch: no module at '5'");
    for (const x of [m, again]) x.dispose();
  });
});
