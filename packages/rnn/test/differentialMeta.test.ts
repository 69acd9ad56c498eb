import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, cat, contiguous, narrow, nn, noGrad, transpose, zerosLike } from '@webrnn/rnn';
import { F, type OpEntry, type Tolerance } from '../../core/test/differential/cases.js';
import { type Config, checkCase, drawnArb } from '../../core/test/differential/runner.js';
import { type Seeds, forwardEntry } from './differential/moduleEntry.js';
import { linearTol } from './differential/table/layers.js';
import { seqTol, wholeSeqTol } from './differential/table/recurrent.js';

/**
 * The module harness's tolerances must not hide real bugs: a module with a deliberate defect on the device under
 * test (a transposed weight, a missing bias, swapped LSTM gates, a dropped recurrent term) must fail the
 * comparison with the float64 reference in every non-trivial case, and the same module without the defect must
 * pass it. The defect is injected after the module is built, only where the run is not the reference (the CPU
 * in float64). CPU float32 only, so that WebGPU's own bugs do not decide the outcome.
 */
const CPU: Config[] = [{ device: 'cpu', float: 'float32' }];

type Defect = (params: Tensor[]) => void;

/** Overwrite a parameter in place (outside the tape), from a tensor computed from it. */
const rewrite = (p: Tensor, f: (p: Tensor) => Tensor) => noGrad(() => p.copy_(contiguous(f(p))));

/** Swap row blocks (axis 0) or column blocks (axis 1) a and b of size h. */
const swapBlocks = (p: Tensor, axis: number, h: number, a: number, b: number) =>
  rewrite(p, (w) => {
    const blocks = [0, 1, 2, 3].map((k) => narrow(w, axis, h * k, h));
    [blocks[a], blocks[b]] = [blocks[b]!, blocks[a]!];
    return cat(blocks, axis);
  });

type LinP = Seeds & { i: number; n: number; defect: boolean };
type SeqP = Seeds & { t: number; n: number; d: number; h: number; defect?: boolean };

/** Linear(i, i) on [N, i]; with `defect`, the weight or the bias goes wrong on the device under test. */
function linear(defect: Defect): (withDefect: boolean) => OpEntry {
  return (withDefect) =>
    forwardEntry({
      name: 'Linear',
      label: withDefect ? 'with a defect' : 'as built',
      gen: fc
        .record({ i: fc.integer({ min: 2, max: 6 }), n: fc.integer({ min: 1, max: 5 }) })
        .map((p) => ({ inputs: [F([p.n, p.i])], params: { ...p, defect: withDefect } })),
      make: (p: LinP) => new nn.Linear(p.i, p.i),
      prepare: (m, _xs, p: LinP, ctx) => {
        if (p.defect && ctx.float !== 'float64') defect(m.parameters()[0]);
      },
      tol: linearTol,
      specials: false,
    });
}

/** A recurrent model on [T >= 2, N >= 1, D] (the recurrent term is zero at the first step). */
function recurrent(
  name: string,
  make: (p: SeqP) => nn.Module,
  tol: (p: SeqP) => Tolerance,
  defect: Defect,
): (withDefect: boolean) => OpEntry {
  return (withDefect) =>
    forwardEntry({
      name,
      label: withDefect ? 'with a defect' : 'as built',
      gen: fc
        .record({
          t: fc.integer({ min: 2, max: 5 }),
          n: fc.integer({ min: 1, max: 4 }),
          d: fc.integer({ min: 1, max: 4 }),
          h: fc.integer({ min: 1, max: 4 }),
        })
        .map((p) => ({ inputs: [F([p.t, p.n, p.d])], params: { ...p, defect: withDefect } })),
      make,
      prepare: (m, _xs, p: SeqP, ctx) => {
        if (p.defect && ctx.float !== 'float64') defect(m.parameters()[0]);
      },
      // The tolerance the module table gives this family (table/recurrent.ts).
      tol,
      specials: false,
    });
}

const sizes = (p: Tensor[]) => p.map((t) => t.shape);
const DEFECTS: [string, (withDefect: boolean) => OpEntry][] = [
  ['Linear whose weight is transposed', linear(([w]) => rewrite(w!, (x) => transpose(x, 0, 1)))],
  ['Linear without its bias', linear(([, b]) => noGrad(() => b!.zero_()))],
  [
    'Sequencer(FastLSTM) with its input and forget gates swapped',
    recurrent(
      'FastLSTM',
      (p) => new nn.Sequencer(new nn.FastLSTM(p.d, p.h)),
      seqTol,
      // i2g's weight [4H, D]: blocks (rows) input gate, candidate, forget gate, output gate.
      (ps) => swapBlocks(ps[0]!, 0, ps[0]!.shape[0]! / 4, 0, 2),
    ),
  ],
  [
    'SeqLSTM without the recurrent term',
    recurrent(
      'SeqLSTM',
      (p) => new nn.SeqLSTM(p.d, p.h),
      wholeSeqTol,
      // weight [D + H, 4H]: the last H rows multiply h(t-1).
      ([w]) =>
        rewrite(w!, (x) => {
          const h = x.shape[1]! / 4;
          const d = x.shape[0]! - h;
          return cat([narrow(x, 0, 0, d), zerosLike(narrow(x, 0, d, h))], 0);
        }),
    ),
  ],
];

describe('the module harness catches deliberately wrong modules', () => {
  for (const [what, entry] of DEFECTS) {
    it(`${what}: every case fails, and passes without the defect`, async () => {
      const wrong = entry(true);
      const right = entry(false);
      await fc.assert(
        fc.asyncProperty(drawnArb(wrong), async (d) => {
          const caught = await checkCase(wrong, d, CPU);
          expect(caught, 'the defect went unnoticed').not.toBeNull();
          // Same case, same module without the defect: no disagreement.
          const clean = {
            ...d,
            opCase: { ...d.opCase, params: { ...(d.opCase.params as object), defect: false } },
          };
          expect(await checkCase(right, clean, CPU)).toBeNull();
        }),
        { numRuns: 25, seed: 7 },
      );
    });
  }
  it('defects are injected into parameters of the expected shapes', () => {
    const lstm = new nn.FastLSTM(3, 2);
    expect(sizes(lstm.parameters()[0])).toEqual([[8, 3], [8], [8, 2]]);
    const seq = new nn.SeqLSTM(3, 2);
    expect(sizes(seq.parameters()[0])).toEqual([[5, 8], [8]]);
    lstm.dispose();
    seq.dispose();
  });
});
