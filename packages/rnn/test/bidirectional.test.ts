import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  add,
  cat,
  manualSeed,
  narrow,
  nn,
  noGrad,
  randn,
  stack,
  tidy,
  transpose,
  unbind,
  zeros,
} from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { f64, jacobian } from './helpers/jacobian.js';
import { seqSizes } from './helpers/arbitraries.js';

/**
 * The bidirectional wrappers (BiSequencer, BiSequencerLM, SeqBRNN, SeqBLSTM, SeqBGRU) against the same
 * computation done by hand, as Element-research's tests do: the forward module over the sequence, the backward
 * module over the reversed sequence, the latter's outputs reversed back, then merged, with separately run modules
 * sharing the wrapper's parameters. Outputs, gradInputs and parameter gradients; Jacobian checks in float64.
 */

const rev = (xs: readonly Tensor[]) => [...xs].reverse();
/** Reverse a tensor along its first dimension, by hand (no SeqReverseSequence). */
const revT = (x: Tensor) => stack(rev(unbind(x, 0)));
const asSteps = (a: Activity) => (Array.isArray(a) ? (a as Tensor[]) : unbind(a as Tensor, 0));

/** Parameter gradients of `m`, copied (so that zeroing them afterwards keeps the copy). */
const gradsOf = (m: nn.Module) => noGrad(() => m.parameters()[1].map((g) => g.clone()));

