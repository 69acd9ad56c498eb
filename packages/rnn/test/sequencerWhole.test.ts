/**
 * Sequencer's whole-sequence path: a tensor sequence through a FastLSTM (GRU) runs as one lstmSequence
 * (gruSequence) instead of T steps. The reference is the same Sequencer given the sequence as an array of steps, which always steps (and
 * the step path is itself checked against hand-unrolled Torch loops in equivalence.test.ts). Float64 on the CPU:
 * outputs, gradInput, parameter gradients, the inner module's gradInput, output and kept states, the initial
 * states' gradients, remembered state across sequences, evaluation, and the cases that must keep stepping.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, manualSeed, memory, nn, randn, tidy, unbind } from '@webrnn/rnn';
import { arr, expectClose, f64, gradValues, values } from './recurrentHelpers.js';

type Seq = InstanceType<typeof nn.Sequencer>;
type Unit = InstanceType<typeof nn.FastLSTM> | InstanceType<typeof nn.GRU>;

/** The modules with a whole-sequence op, and how each is given an initial state (userPrevOutput, userPrevCell). */
const UNITS = [
  {
    name: 'FastLSTM',
    make: (D: number, H: number) => new nn.FastLSTM(D, H),
    setStart: (m: Unit, h0: Tensor, c0: Tensor) => {
      const l = m as InstanceType<typeof nn.FastLSTM>;
      l.userPrevOutput = h0;
      l.userPrevCell = c0;
    },
  },
  {
    name: 'GRU',
    make: (D: number, H: number) => new nn.GRU(D, H),
    setStart: (m: Unit, h0: Tensor) => {
      m.userPrevOutput = h0;
    },
  },
] as const;
type UnitSpec = (typeof UNITS)[number];

const TOL = 1e-12;

const sizes = fc.record({
  T: fc.integer({ min: 1, max: 6 }),
  N: fc.integer({ min: 1, max: 4 }),
  D: fc.integer({ min: 1, max: 5 }),
  H: fc.integer({ min: 1, max: 5 }),
  seed: fc.nat(1000),
  user: fc.boolean(),
});

/** Two identical Sequencer(unit) (same seed), in float64. */
function pair(unit: UnitSpec, D: number, H: number, seed: number, build: (m: Unit) => void = () => {}) {
  const make = () => {
    manualSeed(seed);
    const lstm = unit.make(D, H);
    build(lstm);
    const seq = new nn.Sequencer(lstm).double() as Seq;
    return { seq, lstm };
  };
  return { whole: make(), stepped: make() };
}

/** Forward and backward of a sequence: as a tensor (whole path) or as its steps (step path). */
function run(m: { seq: Seq; lstm: Unit }, x: Tensor, gy: Tensor, asTensor: boolean) {
  m.seq.zeroGradParameters();
  const xs = asTensor ? x : unbind(x, 0);
  const out = m.seq.forward(xs);
  const gIn = m.seq.backward(xs, asTensor ? gy : unbind(gy, 0));
  const flat = (a: Tensor | Tensor[]) => (Array.isArray(a) ? a.flatMap(arr) : arr(a));
  return {
    out: flat(out as Tensor | Tensor[]),
    gIn: flat(gIn as Tensor | Tensor[]),
    grads: gradValues(m.seq),
    inner: arr(m.lstm.gradInput as Tensor),
    output: arr(m.lstm.output as Tensor),
    state: values(m.lstm.getHiddenState()!),
    // Steps count from forget(): a remembered sequence's first is further on.
    states: Array.from({ length: x.shape[0]! + 1 }, (_, t) =>
      values(m.lstm.getHiddenState(m.lstm.step - x.shape[0]! - 1 + t)!),
    ),
    gradPrev: m.lstm.gradPrevState ? values(m.lstm.gradPrevState) : [],
  };
}

function expectSame(a: ReturnType<typeof run>, b: ReturnType<typeof run>): void {
  expectClose([a.out], [b.out], TOL, 'output');
  expectClose([a.gIn], [b.gIn], TOL, 'gradInput');
  expectClose(a.grads, b.grads, TOL, 'gradParameters');
  expectClose([a.inner], [b.inner], TOL, "the FastLSTM's gradInput (first step's)");
  expectClose([a.output], [b.output], TOL, "the FastLSTM's output (last step's)");
  expectClose(a.state, b.state, TOL, 'state');
  a.states.forEach((s, t) => expectClose(s, b.states[t]!, TOL, `state ${t - 1} of the sequence`));
  expectClose(a.gradPrev, b.gradPrev, TOL, 'gradPrevState');
}

