import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randint, randn, tensor, tidy } from '@webrnn/rnn';
import { jacobian } from './helpers/jacobian.js';
import { arr, expectClose, f64, gradValues } from './recurrentHelpers.js';
import { rnnStep } from './helpers/modules.js';

/**
 * nn.VariableLength and the bucketing helpers: a batch of sequences of different lengths gives what each sequence
 * gives alone (outputs, gradients with respect to the inputs and the parameters), with every sequence module that
 * takes a zero mask; bucketing puts results back in order.
 */

type Module = InstanceType<typeof nn.Module>;

const TOL = 1e-9;

/** Sequence modules taking [T, N, D] and giving [T, N, H]. */
const SEQUENCE_MODULES: readonly [string, (D: number, H: number) => Module][] = [
  ['Sequencer(FastLSTM)', (D, H) => new nn.Sequencer(new nn.FastLSTM(D, H))],
  ['Sequencer(GRU)', (D, H) => new nn.Sequencer(new nn.GRU(D, H))],
  [
    'Sequencer(Sequential(Linear, LSTM, Linear))',
    (D, H) =>
      new nn.Sequencer(
        new nn.Sequential().add(new nn.Linear(D, 3)).add(new nn.LSTM(3, 2)).add(new nn.Linear(2, H)),
      ),
  ],
  ['Sequencer(Recurrence)', (D, H) => new nn.Sequencer(new nn.Recurrence(rnnStep(D, H), H, 1))],
  ['SeqLSTM', (D, H) => new nn.SeqLSTM(D, H)],
  ['SeqGRU', (D, H) => new nn.SeqGRU(D, H)],
];

