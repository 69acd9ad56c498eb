import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Tensor, io, nn, tensor } from '@webrnn/rnn';

/**
 * A checkpoint written by PyTorch itself (scripts/golden/make_pytorch_checkpoint.py: torch 1.13's Embedding ->
 * LSTM with proj_size -> Linear, float64, its state_dict in safetensors layout) loads through `io.fromPyTorch` into
 * LookupTable -> SeqLSTM(LSTMP) -> Sequencer(Linear), and the model then gives the outputs PyTorch computed.
 */
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const golden = JSON.parse(readFileSync(fixture('pytorch_lstm.json'), 'utf8')) as {
  sizes: { V: number; D: number; H: number; R: number; O: number; T: number; N: number };
  input: number[][];
  output: number[];
};

describe('a PyTorch checkpoint', () => {
  it("loads into the matching modules, which give PyTorch's outputs", () => {
    const { V, D, H, R, O, T, N } = golden.sizes;
    const { tensors } = io.decodeSafetensors(
      new Uint8Array(readFileSync(fixture('pytorch_lstm.safetensors'))),
    );
    const m = new nn.Sequential()
      .add(new nn.LookupTable(V, D))
      .add(new nn.SeqLSTM(D, H, R))
      .add(new nn.Sequencer(new nn.Linear(R, O)))
      .type('float64');
    io.loadStateDict(m, io.fromPyTorch(tensors, { '0': 'embed', '1': 'lstm', '2.0.0': 'fc' }));
    const y = m.forward(tensor(golden.input, { dtype: 'int32' })) as Tensor;
    expect(y.shape).toEqual([T, N, O]);
    const got = Array.from(y.dataSync());
    expect(got.length).toBe(golden.output.length);
    for (let i = 0; i < got.length; i++) {
      expect(Math.abs(got[i]! - golden.output[i]!), `output[${i}]`).toBeLessThan(1e-12);
    }
    m.dispose();
  });
});
