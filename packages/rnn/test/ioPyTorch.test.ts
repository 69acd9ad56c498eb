import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, nn, tensor } from '@webrnn/rnn';
import {
  type HostTensor,
  decodeSafetensors,
  encodeSafetensors,
  fromPyTorch,
  loadStateDict,
} from '../src/io/index.js';

/**
 * A PyTorch state dict (nn.Embedding, nn.LSTM with or without proj_size, nn.Linear), in a file laid out as
 * Python's safetensors writes it, loads through `fromPyTorch` into LookupTable, SeqLSTM and Linear, and the
 * model then computes what PyTorch's equations give (a float64 reference written from PyTorch's nn.LSTM docs).
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-pt-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface Sizes {
  V: number;
  D: number;
  H: number;
  R: number | null;
  O: number;
  T: number;
  N: number;
}

const sizesArb: fc.Arbitrary<Sizes> = fc
  .record({
    V: fc.integer({ min: 2, max: 6 }),
    D: fc.integer({ min: 1, max: 4 }),
    H: fc.integer({ min: 2, max: 5 }),
    O: fc.integer({ min: 1, max: 3 }),
    T: fc.integer({ min: 1, max: 4 }),
    N: fc.integer({ min: 1, max: 3 }),
    proj: fc.boolean(),
  })
  .chain(({ proj, ...s }) =>
    (proj ? fc.integer({ min: 1, max: s.H - 1 }).map((r): number | null => r) : fc.constant(null)).map(
      (R) => ({ ...s, R }),
    ),
  );

function host(shape: number[], rand: () => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, rand) };
}

/** PyTorch's names and layouts for Embedding(V, D), LSTM(D, H, proj_size=R), Linear(R, O). */
function torchDict(s: Sizes, seed: number): Record<string, HostTensor> {
  let x = seed;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.fround((x / 2 ** 31) * 2 - 1);
  };
  const R = s.R ?? s.H;
  const d: Record<string, HostTensor> = {
    'embed.weight': host([s.V, s.D], rand),
    'lstm.weight_ih_l0': host([4 * s.H, s.D], rand),
    'lstm.weight_hh_l0': host([4 * s.H, R], rand),
    'lstm.bias_ih_l0': host([4 * s.H], rand),
    'lstm.bias_hh_l0': host([4 * s.H], rand),
    'fc.weight': host([s.O, R], rand),
    'fc.bias': host([s.O], rand),
  };
  if (s.R !== null) d['lstm.weight_hr_l0'] = host([s.R, s.H], rand);
  return d;
}