const batches = fc.record({
  lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
  D: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

/** The same as `vl` on each sequence alone (as [Ti, 1, D] through the decorated module). */
function eachAlone(m: Module, seqs: Tensor[], gys: Tensor[], lastOnly: boolean) {
  m.zeroGradParameters();
  const ys: number[][] = [];
  const gxs: number[][] = [];
  seqs.forEach((x, i) => {
    const T = x.shape[0]!;
    const x3 = x.unsqueeze(1);
    const y = m.forward(x3) as Tensor;
    const H = y.shape[2]!;
    ys.push(lastOnly ? arr(y).slice((T - 1) * H) : arr(y));
    let g = gys[i]!.reshape([lastOnly ? 1 : T, 1, H]);
    if (lastOnly && T > 1)
      g = tensor([...new Array((T - 1) * H).fill(0), ...arr(g)], { shape: [T, 1, H], dtype: 'float64' });
    gxs.push(arr(m.backward(x3, g) as Tensor));
  });
  return { ys, gxs, grads: gradValues(m) };
}

describe('nn.VariableLength', () => {
  for (const [name, build] of SEQUENCE_MODULES) {
    for (const lastOnly of [false, true]) {
      it(`${name}${lastOnly ? ', lastOnly' : ''}: equals running each sequence alone (outputs and gradients)`, () => {
        fc.assert(
          fc.property(batches, ({ lengths, D, H, seed }) => {
            tidy(() => {
              manualSeed(seed);
              const inner = build(D, H).double();
              const vl = new nn.VariableLength(inner, lastOnly);
              const seqs = lengths.map((T) => randn([T, D], f64));
              const gys = lengths.map((T) => randn(lastOnly ? [H] : [T, H], f64));
              vl.zeroGradParameters();
              const out = vl.forward(seqs);
              const gOut = lastOnly
                ? tensor(
                    gys.map((g) => arr(g)),
                    { dtype: 'float64' },
                  )
                : gys;
              const gin = vl.backward(seqs, gOut) as Tensor[];
              const got = {
                ys: lastOnly ? [arr(out as Tensor)] : (out as Tensor[]).map(arr),
                gxs: gin.map(arr),
                grads: gradValues(vl),
              };
              if (lastOnly) expect((out as Tensor).shape).toEqual([lengths.length, H]);
              else expect((out as Tensor[]).map((y) => y.shape)).toEqual(lengths.map((T) => [T, H]));
              const ref = eachAlone(inner, seqs, gys, lastOnly);
              expectClose(got.ys, lastOnly ? [ref.ys.flat()] : ref.ys, TOL, 'outputs');
              expectClose(got.gxs, ref.gxs, TOL, 'gradInput');
              expectClose(got.grads, ref.grads, TOL, 'parameter gradients');
            });
          }),
          { numRuns: 6 },
        );
      });
    }
  }

  it('pads with zeros, masks the padding (zero outputs there) and clears the mask after forward', () => {
    manualSeed(2);
    const lstm = new nn.FastLSTM(2, 3).double();
    const seq = new nn.Sequencer(lstm);
    const spy = new nn.Sequential().add(seq);
    const vl = new nn.VariableLength(spy);
    vl.forward([randn([1, 2], f64), randn([3, 2], f64)]);
    const padded = arr(seq.output as Tensor);
    // Column 0 is padding at steps 1 and 2: its outputs there are zero.
    expect([...padded.slice(6, 9), ...padded.slice(12, 15)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(padded.slice(9, 12).some((v) => v !== 0)).toBe(true);
    // The mask is gone: the module runs unmasked (and for any length) on its own afterwards.
    expect(() => seq.forward(randn([5, 2, 2], f64))).not.toThrow();
  });

  it('takes int32 index sequences (LookupTableMaskZero, tokens from 1)', () => {
    manualSeed(3);
    const model = new nn.Sequencer(
      new nn.Sequential().add(new nn.LookupTableMaskZero(6, 3)).add(new nn.GRU(3, 2)),
    ).double();
    const vl = new nn.VariableLength(model, true);
    const seqs = [randint(1, 7, [4]), randint(1, 7, [2]), randint(1, 7, [1])];
    const out = arr(vl.forward(seqs) as Tensor);
    seqs.forEach((s, i) => {
      const alone = arr(model.forward(s.unsqueeze(1)) as Tensor);
      expectClose([out.slice(i * 2, i * 2 + 2)], [alone.slice(-2)], TOL, `sequence ${i}`);
    });
    jacobian(vl, seqs, 4);
  });

  it('Jacobian (float64) with respect to every sequence and the parameters', () => {
    fc.assert(
      fc.property(batches, ({ lengths, D, H, seed }) => {
        manualSeed(seed);
        const vl = new nn.VariableLength(new nn.Sequencer(new nn.FastLSTM(D, H)).double(), seed % 2 === 0);
        jacobian(
          vl,
          lengths.map((T) => randn([T, D], f64)),
          seed,
        );
      }),
      { numRuns: 5 },
    );
  });

  it('holds memory flat over training steps, and gives the same outputs in evaluation mode', () => {
    manualSeed(5);
    const vl = new nn.VariableLength(new nn.Sequencer(new nn.FastLSTM(2, 3).maskZero(1)), true);
    const seqs = [randn([3, 2]), randn([1, 2]), randn([2, 2])];
    const step = () =>
      tidy(() => {
        const y = vl.forward(seqs) as Tensor;
        vl.backward(seqs, y);
        return arr(y);
      });
    const trained = step();
    step();
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) step();
    expect(memory().tensors).toBe(before);
    vl.evaluate();
    expectClose([tidy(() => arr(vl.forward(seqs) as Tensor))], [trained], 1e-6, 'evaluation');
  });

  it('bad input names the module and the shapes', () => {
    const vl = new nn.VariableLength(new nn.Sequencer(new nn.FastLSTM(2, 3)));
    expect(() => vl.forward([randn([2, 2]), randn([3, 4])])).toThrow(
      /nn\.VariableLength.*sequence 1.*\[3, 4\].*\[T >= 1, 2\]/,
    );
    expect(() => vl.forward(randn([2, 2]))).toThrow(/nn\.VariableLength.*expected a table/);
    const wrong = new nn.VariableLength(new nn.Sequential().add(new nn.Select(0, -1)));
    expect(() => wrong.forward([randn([2, 2]), randn([3, 2])])).toThrow(
      /nn\.VariableLength.*output.*\[2, 2\].*\[Tmax, N, \.\.\.\] = \[3, 2, \.\.\.\]/,
    );
  });
});

describe('bucketing by length', () => {
  it('sorts, groups, pads (left or right) and restores the order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('left' as const, 'right' as const),
        (lengths, batchSize, side) => {
          tidy(() => {
            const seqs = lengths.map((T, i) =>
              tensor(
                Array.from({ length: T * 2 }, (_, k) => 100 * (i + 1) + k),
                { shape: [T, 2] },
              ),
            );
            const { batches, order } = nn.bucketByLength(seqs, batchSize, { side });
            expect([...order].sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
            expect(batches.flatMap((b) => b.indices)).toEqual(order);
            const sorted = order.map((i) => lengths[i]!);
            expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
            const perSequence: number[][] = [];
            for (const b of batches) {
              expect(b.indices.length).toBeLessThanOrEqual(batchSize);
              const [Tm, N] = b.input.shape as [number, number];
              expect(Tm).toBe(Math.max(...b.lengths));
              const x = arr(b.input);
              const m = arr(b.zeroMask);
              for (let n = 0; n < N; n++) {
                const T = b.lengths[n]!;
                const first = side === 'right' ? 0 : Tm - T;
                const rows: number[] = [];
                for (let t = 0; t < Tm; t++) {
                  const real = t >= first && t < first + T;
                  expect(m[t * N + n]).toBe(real ? 0 : 1);
                  const row = x.slice((t * N + n) * 2, (t * N + n) * 2 + 2);
                  if (real) rows.push(...row);
                  else expect(row).toEqual([0, 0]);
                }
                perSequence.push(rows);
              }
            }
            const restored = nn.restoreOrder(perSequence, order);
            restored.forEach((rows, i) => expect(rows).toEqual(arr(seqs[i]!)));
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects what it cannot pad or restore', () => {
    expect(() => nn.padSequences([])).toThrow(/padSequences.*at least one/);
    expect(() => nn.padSequences([randn([2, 3]), randn([2, 3], f64)])).toThrow(
      /sequence 1.*\[2, 3\] float64.*float32/,
    );
    expect(() => nn.bucketByLength([randn([2, 3])], 0)).toThrow(
      /batchSize must be a positive integer, got 0/,
    );
    expect(() => nn.restoreOrder([1, 2], [0, 0])).toThrow(/not a permutation/);
    expect(() => nn.restoreOrder([1], [0, 1])).toThrow(/1 results for 2 sequences/);
  });
});