describe.each(UNITS)('Sequencer($name) over a tensor runs as one op and equals stepping', (unit) => {
  it('outputs, gradients, states and initial-state gradients (with userPrevOutput/userPrevCell)', () => {
    fc.assert(
      fc.property(sizes, ({ T, N, D, H, seed, user }) => {
        tidy(() => {
          const { whole, stepped } = pair(unit, D, H, seed);
          const x = randn([T, N, D], f64);
          const gy = randn([T, N, H], f64);
          if (user) {
            const [h0, c0] = [randn([N, H], f64), randn([N, H], f64)];
            for (const m of [whole, stepped]) unit.setStart(m.lstm, h0, c0);
          }
          const a = run(whole, x, gy, true);
          const b = run(stepped, x, gy, false);
          expectSame(a, b);
          expect(a.gradPrev.length).toBe(unit.name === 'GRU' ? 1 : 2);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('remembers the state across sequences, in training and evaluation', () => {
    fc.assert(
      fc.property(sizes, ({ T, N, D, H, seed }) => {
        tidy(() => {
          const { whole, stepped } = pair(unit, D, H, seed, (l) => l.remember('both'));
          for (const [k, train] of [
            [0, true],
            [1, true],
            [2, false],
            [3, false],
          ] as const) {
            const x = randn([T + k, N, D], f64);
            const gy = randn([T + k, N, H], f64);
            if (!train) {
              whole.seq.evaluate();
              stepped.seq.evaluate();
              const a = whole.seq.forward(x) as Tensor;
              const b = stepped.seq.forward(unbind(x, 0)) as Tensor[];
              expectClose([arr(a)], [b.flatMap(arr)], TOL, `evaluation output, sequence ${k}`);
              expectClose(
                values(whole.lstm.getHiddenState()!),
                values(stepped.lstm.getHiddenState()!),
                TOL,
                `evaluation state, sequence ${k}`,
              );
            } else expectSame(run(whole, x, gy, true), run(stepped, x, gy, false));
          }
        });
      }),
      { numRuns: 10 },
    );
  });

  it("refuses the module's step-wise backward after a whole-sequence forward, naming the Sequencer's", () => {
    tidy(() => {
      const { whole } = pair(unit, 3, 2, 1);
      whole.seq.forward(randn([4, 2, 3], f64));
      expect(() => whole.lstm.backward(randn([2, 3], f64), randn([2, 2], f64))).toThrow(
        new RegExp(`${unit.name}.*whole-sequence op.*Sequencer's backward`, 's'),
      );
    });
  });

  it('holds memory flat over training iterations, remembering or not, and after forget()', () => {
    for (const remember of [false, true]) {
      const { whole } = pair(unit, 4, 3, 2, (l) => l.remember(remember ? 'both' : 'neither'));
      const x = randn([5, 2, 4], f64);
      const gy = randn([5, 2, 3], f64);
      const iteration = () =>
        tidy(() => {
          whole.seq.zeroGradParameters();
          whole.seq.forward(x);
          whole.seq.backward(x, gy);
          whole.seq.updateParameters(0.01);
        });
      iteration();
      const held = memory();
      for (let i = 0; i < 4; i++) iteration();
      expect(memory().tensors, `remember ${remember}`).toBe(held.tensors);
      expect(memory().bytes, `remember ${remember}`).toBe(held.bytes);
      whole.seq.forget();
      expect(memory().tensors).toBeLessThan(held.tensors);
      for (const t of [x, gy]) t.dispose();
    }
  });

  it('holds no more memory between iterations than stepping (but a GRU weight copy); remembered states are copied out', () => {
    for (const remember of [false, true]) {
      const held = (asTensor: boolean) =>
        tidy(() => {
          const { whole: m } = pair(unit, 4, 3, 2, (l) => l.remember(remember ? 'both' : 'neither'));
          const x = randn([6, 2, 4], f64);
          const gy = randn([6, 2, 3], f64);
          const base = memory().bytes;
          for (let i = 0; i < 3; i++) tidy(() => run(m, x, gy, asTensor));
          const bytes = memory().bytes - base;
          m.seq.dispose();
          return bytes;
        });
      // GRU's graph keeps its two recurrent weights side by side ([H, 3H], the operand of gruSequence): one copy.
      const weights = unit.name === 'GRU' ? 3 * 3 * 3 * 8 : 0;
      expect(held(true), `remember ${remember}`).toBeLessThanOrEqual(held(false) + weights);
    }
  });

  it('gives the step path its errors: a remembered state of another batch size', () => {
    tidy(() => {
      const { whole, stepped } = pair(unit, 3, 2, 1, (l) => l.remember('both'));
      const message = (asTensor: boolean) => {
        const m = asTensor ? whole : stepped;
        const x = randn([2, 2, 3], f64);
        m.seq.forward(asTensor ? x : unbind(x, 0));
        const y = randn([2, 3, 3], f64);
        try {
          m.seq.forward(asTensor ? y : unbind(y, 0));
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      };
      const got = message(true);
      expect(got).toMatch(/Sequencer step 0.*batch size cannot change/s);
      expect(got).toBe(message(false));
    });
  });
});

describe('Sequencer keeps stepping where one op would differ', () => {
  it('dropout in training, batch normalisation, maskZero, an array of steps: the step-wise backward works', () => {
    const cases: [string, () => Unit, number][] = [
      ['FastLSTM dropout', () => new nn.FastLSTM(3, 2, 9, { p: 0.5 }), 3],
      ['FastLSTM bn', () => new nn.FastLSTM(3, 2, 9, { bn: true }), 3],
      ['FastLSTM maskZero', () => new nn.FastLSTM(3, 2).maskZero(1), 3],
      ['GRU dropout', () => new nn.GRU(3, 2, 9, 0.5), 3],
      ['GRU maskZero', () => new nn.GRU(3, 2).maskZero(1), 3],
    ];
    tidy(() => {
      for (const [what, make] of cases) {
        manualSeed(3);
        const m = make();
        new nn.Sequencer(m).double().forward(randn([4, 2, 3], f64));
        expect(() => m.backward(randn([2, 3], f64), randn([2, 2], f64)), what).not.toThrow();
      }
      // An array of steps always steps (the reference of the tests above).
      const { whole } = pair(UNITS[0], 3, 2, 1);
      whole.seq.forward(unbind(randn([4, 2, 3], f64), 0));
      expect(() => whole.lstm.backward(randn([2, 3], f64), randn([2, 2], f64))).not.toThrow();
    });
  });
});
