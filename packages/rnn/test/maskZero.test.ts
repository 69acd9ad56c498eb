import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, noGrad, randn, select, tensor, tidy, zeros } from '@webrnn/rnn';
import { jacobian, jacobianCriterion } from './helpers/jacobian.js';
import { arr, copyParams, expectClose, f64, gradValues } from './recurrentHelpers.js';
import { rnnStep } from './helpers/modules.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Masking of padded steps (Element-research/rnn's MaskZero, LookupTableMaskZero, MaskZeroCriterion, and the
 * maskZero / setZeroMask of every AbstractRecurrent): masked rows give zero outputs and zero gradients, a masked
 * step of a recurrent module resets the sample's state exactly as forget() would, and a masked criterion equals
 * the criterion on the kept rows. Float64 on the CPU; one WebGPU comparison at the end.
 */

type Recurrent = InstanceType<typeof nn.AbstractRecurrent>;

const TOL = 1e-9;

/** Every AbstractRecurrent subclass with a state of its own. */
const CELLS: readonly [string, (D: number, H: number) => Recurrent][] = [
  ['FastLSTM', (D, H) => new nn.FastLSTM(D, H)],
  ['LSTM', (D, H) => new nn.LSTM(D, H)],
  ['GRU', (D, H) => new nn.GRU(D, H)],
  ['Recurrent', (D, H) => new nn.Recurrent(H, new nn.Linear(D, H), new nn.Linear(H, H), new nn.Tanh())],
  ['Recurrence', (D, H) => new nn.Recurrence(rnnStep(D, H), H, 1)],
];

/** A batch of sequences with masked steps: masked[t][n] true where step t of sample n is padding. */
const maskedBatch = fc.record({
  T: fc.integer({ min: 1, max: 5 }),
  N: fc.integer({ min: 1, max: 3 }),
  D: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 3 }),
  bits: fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

function maskOf(T: number, N: number, bits: boolean[]): boolean[][] {
  return Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, n) => bits[(t * N + n) % 15]!));
}

/** Input [T, N, D] whose masked rows are zero (`zeroRows`) or random like the others. */
function inputFor(masked: boolean[][], D: number, zeroRows: boolean): Tensor {
  const T = masked.length;
  const N = masked[0]!.length;
  const x = randn([T, N, D], f64);
  const data = Float64Array.from(x.dataSync());
  x.dispose();
  masked.forEach((row, t) =>
    row.forEach((m, n) => {
      if (m && zeroRows) data.fill(0, (t * N + n) * D, (t * N + n + 1) * D);
    }),
  );
  return tensor(data, { shape: [T, N, D], dtype: 'float64' });
}

const zeroMaskOf = (masked: boolean[][]) =>
  tensor(
    masked.map((r) => r.map((m) => (m ? 1 : 0))),
    { dtype: 'int32' },
  );

/** The runs of unmasked steps of sample n: [start, end) pairs. */
function segments(masked: boolean[][], n: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  masked.forEach((row, t) => {
    if (!row[n] && start < 0) start = t;
    if (row[n] && start >= 0) {
      out.push([start, t]);
      start = -1;
    }
  });
  if (start >= 0) out.push([start, masked.length]);
  return out;
}

/** Values of x[t0..t1, n] as a [t1 - t0, 1, ...] tensor. */
const piece = (x: Tensor, n: number, t0: number, t1: number) =>
  noGrad(() =>
    select(x, 1, n)
      .narrow(0, t0, t1 - t0)
      .unsqueeze(1)
      .contiguous(),
  );