describe('nn.SeqReverseSequence', () => {
  it('reverses along any dimension, forward and backward', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.nat(10),
        fc.boolean(),
        (shape, k, negative) => {
          tidy(() => {
            const d = k % shape.length;
            const m = new nn.SeqReverseSequence(negative ? d - shape.length : d);
            const x = randn(shape, f64);
            // By hand: move d to the front, reverse the slices, move back.
            const byHand = (t: Tensor) => transpose(revT(transpose(t, 0, d).contiguous()), 0, d);
            close(m.forward(x) as Tensor, byHand(x), 'output');
            const g = randn(shape, f64);
            close(m.backward(x, g) as Tensor, byHand(g), 'gradInput');
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('reverses a table of steps along dim 0', () => {
    tidy(() => {
      const xs = [randn([2, 3]), randn([2, 3]), randn([2, 3])];
      const m = new nn.SeqReverseSequence(0);
      const out = m.forward(xs) as Tensor[];
      out.forEach((o, i) => close(o, xs[2 - i]!, `step ${i}`));
      const gs = [randn([2, 3]), randn([2, 3]), randn([2, 3])];
      (m.backward(xs, gs) as Tensor[]).forEach((g, i) => close(g, gs[2 - i]!, `gradInput ${i}`));
    });
  });

  it('Jacobian (float64)', () => {
    manualSeed(3);
    jacobian(new nn.SeqReverseSequence(1), randn([2, 3, 2], f64), 1);
    jacobian(new nn.SeqReverseSequence(-1), randn([3, 4], f64), 1);
  });
});

/** A bidirectional run by hand: fwd over x, bwd over reversed x, reversed back, merged per step. */
function byHand(
  fwd: nn.Sequencer,
  bwd: nn.Sequencer,
  merge: (f: Tensor, b: Tensor) => Tensor,
  steps: Tensor[],
): Tensor[] {
  const f = asSteps(fwd.forward(steps));
  const b = rev(asSteps(bwd.forward(rev(steps))));
  return f.map((ft, t) => merge(ft, b[t]!));
}

describe('nn.BiSequencer', () => {
  it('equals forward + reversed backward, concatenated (tables and tensors, default or given backward)', () => {
    fc.assert(
      fc.property(
        seqSizes({ H2: fc.integer({ min: 1, max: 3 }), table: fc.boolean(), ownBackward: fc.boolean() }),
        ({ T, N, D, H, H2, table, ownBackward, seed }) => {
          tidy(() => {
            manualSeed(seed);
            const fwd = new nn.FastLSTM(D, H).double();
            const bwd = ownBackward ? new nn.GRU(D, H2).double() : undefined;
            const bi = new nn.BiSequencer(fwd, bwd);
            const Hb = ownBackward ? H2 : H;
            // Separately run modules sharing bi's parameters (and gradient tensors).
            const refF = new nn.Sequencer(bi.forwardModule.sharedClone());
            const refB = new nn.Sequencer(bi.backwardModule.sharedClone());
            const xs = Array.from({ length: T }, () => randn([N, D], f64));
            const input: Activity = table ? xs : stack(xs);

            const out = bi.forward(input);
            expect(Array.isArray(out)).toBe(table);
            const expected = byHand(refF, refB, (f, b) => cat([f, b], -1), xs);
            asSteps(out).forEach((o, t) => close(o, expected[t]!, `output ${t}`));

            const gos = Array.from({ length: T }, () => randn([N, H + Hb], f64));
            bi.zeroGradParameters();
            const gin = asSteps(bi.backward(input, table ? gos : stack(gos)));
            const mine = gradsOf(bi);

            bi.zeroGradParameters();
            const gF = asSteps(
              refF.backward(
                xs,
                gos.map((g) => narrow(g, 1, 0, H)),
              ),
            );
            const gB = rev(asSteps(refB.backward(rev(xs), rev(gos.map((g) => narrow(g, 1, H, Hb))))));
            gin.forEach((g, t) => close(g, add(gF[t]!, gB[t]!), `gradInput ${t}`));
            const theirs = bi.parameters()[1];
            expect(mine.length).toBe(theirs.length);
            mine.forEach((g, i) => close(g, theirs[i]!, `gradParameter ${i}`));
          });
        },
      ),
      { numRuns: 20 },
    );
  });

  it('clones and re-initialises the forward module as the default backward one', () => {
    manualSeed(1);
    const bi = new nn.BiSequencer(new nn.FastLSTM(2, 3));
    const [pf] = bi.forwardModule.parameters();
    const [pb] = bi.backwardModule.parameters();
    expect(pb.map((p) => p.shape)).toEqual(pf.map((p) => p.shape));
    expect(pb.every((p, i) => p !== pf[i])).toBe(true);
    expect(pb[0]!.dataSync()).not.toEqual(pf[0]!.dataSync());
  });

  it('merges with any module taking a table of two (CAddTable), or JoinTable(0, n) for a number', () => {
    tidy(() => {
      manualSeed(2);
      const bi = new nn.BiSequencer(new nn.Linear(3, 2).double(), null, new nn.CAddTable());
      const refF = new nn.Sequencer(bi.forwardModule.sharedClone());
      const refB = new nn.Sequencer(bi.backwardModule.sharedClone());
      const xs = [randn([4, 3], f64), randn([4, 3], f64)];
      const out = bi.forward(xs) as Tensor[];
      byHand(refF, refB, add, xs).forEach((e, t) => close(out[t]!, e, `output ${t}`));

      const joined = new nn.BiSequencer(new nn.Linear(3, 2).double(), new nn.Linear(3, 5).double(), 1);
      expect((joined.forward(xs) as Tensor[])[0]!.shape).toEqual([4, 7]);
    });
  });

  it('takes sequence modules as they are (SeqLSTM, a Sequencer) and a [T, N, D] tensor', () => {
    tidy(() => {
      manualSeed(3);
      const f = new nn.SeqLSTM(3, 2).double();
      const b = new nn.Sequencer(new nn.FastLSTM(3, 4)).double();
      const bi = new nn.BiSequencer(f, b);
      expect(bi.getForward()).toBe(f);
      expect(bi.getBackward()).toBe(b);
      const x = randn([3, 2, 3], f64);
      const out = bi.forward(x) as Tensor;
      expect(out.shape).toEqual([3, 2, 6]);
      const expected = cat([f.forward(x) as Tensor, revT(b.forward(revT(x)) as Tensor)], -1);
      close(out, expected, 'output');
    });
  });

  it('remember: the forward module carries its state over, the backward one never; evaluate() forgets', () => {
    tidy(() => {
      manualSeed(4);
      const bi = new nn.BiSequencer(new nn.FastLSTM(2, 3).double()).remember('both');
      const refF = new nn.Sequencer(bi.forwardModule.sharedClone()).remember('both');
      const refB = new nn.Sequencer(bi.backwardModule.sharedClone());
      const seqs = [0, 1, 2].map(() => [randn([2, 2], f64), randn([2, 2], f64)]);
      for (const [k, xs] of seqs.entries()) {
        const out = bi.forward(xs) as Tensor[];
        const expected = byHand(refF, refB, (f, b) => cat([f, b], -1), xs);
        out.forEach((o, t) => close(o, expected[t]!, `sequence ${k} output ${t}`));
        // Backward still works across remembered sequences (the graph is cut between them).
        bi.backward(
          xs,
          out.map((o) => randn(o.shape, f64)),
        );
      }
      bi.evaluate();
      refF.evaluate();
      const out = bi.forward(seqs[0]!) as Tensor[];
      const fresh = byHand(refF, refB, (f, b) => cat([f, b], -1), seqs[0]!);
      out.forEach((o, t) => close(o, fresh[t]!, `after evaluate() output ${t}`));
    });
  });

  it('reports the gradients with respect to the initial states (gradPrevState), as two Sequencers would', () => {
    tidy(() => {
      manualSeed(6);
      const bi = new nn.BiSequencer(new nn.FastLSTM(2, 2).double());
      const refF = new nn.Sequencer(bi.forwardModule.sharedClone());
      const refB = new nn.Sequencer(bi.backwardModule.sharedClone());
      const xs = [randn([1, 2], f64), randn([1, 2], f64), randn([1, 2], f64)];
      const out = bi.forward(xs) as Tensor[];
      const gos = out.map((o) => randn(o.shape, f64));
      bi.backward(xs, gos);
      byHand(refF, refB, (f, b) => cat([f, b], -1), xs);
      refF.backward(
        xs,
        gos.map((g) => narrow(g, 1, 0, 2)),
      );
      refB.backward(rev(xs), rev(gos.map((g) => narrow(g, 1, 2, 2))));
      const pairs = [
        [bi.forwardModule, refF.module],
        [bi.backwardModule, refB.module],
      ] as const;
      for (const [k, [mine, ref]] of pairs.entries()) {
        const a = (mine as nn.AbstractRecurrent).gradPrevState;
        const b = ref.gradPrevState;
        expect(a, `module ${k}`).not.toBeNull();
        const at = Array.isArray(a) ? (a as Tensor[]) : [a as Tensor];
        const bt = Array.isArray(b) ? (b as Tensor[]) : [b as Tensor];
        expect(at.length).toBe(bt.length);
        at.forEach((t, i) => close(t, bt[i]!, `module ${k} gradPrevState ${i}`));
        expect(at.some((t) => Array.from(t.dataSync()).some((v) => v !== 0))).toBe(true);
      }
    });
  });

  it('prints as Torch and clones into an equal, independent module', () => {
    tidy(() => {
      manualSeed(12);
      const bi = new nn.BiSequencer(new nn.FastLSTM(2, 3).double());
      expect(bi.describe()).toMatch(/^nn\.BiSequencer \{\n  forward: {2}nn\.Sequencer @ nn\.FastLSTM/);
      expect(bi.describe()).toMatch(/\n  merge: {4}nn\.JoinTable\n\}$/);
      const c = bi.clone();
      expect(c.forwardModule).toBe(c.getForward().children()[0]);
      const x = randn([3, 2, 2], f64);
      close(c.forward(x) as Tensor, bi.forward(x) as Tensor, 'clone output');
      expect(c.parameters()[0][0]).not.toBe(bi.parameters()[0][0]);
    });
  });

  it('Jacobian (float64): tables, tensors, Sequential(Linear, FastLSTM)', () => {
    manualSeed(5);
    const step = () => new nn.Sequential().add(new nn.Linear(2, 3)).add(new nn.FastLSTM(3, 2));
    jacobian(new nn.BiSequencer(step()).double(), [randn([2, 2], f64), randn([2, 2], f64)], 1);
    jacobian(new nn.BiSequencer(new nn.GRU(2, 2), new nn.FastLSTM(2, 1)).double(), randn([3, 1, 2], f64), 2);
    jacobian(
      new nn.BiSequencer(new nn.FastLSTM(2, 2), null, new nn.CAddTable()).double(),
      randn([2, 2], f64),
      3,
    );
  });
});

describe('nn.BiSequencerLM', () => {
  it('merges fwd(t-1) with bwd(t+1), zero padded, so that step t never sees input t', () => {
    fc.assert(
      fc.property(seqSizes({ table: fc.boolean() }, 2), ({ T, N, D, H, table, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const lm = new nn.BiSequencerLM(new nn.FastLSTM(D, H).double());
          const refF = new nn.Sequencer(lm.forwardModule.sharedClone());
          const refB = new nn.Sequencer(lm.backwardModule.sharedClone());
          const xs = Array.from({ length: T }, () => randn([N, D], f64));
          const input: Activity = table ? xs : stack(xs);
          const out = asSteps(lm.forward(input));
          expect(out.length).toBe(T);

          // By hand: fwd over steps 0..T-2, bwd over steps T-1..1.
          const f = asSteps(refF.forward(xs.slice(0, -1)));
          const b = rev(asSteps(refB.forward(rev(xs.slice(1)))));
          const z = zeros([N, H], f64);
          const expected = xs.map((_, t) => cat([t === 0 ? z : f[t - 1]!, t === T - 1 ? z : b[t]!], -1));
          out.forEach((o, t) => close(o, expected[t]!, `output ${t}`));

          const gos = Array.from({ length: T }, () => randn([N, 2 * H], f64));
          lm.zeroGradParameters();
          const gin = asSteps(lm.backward(input, table ? gos : stack(gos)));
          const mine = gradsOf(lm);
          lm.zeroGradParameters();
          // fwd output t-1 feeds merge step t; bwd output t (input t+1) feeds merge step t.
          const gF = asSteps(
            refF.backward(
              xs.slice(0, -1),
              gos.slice(1).map((g) => narrow(g, 1, 0, H)),
            ),
          );
          const gB = rev(
            asSteps(refB.backward(rev(xs.slice(1)), rev(gos.slice(0, -1).map((g) => narrow(g, 1, H, H))))),
          );
          gin.forEach((g, t) => {
            const fromF = t < T - 1 ? gF[t]! : zeros([N, D], f64);
            const fromB = t > 0 ? gB[t - 1]! : zeros([N, D], f64);
            close(g, add(fromF, fromB), `gradInput ${t}`);
          });
          const theirs = lm.parameters()[1];
          mine.forEach((g, i) => close(g, theirs[i]!, `gradParameter ${i}`));
        });
      }),
      { numRuns: 20 },
    );
  });

  it('output step t does not depend on input step t', () => {
    tidy(() => {
      manualSeed(7);
      const lm = new nn.BiSequencerLM(new nn.FastLSTM(2, 3).double());
      const x = randn([4, 2, 2], f64);
      const out = lm.forward(x) as Tensor;
      expect(out.shape).toEqual([4, 2, 6]);
      const g = zeros(out.shape, f64);
      for (let t = 0; t < 4; t++) {
        noGrad(() => g.zero_());
        const gt = narrow(g, 0, t, 1);
        noGrad(() => gt.fill_(1));
        const gx = lm.backward(x, g) as Tensor;
        expect(Array.from(narrow(gx, 0, t, 1).dataSync()).every((v) => v === 0)).toBe(true);
        expect(Array.from(gx.dataSync()).some((v) => v !== 0)).toBe(true);
      }
    });
  });

  it('Jacobian (float64)', () => {
    manualSeed(8);
    jacobian(
      new nn.BiSequencerLM(new nn.FastLSTM(2, 2)).double(),
      [randn([1, 2], f64), randn([1, 2], f64)],
      1,
    );
    jacobian(new nn.BiSequencerLM(new nn.GRU(2, 2), new nn.Linear(2, 3)).double(), randn([3, 2, 2], f64), 2);
  });
});

describe('nn.SeqBRNN, SeqBLSTM, SeqBGRU', () => {
  it('SeqBRNN equals SeqLSTM forward + SeqLSTM on the reversed sequence, summed (batchFirst too)', () => {
    fc.assert(
      fc.property(seqSizes({ batchFirst: fc.boolean() }), ({ T, N, D, H, batchFirst, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const brnn = new nn.SeqBRNN(D, H, batchFirst).double();
          expect(brnn.forwardModule).toBeInstanceOf(nn.SeqLSTM);
          const f = brnn.forwardModule.sharedClone();
          const b = brnn.backwardModule.sharedClone();
          const x = randn(batchFirst ? [N, T, D] : [T, N, D], f64);
          const xt = batchFirst ? transpose(x, 0, 1).contiguous() : x;
          const tb = (t: Tensor) => (batchFirst ? transpose(t, 0, 1) : t);

          const out = brnn.forward(x) as Tensor;
          expect(out.shape).toEqual(batchFirst ? [N, T, H] : [T, N, H]);
          const yF = f.forward(xt) as Tensor;
          const yB = revT(b.forward(revT(xt)) as Tensor);
          close(tb(out), add(yF, yB), 'output');

          const go = randn(out.shape, f64);
          brnn.zeroGradParameters();
          const gx = brnn.backward(x, go) as Tensor;
          const mine = gradsOf(brnn);
          brnn.zeroGradParameters();
          const got = tb(go).contiguous();
          const gF = f.backward(xt, got) as Tensor;
          const gB = revT(b.backward(revT(xt), revT(got)) as Tensor);
          close(tb(gx), add(gF, gB), 'gradInput');
          const theirs = brnn.parameters()[1];
          mine.forEach((g, i) => close(g, theirs[i]!, `gradParameter ${i}`));
        });
      }),
      { numRuns: 20 },
    );
  });

  it('SeqBLSTM (with projection) and SeqBGRU are SeqBRNNs of SeqLSTM / SeqGRU; merge can be given', () => {
    tidy(() => {
      manualSeed(9);
      const l = new nn.SeqBLSTM(3, 4, 2).double();
      expect((l.forwardModule as nn.SeqLSTM).outputSize).toBe(2);
      const x = randn([3, 2, 3], f64);
      expect((l.forward(x) as Tensor).shape).toEqual([3, 2, 2]);
      const g = new nn.SeqBGRU(3, 5, new nn.JoinTable(-1)).double();
      expect(g.forwardModule).toBeInstanceOf(nn.SeqGRU);
      const f = g.forwardModule.sharedClone();
      const b = g.backwardModule.sharedClone();
      close(
        g.forward(x) as Tensor,
        cat([f.forward(x) as Tensor, revT(b.forward(revT(x)) as Tensor)], -1),
        'SeqBGRU',
      );
      const lm = new nn.SeqBLSTM(3, 4, new nn.JoinTable(-1)).double();
      expect((lm.forward(x) as Tensor).shape).toEqual([3, 2, 8]);
    });
  });

  it('takes any layer factory (Sequencer(FastLSTM) stand-ins)', () => {
    tidy(() => {
      manualSeed(10);
      const brnn = new nn.SeqBRNN(
        2,
        3,
        false,
        null,
        (i, h) => new nn.Sequencer(new nn.FastLSTM(i, h)),
      ).double();
      const x = randn([3, 2, 2], f64);
      const f = brnn.forwardModule.sharedClone();
      const b = brnn.backwardModule.sharedClone();
      close(
        brnn.forward(x) as Tensor,
        add(f.forward(x) as Tensor, revT(b.forward(revT(x)) as Tensor)),
        'output',
      );
    });
  });

  it('Jacobian (float64)', () => {
    manualSeed(11);
    jacobian(new nn.SeqBRNN(2, 2, true).double(), randn([2, 3, 2], f64), 1);
    jacobian(new nn.SeqBGRU(2, 2).double(), randn([2, 1, 2], f64), 2);
  });
});

describe('bidirectional modules: bad inputs', () => {
  const cases: readonly { name: string; run: () => unknown; message: string | RegExp }[] = [
    {
      name: 'BiSequencer given an empty table',
      run: () => new nn.BiSequencer(new nn.Linear(2, 2)).forward([]),
      message: 'nn.BiSequencer: input is a table of 0 steps, expected a sequence of at least 1 step(s)',
    },
    {
      name: 'BiSequencer given a scalar',
      run: () => new nn.BiSequencer(new nn.Linear(2, 2)).forward(zeros([])),
      message: 'nn.BiSequencer: input is a tensor of shape [], expected a sequence of at least 1 step(s)',
    },
    {
      name: 'BiSequencerLM given a zero mask',
      run: () => new nn.BiSequencerLM(new nn.Linear(2, 2)).setZeroMask(zeros([3, 2])),
      message: 'nn.BiSequencerLM.setZeroMask: masks of padded steps are not supported by BiSequencerLM',
    },
    {
      name: 'BiSequencerLM given one step',
      run: () => new nn.BiSequencerLM(new nn.Linear(2, 2)).forward([randn([1, 2])]),
      message: 'nn.BiSequencerLM: input is a table of 1 steps, expected a sequence of at least 2 step(s)',
    },
    {
      name: 'BiSequencer with a step of the wrong size (names the branch and step)',
      run: () => new nn.BiSequencer(new nn.Linear(2, 2)).forward(randn([3, 1, 5])),
      message:
        /^nn\.BiSequencer forward nn\.Sequencer step 0 .*nn\.Linear\(2 -> 2\).*has shape \[1, 5\], expected \[2\] or \[N, 2\]/,
    },
    {
      name: 'BiSequencer with a bad merge',
      run: () => new nn.BiSequencer(new nn.Linear(2, 2), null, 'sum' as never),
      message: 'nn.BiSequencer: expected a module, a number or nothing at arg 3 (merge), got sum',
    },
    {
      name: 'BiSequencer without a module',
      run: () => new nn.BiSequencer(undefined as never),
      message: 'nn.BiSequencer: expected a module at arg 1 (forward), got undefined',
    },
    {
      name: 'BiSequencer backward with a gradOutput of the wrong shape',
      run: () => {
        const bi = new nn.BiSequencer(new nn.Linear(2, 2));
        const x = randn([2, 1, 2]);
        bi.forward(x);
        return bi.backward(x, randn([2, 1, 3]));
      },
      message: "nn.BiSequencer: backward: gradOutput is [2, 1, 3], expected the output's [2, 1, 4]",
    },
    {
      name: 'SeqBRNN given a 2-D input',
      run: () => new nn.SeqBRNN(3, 2).forward(randn([4, 3])),
      message: /nn\.SeqLSTM\(3 -> 2\).*input: has shape \[4, 3\], expected a float \[T, N, 3\] sequence/,
    },
    {
      name: 'SeqReverseSequence along a missing dimension',
      run: () => new nn.SeqReverseSequence(3).forward(randn([2, 3])),
      message:
        'nn.SeqReverseSequence(3): input: has shape [2, 3], which has no dimension 3 to reverse (0-based)',
    },
    {
      name: 'SeqReverseSequence of a table along dim 1',
      run: () => new nn.SeqReverseSequence(1).forward([randn([2])]),
      message:
        /^nn\.SeqReverseSequence\(1\): input: is a table \{\[2\]\}: a table of steps can only be reversed along dim 0/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let err: unknown;
      try {
        c.run();
      } catch (e) {
        err = e;
      }
      expect(err, 'no error thrown').toBeInstanceOf(Error);
      const msg = (err as Error).message;
      if (typeof c.message === 'string') expect(msg).toContain(c.message);
      else expect(msg).toMatch(c.message);
    });
  }
});
