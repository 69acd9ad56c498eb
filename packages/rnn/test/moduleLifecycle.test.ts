/**
 * The parts of nn.Module's protocol outside forward/backward, each against Torch's (or PyTorch's) documented
 * meaning: parameters and their gradients (registration, sharing, getParameters, updateParameters), modes, type
 * conversion with buffers, reset, dispose, copies (clone / sharedClone) and the dpnn norms on a module's own
 * parameters. Found by mutation testing of Module.ts (README "Mutation testing").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  WebrnnError,
  manualSeed,
  memory,
  mul,
  nn,
  randn,
  keep,
  tensor,
  tidy,
  zeros,
} from '@webrnn/rnn';

const f64 = { dtype: 'float64' as const };
const values = (t: Tensor) => Array.from(t.dataSync());
const sumSq = (ts: readonly Tensor[]) => ts.reduce((s, t) => s + values(t).reduce((a, v) => a + v * v, 0), 0);

/** A user's module: its own scale parameter times its child's output (a container with parameters of its own). */
class Scaled extends nn.Container {
  constructor(child: nn.Module, dtype: 'float32' | 'float64' = 'float64') {
    super();
    this.registerParameter('scale', tensor([1.5], { dtype }));
    this.add(child);
  }
  updateOutput(x: Tensor): Tensor {
    return mul(this.modules[0]!.forward(x) as Tensor, this.param('scale'));
  }
  paramNamed(name: string): Tensor {
    return this.param(name);
  }
}

/** A user's module with state outside clearState (disposeOwnedState frees it) and a helper object. */
class Owning extends nn.Module {
  state: Tensor | null = null;
  disposals = 0;
  config = { scale: 2, offset: tensor([1, 2, 3], f64) };
  helper = new (class Helper {
    calls = 0;
  })();
  constructor() {
    super();
    this.registerBuffer('steps', tensor([3], { dtype: 'int32' }));
    this.registerBuffer('mean', tensor([0.25, 0.5]));
  }
  updateOutput(x: Tensor): Tensor {
    if (this.state === null) this.state = keep(zeros([4]));
    return x;
  }
  protected override disposeOwnedState(): void {
    this.disposals++;
    this.state?.dispose();
    this.state = null;
  }
  bufferNamed(name: string): Tensor {
    return this.ownBuffers.get(name)!;
  }
}

function mlp(seed: number) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2)).double();
}

/** Fill every parameter's gradient through one backward with a random gradOutput. */
function fillGrads(m: nn.Module, seed: number, inDim = 3, outDim = 2): void {
  manualSeed(seed);
  const x = randn([5, inDim], f64);
  m.forward(x);
  m.backward(x, randn([5, outDim], f64));
}