describe('maskZero / setZeroMask on every AbstractRecurrent', () => {
  for (const [name, build] of CELLS) {
    for (const how of ['maskZero', 'setZeroMask'] as const) {
      it(`${name} (${how}): masked steps are zero and reset the state, exactly as forget(); gradients too`, () => {
        fc.assert(
          fc.property(maskedBatch, ({ T, N, D, H, bits, seed }) => {
            tidy(() => {
              manualSeed(seed);
              const masked = maskOf(T, N, bits);
              const cell = build(D, H).double();
              const seq = new nn.Sequencer(cell);
              const x = inputFor(masked, D, how === 'maskZero');
              if (how === 'maskZero') cell.maskZero(1);
              else cell.setZeroMask(zeroMaskOf(masked));
              const g = randn([T, N, H], f64);
              seq.zeroGradParameters();
              const y = seq.forward(x) as Tensor;
              const gx = seq.backward(x, g) as Tensor;
              const ys = arr(y);
              const gxs = arr(gx);
              const grads = gradValues(seq);

              // Reference: each run of real steps of each sample alone, from a fresh state (forget()).
              if (how === 'setZeroMask') cell.setZeroMask(null);
              cell.maskzero = false;
              seq.zeroGradParameters();
              const refY = new Array<number>(T * N * H).fill(0);
              const refGx = new Array<number>(T * N * D).fill(0);
              for (let n = 0; n < N; n++) {
                for (const [t0, t1] of segments(masked, n)) {
                  const xs = piece(x, n, t0, t1);
                  // Recurrent's first step after forget() goes through `start`; after a masked step the state is
                  // zeros and goes through `feedback`, as with Torch's MaskZero: the reference starts from zeros.
                  // (userState: the Sequencer forgets before its forward, which clears setHiddenState's state.)
                  if (name === 'Recurrent') cell.userState = t0 > 0 ? zeros([1, H], f64) : null;
                  const ya = arr(seq.forward(xs) as Tensor);
                  const ga = arr(seq.backward(xs, piece(g, n, t0, t1)) as Tensor);
                  for (let t = t0; t < t1; t++) {
                    for (let h = 0; h < H; h++) refY[(t * N + n) * H + h] = ya[(t - t0) * H + h]!;
                    for (let d = 0; d < D; d++) refGx[(t * N + n) * D + d] = ga[(t - t0) * D + d]!;
                  }
                }
              }
              expectClose([ys], [refY], TOL, 'outputs (zero at masked steps)');
              expectClose([gxs], [refGx], TOL, 'gradInput (zero at masked steps)');
              expectClose(grads, gradValues(seq), TOL, 'parameter gradients');
            });
          }),
          { numRuns: 8 },
        );
      });
    }
  }

  it('the same real steps give the same outputs whatever the left padding (state reset by the padding)', () => {
    manualSeed(3);
    const lstm = new nn.FastLSTM(2, 3).double().maskZero(1);
    const seq = new nn.Sequencer(lstm);
    const real = randn([4, 1, 2], f64);
    const alone = arr(seq.forward(real) as Tensor);
    for (const pad of [1, 2, 5]) {
      const padded = noGrad(() =>
        tensor([...new Array(pad * 2).fill(0), ...arr(real)], { shape: [pad + 4, 1, 2], dtype: 'float64' }),
      );
      const out = arr(seq.forward(padded) as Tensor);
      expect(out.slice(0, pad * 3).every((v) => v === 0)).toBe(true);
      expectClose([out.slice(pad * 3)], [alone], TOL, `padding ${pad}`);
    }
  });

  it('a zero mask row of the explicit mask overrides a non-zero input; setZeroMask(null) turns it off', () => {
    manualSeed(4);
    const gru = new nn.GRU(2, 2).double();
    const seq = new nn.Sequencer(gru);
    const x = randn([3, 2, 2], f64);
    const plain = arr(seq.forward(x) as Tensor);
    gru.setZeroMask(
      tensor(
        [
          [0, 0],
          [1, 0],
          [0, 0],
        ],
        { dtype: 'int32' },
      ),
    );
    const masked = arr(seq.forward(x) as Tensor);
    expect(masked.slice(4, 6)).toEqual([0, 0]);
    expect(masked.slice(0, 4)).toEqual(plain.slice(0, 4));
    expect(masked.slice(6, 8)).toEqual(plain.slice(6, 8)); // sample 1 is never masked
    expect(masked.slice(8, 10)).not.toEqual(plain.slice(8, 10)); // sample 0 restarts from zeros
    gru.setZeroMask(null);
    expect(arr(seq.forward(x) as Tensor)).toEqual(plain);
  });

  it('Jacobian (float64) of Sequencer(FastLSTM) and Sequencer(GRU) with an explicit mask', () => {
    fc.assert(
      fc.property(maskedBatch, ({ T, N, D, H, bits, seed }) => {
        manualSeed(seed);
        const masked = maskOf(T, N, bits);
        for (const cell of [new nn.FastLSTM(D, H), new nn.GRU(D, H)]) {
          cell.double().setZeroMask(zeroMaskOf(masked));
          jacobian(new nn.Sequencer(cell), randn([T, N, D], f64), seed);
        }
      }),
      { numRuns: 6 },
    );
  });
});