/** PyTorch's equations, in float64: embedding, LSTM (gates i, f, g, o; optional projection), Linear. */
function reference(d: Record<string, HostTensor>, s: Sizes, idx: number[][]): number[] {
  const R = s.R ?? s.H;
  const at = (name: string, ...i: number[]) => {
    const t = d[name]!;
    let k = 0;
    for (let j = 0; j < i.length; j++) k = k * t.shape[j]! + i[j]!;
    return t.data[k]!;
  };
  const out: number[] = [];
  for (let n = 0; n < s.N; n++) {
    let h = new Array<number>(R).fill(0);
    let c = new Array<number>(s.H).fill(0);
    const seq: number[][] = [];
    for (let t = 0; t < s.T; t++) {
      const x = Array.from({ length: s.D }, (_, k) => at('embed.weight', idx[t]![n]!, k));
      const gate = (g: number, j: number) => {
        const row = g * s.H + j;
        let v = at('lstm.bias_ih_l0', row) + at('lstm.bias_hh_l0', row);
        for (let k = 0; k < s.D; k++) v += at('lstm.weight_ih_l0', row, k) * x[k]!;
        for (let k = 0; k < R; k++) v += at('lstm.weight_hh_l0', row, k) * h[k]!;
        return v;
      };
      const c2 = c.map((cj, j) => sigmoid(gate(1, j)) * cj + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
      const hFull = c2.map((cj, j) => sigmoid(gate(3, j)) * Math.tanh(cj));
      h =
        s.R === null
          ? hFull
          : Array.from({ length: R }, (_, r) =>
              hFull.reduce((a, v, j) => a + at('lstm.weight_hr_l0', r, j) * v, 0),
            );
      c = c2;
      seq.push(h);
    }
    for (let t = 0; t < s.T; t++) {
      for (let o = 0; o < s.O; o++) {
        let v = at('fc.bias', o);
        for (let r = 0; r < R; r++) v += at('fc.weight', o, r) * seq[t]![r]!;
        out[(t * s.N + n) * s.O + o] = v;
      }
    }
  }
  return out;
}

function model(s: Sizes) {
  return new nn.Sequential()
    .add(new nn.LookupTable(s.V, s.D))
    .add(s.R === null ? new nn.SeqLSTM(s.D, s.H) : new nn.SeqLSTM(s.D, s.H, s.R))
    .add(new nn.Sequencer(new nn.Linear(s.R ?? s.H, s.O)));
}

describe('fromPyTorch', () => {
  it('loads Embedding, LSTM (with or without proj_size) and Linear so that the model computes as PyTorch', async () => {
    await fc.assert(
      fc.asyncProperty(sizesArb, fc.integer({ min: 1, max: 1e6 }), async (s, seed) => {
        const d = torchDict(s, seed);
        // The file as Python's safetensors.torch.save_file writes it (no checksums, `format: pt`).
        const path = join(dir, 'torch.safetensors');
        await writeFile(
          path,
          encodeSafetensors(d, { format: 'pt' }, 'encodeSafetensors', { checksums: false }),
        );
        const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)), path);
        const m = model(s);
        // A Sequencer holds its Linear in a Recursor: stateDict names it '2.0.0'.
        loadStateDict(m, fromPyTorch(tensors, { '0': 'embed', '1': 'lstm', '2.0.0': 'fc' }));
        const idx = Array.from({ length: s.T }, (_, t) =>
          Array.from({ length: s.N }, (_, n) => (t * 7 + n * 3 + seed) % s.V),
        );
        const y = m.forward(tensor(idx, { dtype: 'int32' })) as Tensor;
        expect(y.shape).toEqual([s.T, s.N, s.O]);
        const got = Array.from(y.dataSync());
        const want = reference(d, s, idx);
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(got[i]! - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)))) {
            expect.fail(`output[${i}]: webrnn ${got[i]}, PyTorch's equations ${want[i]}`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses tensors the mapping does not use, and missing or mis-shaped ones, by name', () => {
    const s: Sizes = { V: 3, D: 2, H: 3, R: null, O: 1, T: 1, N: 1 };
    const d = torchDict(s, 5);
    const map = { '0': 'embed', '1': 'lstm', '2.0': 'fc' };
    const bi = { ...d, 'lstm.weight_ih_l0_reverse': d['lstm.weight_ih_l0']! };
    expect(() => fromPyTorch(bi, map)).toThrow(
      "fromPyTorch: PyTorch tensor 'lstm.weight_ih_l0_reverse' is not used by the mapping",
    );
    const twoLayers = { ...d, 'lstm.weight_ih_l1': d['lstm.weight_hh_l0']! };
    expect(() => fromPyTorch(twoLayers, map)).toThrow("PyTorch tensor 'lstm.weight_ih_l1' is not used");
    expect(() => fromPyTorch(d, { ...map, '3': 'decoder' })).toThrow(
      "fromPyTorch: no PyTorch tensors 'decoder.weight' or 'decoder.weight_ih_l0' for webrnn module '3'",
    );
    const badHh = { ...d, 'lstm.weight_hh_l0': host([12, 2], () => 0) };
    expect(() => fromPyTorch(badHh, map)).toThrow(
      "fromPyTorch: PyTorch LSTM 'lstm.*_l0': weight_hh_l0 must be [12, 3], got [12, 2]",
    );
    // Names outside the mapped prefixes are ignored (e.g. a head not loaded).
    expect(Object.keys(fromPyTorch({ ...d, 'head.weight': d['fc.weight']! }, map))).toEqual([
      '0.weight',
      '1.weight',
      '1.bias',
      '2.0.weight',
      '2.0.bias',
    ]);
  });
});