describe('parameters and their gradients', () => {
  it("a registered parameter's gradient has the parameter's dtype; an unknown name is refused", () => {
    const m = new Scaled(new nn.Linear(2, 2).double());
    const scale = m.paramNamed('scale');
    expect([scale.requiresGrad, scale.grad!.dtype, values(scale.grad!)]).toEqual([true, 'float64', [0]]);
    expect(() => m.paramNamed('bias')).toThrow(new WebrnnError('nn.Scaled', "has no parameter 'bias'"));
  });

  it('a module reached twice, or sharing parameters, lists each parameter once', () => {
    manualSeed(1);
    const lin = new nn.Linear(3, 3);
    const seq = new nn.Sequential().add(lin).add(new nn.Tanh()).add(lin).add(lin.sharedClone());
    const [params, grads] = seq.parameters();
    // The same tensors (identity, not equal values).
    const same = (a: readonly unknown[], b: readonly unknown[]) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    expect(same(params, [lin.weight, lin.bias])).toBe(true);
    expect(same(grads, [lin.weight.grad, lin.bias!.grad])).toBe(true);
  });

  it('getParameters refuses a module without parameters, naming it', () => {
    expect(() => new nn.Sequential().add(new nn.Tanh()).getParameters()).toThrow(
      new WebrnnError('getParameters', 'nn.Sequential has no parameters'),
    );
  });

  it('updateParameters(lr) is p - lr * grad for every parameter (Torch)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        // In hundredths: fc.double favours values near 0, where any update would pass unnoticed.
        fc.integer({ min: -300, max: 300 }).filter((k) => k !== 0),
        (seed, k) => {
          const lr = k / 100;
          const m = mlp(seed);
          fillGrads(m, seed + 1);
          const [params, grads] = m.parameters();
          const expected = params.map((p, i) => values(p).map((v, j) => v - lr * values(grads[i]!)[j]!));
          m.updateParameters(lr);
          params.forEach((p, i) => values(p).forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 12)));
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('modes, types and re-initialisation reach every child', () => {
  it('evaluate() then training() set train on the whole tree', () => {
    const m = new nn.Sequential().add(mlp(2)).add(new nn.Dropout(0.5));
    const modes = (x: nn.Module): boolean[] => [x.train, ...x.children().flatMap(modes)];
    expect(modes(m.evaluate()).every((t) => !t)).toBe(true);
    expect(modes(m.training()).every((t) => t)).toBe(true);
  });

  it("type() converts floating parameters, gradients and buffers, not int32 buffers; 'int32' is refused", () => {
    const own = new Owning();
    const m = new nn.Sequential().add(new nn.Linear(2, 2)).add(own);
    m.double();
    const dtypes = () => [
      ...m.parameters()[0].flatMap((p) => [p.dtype, p.grad!.dtype]),
      own.bufferNamed('mean').dtype,
      own.bufferNamed('steps').dtype,
    ];
    expect(dtypes()).toEqual(['float64', 'float64', 'float64', 'float64', 'float64', 'int32']);
    expect(values(own.bufferNamed('steps'))).toEqual([3]);
    m.float();
    expect(dtypes()).toEqual(['float32', 'float32', 'float32', 'float32', 'float32', 'int32']);
    expect(() => m.type('int32')).toThrow(new WebrnnError('type', 'parameters must be float32 or float64'));
  });

  it("reset() re-initialises the children's parameters", () => {
    const m = mlp(3);
    const before = m.parameters()[0].map(values);
    expect(m.reset()).toBe(m);
    const after = m.parameters()[0].map(values);
    before.forEach((b, i) => expect(after[i]).not.toEqual(b));
  });

  it("setZeroMask on a container reaches a MaskZero inside: the masked rows' outputs are zero", () => {
    manualSeed(4);
    const seq = new nn.Sequential().add(new nn.MaskZero(new nn.Linear(3, 2).double(), 1));
    const x = randn([3, 3], f64);
    expect(seq.setZeroMask(tensor([0, 1, 0]))).toBe(seq);
    const out = values(seq.forward(x) as Tensor);
    expect(out.slice(2, 4)).toEqual([0, 0]);
    expect(out.slice(0, 2).some((v) => v !== 0) && out.slice(4).some((v) => v !== 0)).toBe(true);
  });
});

describe('dispose', () => {
  it("frees each child's own state once, also for a child reached twice, and leaves nothing behind", () => {
    const own = new Owning();
    const m = new nn.Sequential().add(new nn.Linear(2, 2)).add(own).add(own);
    const x = randn([1, 2]);
    const base = memory().tensors;
    tidy(() => {
      m.forward(x);
    });
    expect(own.state).not.toBeNull();
    m.dispose();
    expect([own.disposals, own.state]).toEqual([1, null]);
    // Gone: Linear's weight, bias and their gradients, the two buffers; the state kept by forward too.
    expect(memory().tensors).toBe(base - 6);
  });
});

describe('clone and sharedClone', () => {
  it("copy no tensor held for the last forward's backward: disposing a clone leaves memory as before", () => {
    const m = mlp(5);
    const x = randn([4, 3], f64);
    m.forward(x);
    const base = memory().tensors;
    m.clone().dispose();
    expect(memory().tensors).toBe(base);
    // A shared clone adds nothing at all (Linear and Tanh hold no tensors but parameters).
    const shared = m.sharedClone();
    expect(memory().tensors).toBe(base);
    shared.parameters()[0].forEach((p, i) => expect(p).toBe(m.parameters()[0][i]));
  });

  it("a clone's parameters are new leaves with zero gradients of their dtype, and backpropagate as the original's", () => {
    const m = mlp(6);
    fillGrads(m, 7);
    const c = m.clone();
    const [ps, gs] = c.parameters();
    ps.forEach((p, i) => {
      expect(p).not.toBe(m.parameters()[0][i]);
      expect([p.requiresGrad, p.isLeaf, gs[i]!.dtype, gs[i]!.device]).toEqual([
        true,
        true,
        p.dtype,
        p.device,
      ]);
      expect(values(gs[i]!).every((v) => v === 0)).toBe(true);
    });
    m.zeroGradParameters();
    fillGrads(m, 8);
    fillGrads(c, 8);
    const expected = m.parameters()[1].map(values);
    c.parameters()[1].forEach((g, i) => expect(values(g)).toEqual(expected[i]));
  });

  it('a tensor field that was disposed is not copied: the clone holds null there', () => {
    const own = new Owning();
    own.state = zeros([2]);
    own.state.dispose();
    const c = own.clone();
    expect(c.state).toBeNull();
    expect(own.state.isDisposed).toBe(true);
  });

  it('plain objects are copied deeply, other objects (helpers) are shared', () => {
    const own = new Owning();
    const c = own.clone();
    expect(c.config).not.toBe(own.config);
    expect(c.config.scale).toBe(2);
    expect(c.config.offset).not.toBe(own.config.offset);
    expect(values(c.config.offset)).toEqual([1, 2, 3]);
    expect(c.helper).toBe(own.helper);
  });
});

describe("dpnn's gradParamClip counts a module's own parameters besides its children's", () => {
  const build = () => {
    manualSeed(9);
    const m = new Scaled(new nn.Linear(3, 2).double());
    fillGrads(m, 10);
    return m;
  };
  const own = (m: Scaled) => [m.paramNamed('scale').grad!];
  const child = (m: Scaled) => m.modules[0]!.parameters()[1];

  it('moduleLocal: the norm is the root of the squared norms of the own group and the children', async () => {
    for (const clip of [
      (m: Scaled) => m.gradParamClip(1e9, true),
      (m: Scaled) => m.gradParamClipAsync(1e9, true),
    ]) {
      const m = build();
      const expected = Math.sqrt(sumSq(own(m)) + sumSq(child(m)));
      expect(await clip(m)).toBeCloseTo(expected, 10);
    }
  });

  it('by default the clip is global: every gradient is scaled by the same factor (also asynchronously)', async () => {
    for (const clip of [
      (m: Scaled, c: number) => m.gradParamClip(c),
      (m: Scaled, c: number) => m.gradParamClipAsync(c),
    ]) {
      const m = build();
      const [o0, c0] = [sumSq(own(m)), sumSq(child(m))];
      expect(o0).not.toBeCloseTo(c0, 3);
      const norm = await clip(m, 0.1);
      expect(norm).toBeCloseTo(Math.sqrt(o0 + c0), 10);
      const factor = 0.1 / norm;
      expect(sumSq(own(m))).toBeCloseTo(o0 * factor * factor, 10);
      expect(sumSq(child(m))).toBeCloseTo(c0 * factor * factor, 10);
    }
  });
});

describe("a container's state tables (Element-research/rnn's get/setHiddenState on containers)", () => {
  const N = 2;
  const build = () => {
    manualSeed(11);
    const gru = new nn.GRU(3, 4);
    const seq = new nn.Sequential().add(gru).add(new nn.Linear(4, 4)).double();
    return { seq, gru };
  };
  const xs = () => {
    manualSeed(12);
    return [0, 1, 2].map(() => randn([N, 3], f64));
  };

  it("null, or {} for a child, resets that child's state as the child's own setHiddenState(null) does", () => {
    for (const table of [null, [[], []]]) {
      const a = build();
      const b = build();
      const [x0, x1, x2] = xs();
      for (const m of [a.seq, b.seq]) m.forward(x0!);
      a.seq.setHiddenState(table);
      b.gru.setHiddenState(null);
      expect(values(a.seq.forward(x1!) as Tensor)).toEqual(values(b.seq.forward(x1!) as Tensor));
      expect(values(a.seq.forward(x2!) as Tensor)).toEqual(values(b.seq.forward(x2!) as Tensor));
    }
  });

  it('a module without children takes any state and has none; a container names the call that got a bad table', () => {
    const lin = new nn.Linear(2, 2);
    lin.setHiddenState([zeros([2])]);
    lin.setGradHiddenState([zeros([2])]);
    expect([lin.getHiddenState(), lin.getGradHiddenState()]).toEqual([null, null]);
    const { seq } = build();
    expect(() => seq.setGradHiddenState([zeros([N, 4])])).toThrow(
      'nn.Sequential.setGradHiddenState: got {[2, 4]}, expected a table of 2 entries (one per child',
    );
    // A child without a state gives an empty table, for the gradients too.
    seq.setGradHiddenState([zeros([N, 4], f64), []]);
    expect((seq.getGradHiddenState() as unknown[])[1]).toEqual([]);
  });

  it('clearState on an inner container leaves a backward through the outer one as it was', () => {
    const run = (clearInner: boolean) => {
      manualSeed(13);
      const inner = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh());
      const outer = new nn.Sequential().add(inner).add(new nn.Linear(4, 2)).double();
      const x = randn([N, 3], f64);
      outer.forward(x);
      if (clearInner) inner.clearState();
      return values(outer.backward(x, randn([N, 2], f64)) as Tensor);
    };
    expect(run(true)).toEqual(run(false));
  });
});