describe('nn.MaskZero', () => {
  it('zero input rows give zero output rows and zero gradInput; the other rows are the module’s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (N, D, K, bits) => {
          tidy(() => {
            const zero = bits.slice(0, N);
            const lin = new nn.Linear(D, K).double();
            const ref = new nn.Linear(D, K).double();
            copyParams(lin, ref);
            const mz = new nn.MaskZero(lin, 1);
            const x = inputFor([zero], D, true).reshape([N, D]);
            const g = randn([N, K], f64);
            mz.zeroGradParameters();
            const y = arr(mz.forward(x) as Tensor);
            const gx = arr(mz.backward(x, g) as Tensor);
            const yRef = arr(ref.forward(x) as Tensor);
            const gKept = noGrad(() =>
              g.mul(
                tensor(
                  zero.map((z) => [z ? 0 : 1]),
                  { dtype: 'float64' },
                ),
              ),
            );
            ref.zeroGradParameters();
            ref.backward(x, gKept);
            zero.forEach((z, n) => {
              for (let k = 0; k < K; k++) expect(y[n * K + k]).toBe(z ? 0 : yRef[n * K + k]);
              if (z) for (let d = 0; d < D; d++) expect(gx[n * D + d]).toBe(0);
            });
            expectClose(gradValues(mz), gradValues(ref), TOL, 'parameter gradients = kept rows only');
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('takes the explicit zeroMask form over [T, N, ...] (Jacobian float64)', () => {
    manualSeed(6);
    const mz = new nn.MaskZero(new nn.Linear(3, 2).double());
    mz.setZeroMask(
      tensor(
        [
          [0, 1],
          [1, 0],
          [0, 0],
        ],
        { dtype: 'int32' },
      ),
    );
    const x = randn([3, 2, 3], f64);
    const y = arr(mz.forward(x) as Tensor);
    expect(y.slice(2, 6)).toEqual([0, 0, 0, 0]);
    expect(y.slice(0, 2).some((v) => v !== 0)).toBe(true);
    jacobian(mz, x, 1);
  });
});

describe('nn.LookupTableMaskZero', () => {
  it('index 0 is a zero vector with no gradient; tokens 1..nIndex are the rows 1..nIndex', () => {
    manualSeed(7);
    const lt = new nn.LookupTableMaskZero(4, 3).double();
    expect(lt.weight.shape).toEqual([5, 3]);
    expect(arr(lt.weight).slice(0, 3)).toEqual([0, 0, 0]);
    // A non-zero padding row (e.g. loaded weights) still gives zeros.
    noGrad(() => lt.weight.select(0, 0).fill_(5));
    const idx = tensor(
      [
        [0, 2],
        [4, 0],
      ],
      { dtype: 'int32' },
    );
    const y = arr(lt.forward(idx) as Tensor);
    const w = arr(lt.weight);
    expect(y).toEqual([0, 0, 0, ...w.slice(6, 9), ...w.slice(12, 15), 0, 0, 0]);
    lt.zeroGradParameters();
    lt.backward(idx, randn([2, 2, 3], f64));
    const gw = arr(lt.gradWeight);
    expect(gw.slice(0, 3)).toEqual([0, 0, 0]);
    expect(gw.slice(6, 9).every((v) => v !== 0)).toBe(true);
    jacobian(lt, idx, 2);
  });

  it('names the bad index and the valid range', () => {
    const lt = new nn.LookupTableMaskZero(4, 3);
    expect(() => lt.forward(tensor([1, 5], { dtype: 'int32' }))).toThrow(
      'nn.LookupTableMaskZero(4, 3): input: index 5 at position [1] is out of range for padding 0 and tokens 1..4 (expected 0 <= index < 5)',
    );
    expect(() => lt.forward(tensor([-1], { dtype: 'int32' }))).toThrow(/index -1 at position \[0\]/);
    expect(() => lt.forward(tensor([1.0]))).toThrow(/float32.*expected int32/);
  });
});

describe('nn.MaskZeroCriterion', () => {
  const crits = [
    ['ClassNLLCriterion', () => new nn.ClassNLLCriterion()],
    ['MSECriterion', () => new nn.MSECriterion()],
  ] as const;
  for (const [name, make] of crits) {
    it(`${name}: equals the criterion on the kept rows, zero gradient on masked rows, 0 when all are masked`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          (N, C, bits) => {
            tidy(() => {
              const zero = bits.slice(0, N);
              const x = inputFor([zero], C, true).reshape([N, C]);
              const target =
                name === 'ClassNLLCriterion'
                  ? tensor(
                      zero.map((_, n) => n % C),
                      { dtype: 'int32' },
                    )
                  : randn([N, C], f64);
              const mzc = new nn.MaskZeroCriterion(make(), 1);
              const loss = mzc.forward(x, target).itemSync();
              const gx = arr(mzc.backward(x, target) as Tensor);
              const kept = zero.flatMap((z, n) => (z ? [] : [n]));
              expect(Number.isNaN(loss)).toBe(false);
              if (kept.length === 0) {
                expect(loss).toBe(0);
                expect(gx.every((v) => v === 0)).toBe(true);
                return;
              }
              const idx = tensor(kept, { dtype: 'int32' });
              const xk = x.indexSelect(0, idx);
              const tk = target.indexSelect(0, idx);
              const ref = make();
              expectClose([[loss]], [[ref.forward(xk, tk).itemSync()]], TOL, 'loss');
              const gk = arr(ref.backward(xk, tk) as Tensor);
              kept.forEach((n, j) => {
                for (let c = 0; c < C; c++)
                  expect(Math.abs(gx[n * C + c]! - gk[j * C + c]!)).toBeLessThan(1e-12);
              });
              zero.forEach((z, n) => {
                if (z) for (let c = 0; c < C; c++) expect(gx[n * C + c]).toBe(0);
              });
            });
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it('an explicit [T, N] mask flattens the rows; Jacobian float64', () => {
    manualSeed(8);
    const x = randn([3, 2, 4], f64).logSoftmax(-1);
    const target = tensor(
      [
        [0, 3],
        [1, 2],
        [2, 2],
      ],
      { dtype: 'int32' },
    );
    const zm = tensor(
      [
        [0, 1],
        [0, 0],
        [1, 1],
      ],
      { dtype: 'int32' },
    );
    const mzc = new nn.MaskZeroCriterion(new nn.ClassNLLCriterion()).setZeroMask(zm);
    const loss = mzc.forward(x, target).itemSync();
    const idx = tensor([0, 2, 3], { dtype: 'int32' });
    const ref = new nn.ClassNLLCriterion().forward(
      x.reshape([6, 4]).indexSelect(0, idx),
      target.reshape([6]).indexSelect(0, idx),
    );
    expectClose([[loss]], [[ref.itemSync()]], TOL, 'loss');
    jacobianCriterion(
      mzc,
      noGrad(() => x.clone()),
      target,
    );
    mzc.setZeroMask(
      tensor(
        [
          [1, 1],
          [1, 1],
          [1, 1],
        ],
        { dtype: 'int32' },
      ),
    );
    expect(mzc.forward(x, target).itemSync()).toBe(0);
    expect(arr(mzc.backward(x, target) as Tensor).every((v) => v === 0)).toBe(true);
  });
});

describe('bad input names the module and the shapes', () => {
  it('a mask whose batch differs from the input', () => {
    const lstm = new nn.FastLSTM(3, 4);
    lstm.setZeroMask(tensor([[0, 0, 0]], { dtype: 'int32' }));
    expect(() => lstm.forward(randn([2, 3]))).toThrow(
      /nn\.FastLSTM\(3 -> 4\).*zeroMask.*\[1, 3\].*\[2, 3\].*batch size 3/,
    );
  });

  it('a mask shorter than the sequence', () => {
    const gru = new nn.GRU(3, 4);
    gru.setZeroMask(tensor([[0, 0]], { dtype: 'int32' }));
    expect(() => new nn.Sequencer(gru).forward(randn([2, 2, 3]))).toThrow(
      /step 1.*nn\.GRU\(3 -> 4.*zeroMask.*\[1, 2\].*1 steps.*step 2/,
    );
  });

  it('a mask that is not [T, N]', () => {
    expect(() => new nn.FastLSTM(3, 4).setZeroMask(tensor([0, 1]))).toThrow(
      /nn\.FastLSTM\(3 -> 4\).*setZeroMask.*\[2\].*expected \[T, N\]/,
    );
  });

  it('a wrong nInputDim', () => {
    const lstm = new nn.FastLSTM(3, 4).maskZero(1);
    expect(() => lstm.forward(randn([2, 2, 3]))).toThrow(
      /nn\.FastLSTM\(3 -> 4\).*input.*\[2, 2, 3\].*nInputDim is 1/,
    );
    expect(() => new nn.FastLSTM(3, 4).maskZero(-1)).toThrow(/nn\.FastLSTM\(3 -> 4\)\.maskZero.*-1/);
    expect(() => new nn.MaskZero(new nn.Linear(3, 2), 2).forward(randn([3]))).toThrow(
      /nn\.MaskZero.*input.*\[3\].*nInputDim is 2/,
    );
    expect(() => new nn.MaskZero(new nn.Linear(3, 2)).forward(randn([3]))).toThrow(
      /nn\.MaskZero.*nInputDim.*setZeroMask/,
    );
  });

  it('MaskZero and MaskZeroCriterion with a mask of the wrong shape', () => {
    const mz = new nn.MaskZero(new nn.Linear(3, 2)).setZeroMask(tensor([0, 1, 0]));
    expect(() => mz.forward(randn([2, 3]))).toThrow(/nn\.MaskZero.*input.*\[2, 3\].*\[3\]/);
    const mzc = new nn.MaskZeroCriterion(new nn.MSECriterion()).setZeroMask(tensor([0, 1, 0]));
    expect(() => mzc.forward(randn([2, 3]), randn([2, 3]))).toThrow(
      /nn\.MaskZeroCriterion.*zeroMask.*\[3\].*\[2, 3\]/,
    );
  });
});

// ---- WebGPU ---------------------------------------------------------------------------------------------------

const gpu = await webgpuForFile('maskZero');

describe('masking on WebGPU equals the CPU', () => {
  it.skipIf(!gpu)(
    'Sequencer(FastLSTM) with maskZero and an explicit mask, MaskZeroCriterion with a CPU mask',
    async () => {
      manualSeed(9);
      const T = 4;
      const N = 3;
      const masked = [
        [true, false, false],
        [false, false, true],
        [false, true, true],
        [false, false, true],
      ];
      const x = inputFor(masked, 5, true).cast('float32');
      const y = randn([T, N, 6]);
      const run = (device: 'cpu' | 'webgpu', explicit: boolean) => {
        manualSeed(5);
        const lstm = new nn.FastLSTM(5, 6);
        if (explicit) lstm.setZeroMask(zeroMaskOf(masked));
        else lstm.maskZero(1);
        const m = new nn.Sequencer(lstm).to(device);
        const c = new nn.MaskZeroCriterion(new nn.MSECriterion()).setZeroMask(zeroMaskOf(masked));
        const xd = x.to(device);
        const yd = y.to(device);
        const out = m.forward(xd) as Tensor;
        const loss = c.forward(out, yd);
        const gin = m.backward(xd, c.backward(out, yd)) as Tensor;
        return { out, loss, gin, grads: m.parameters()[1] };
      };
      for (const explicit of [false, true]) {
        const a = run('cpu', explicit);
        const b = run('webgpu', explicit);
        await expectCloseToCpu('output', a.out, b.out, 2e-4);
        await expectCloseToCpu('loss', a.loss, b.loss, 2e-4);
        await expectCloseToCpu('gradInput', a.gin, b.gin, 1e-3);
        for (let i = 0; i < a.grads.length; i++)
          await expectCloseToCpu(`grad ${i}`, a.grads[i]!, b.grads[i]!, 1e-3);
        expect(
          arr(a.out)
            .slice(0, 6)
            .every((v) => v === 0),
        ).toBe(true);
      }
    },
  );
});
