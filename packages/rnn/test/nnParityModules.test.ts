import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/arbitraries.js';
import { type Tensor, io, manualSeed, matmul, nn, randn, sum, tensor } from '@webrnn/rnn';

/**
 * Torch parity (issue 12): LinearNoBias, Linear:noBias(), SAdd, ZeroGrad, CopyGrad and Padding, each against an
 * independent reference (Torch's algorithm written out on plain arrays, or a plain matmul), float64 central
 * differences (nn.Jacobian), and their bad inputs.
 */
const f64 = { dtype: 'float64' as const };
const dims = fc.integer({ min: 1, max: 4 });
const arr = (t: Tensor) => Array.from(t.dataSync());

describe('nn.LinearNoBias and Linear:noBias()', () => {
  it('compute x W^T with one parameter, as a Linear without bias; Jacobians match finite differences', () => {
    fc.assert(
      fc.property(dims, dims, dims, fc.integer({ min: 1, max: 1000 }), (i, o, n, seed) => {
        manualSeed(seed);
        const m = new nn.LinearNoBias(i, o).double();
        const x = randn([n, i], f64);
        expect(m.parameters()[0]).toEqual([m.weight]);
        expect(m.bias).toBeNull();
        const want = matmul(x, m.weight, { transB: true });
        expect(arr(m.forward(x) as Tensor)).toEqual(arr(want));
        expect(nn.Jacobian.testJacobian(m, x)).toBeLessThan(1e-7);
        expect(nn.Jacobian.testJacobianParameters(m, x)).toBeLessThan(1e-7);
      }),
      { numRuns: 15 },
    );
  });

  it("initialise as Torch's (uniform within 1/sqrt(inputSize)), print, and save/load like Linear", async () => {
    manualSeed(1);
    const m = new nn.LinearNoBias(16, 50);
    const bound = 1 / Math.sqrt(16);
    const w = arr(m.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(m.describe()).toBe('nn.LinearNoBias(16 -> 50)');
    const bytes = await io.moduleToSafetensors(m);
    const back = new nn.LinearNoBias(16, 50);
    io.loadModuleFromSafetensors(bytes, back);
    expect(arr(back.weight)).toEqual(w);
    // A plain Linear with its bias cannot take the file (strict load: the bias is missing).
    expect(() => io.loadModuleFromSafetensors(bytes, new nn.Linear(16, 50))).toThrow(/bias/);
  });

  it('noBias() drops the bias for good: outputs, parameters and printing follow', () => {
    manualSeed(2);
    const m = new nn.Linear(3, 2).double();
    const x = randn([4, 3], f64);
    expect(m.noBias()).toBe(m);
    expect(m.bias).toBeNull();
    expect(m.gradBias).toBeNull();
    expect(m.withBias).toBe(false);
    expect(m.parameters()[0]).toEqual([m.weight]);
    expect(arr(m.forward(x) as Tensor)).toEqual(arr(matmul(x, m.weight, { transB: true })));
    expect(m.describe()).toBe('nn.Linear(3 -> 2) without bias');
    expect(m.noBias().parameters()[0].length).toBe(1);
  });
});

describe('nn.SAdd', () => {
  it('gives x + addend, or -(x + addend) with negate; gradInput is gradOutput, negated with negate', () => {
    fc.assert(
      fc.property(
        fc.array(realIn(-1e3, 1e3), { minLength: 1, maxLength: 8 }),
        realIn(-1e3, 1e3),
        fc.boolean(),
        (xs, a, negate) => {
          const x = tensor(xs, f64);
          const g = tensor(
            xs.map((v) => v * 0.5 + 1),
            f64,
          );
          const m = new nn.SAdd(a, negate);
          const s = negate ? -1 : 1;
          expect(arr(m.forward(x) as Tensor)).toEqual(xs.map((v) => s * (v + a) + 0));
          expect(arr(m.backward(x, g) as Tensor)).toEqual(arr(g).map((v) => s * v + 0));
        },
      ),
      { numRuns: 50 },
    );
    expect(nn.Jacobian.testJacobian(new nn.SAdd(2, true), randn([3, 2], f64))).toBeLessThan(1e-8);
    expect(new nn.SAdd(2, true).describe()).toBe('nn.SAdd(2, negate)');
  });
});

describe('nn.ZeroGrad and nn.CopyGrad', () => {
  it('ZeroGrad passes tensors and tables through and gives zero gradients, also to the layers before it', () => {
    manualSeed(4);
    const x = randn([2, 3], f64);
    const z = new nn.ZeroGrad();
    expect(arr(z.forward(x) as Tensor)).toEqual(arr(x));
    const gi = z.backward(x, randn([2, 3], f64)) as Tensor;
    expect(gi.shape).toEqual([2, 3]);
    expect(arr(gi).every((v) => v === 0)).toBe(true);
    const table = [x, [randn([4], f64)]];
    const out = z.forward(table) as [Tensor, [Tensor]];
    expect(arr(out[1][0])).toEqual(arr((table[1] as Tensor[])[0]!));
    const gt = z.backward(table, [randn([2, 3], f64), [randn([4], f64)]]) as [Tensor, [Tensor]];
    expect([...arr(gt[0]), ...arr(gt[1][0])].every((v) => v === 0)).toBe(true);
    // The modern way too: the Linear before a ZeroGrad gets no gradient, the one after does.
    const net = new nn.Sequential()
      .add(new nn.Linear(3, 3))
      .add(new nn.ZeroGrad())
      .add(new nn.Linear(3, 1))
      .double();
    sum(net.forward(x) as Tensor).backward();
    const [first, , last] = net.modules as [nn.Linear, nn.ZeroGrad, nn.Linear];
    expect(arr(first.gradWeight).every((v) => v === 0)).toBe(true);
    expect(arr(last.gradWeight).some((v) => v !== 0)).toBe(true);
  });

  it('CopyGrad is the identity forward, and its gradInput equals gradOutput in storage of its own', () => {
    manualSeed(5);
    const x = randn([3, 2], f64);
    const g = randn([3, 2], f64);
    const c = new nn.CopyGrad();
    expect(arr(c.forward(x) as Tensor)).toEqual(arr(x));
    const gi = c.backward(x, g) as Tensor;
    expect(arr(gi)).toEqual(arr(g));
    expect(gi.storage).not.toBe(g.storage);
    // Unlike Identity's, which shares it (why CopyGrad exists).
    const id = new nn.Identity();
    id.forward(x);
    expect((id.backward(x, g) as Tensor).storage).toBe(g.storage);
    g.fill_(7);
    expect(arr(gi).includes(7)).toBe(false);
  });
});

/**
 * Torch's Padding:updateOutput on plain arrays, with Torch's 1-based `dim` and `index`: output position j
 * (1-based) along dim reads input j before the insertion point, j - pad after the padding, else `value`.
 */
function torchPadding(
  data: readonly number[],
  shape: readonly number[],
  dim: number,
  pad: number,
  value: number,
  index: number,
): { data: number[]; shape: number[] } {
  const size = shape[dim - 1]!;
  let at = index;
  let p = pad;
  if (p > 0) at = size - index + 2;
  else p = -p;
  const outShape = shape.map((s, k) => (k === dim - 1 ? s + p : s));
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  const total = outShape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    const coord = outShape.map((_, k) => {
      const below = outShape.slice(k + 1).reduce((a, b) => a * b, 1);
      const c = Math.floor(rest / below);
      rest %= below;
      return c;
    });
    const j = coord[dim - 1]! + 1;
    const src = j < at ? j : j >= at + p ? j - p : 0;
    if (src === 0) out.push(value);
    else out.push(data[coord.reduce((a, c, k) => a + (k === dim - 1 ? src - 1 : c) * strides[k]!, 0)]!);
  }
  return { data: out, shape: outShape };
}

describe('nn.Padding', () => {
  const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
  it("equals Torch's algorithm (dim and index + 1) on every dim, pad and index; batches with nInputDim", () => {
    fc.assert(
      fc.property(
        shapes.chain((s) =>
          fc.record({
            s: fc.constant(s),
            dim: fc.nat(s.length - 1),
            pad: fc.integer({ min: -3, max: 3 }),
            value: fc.constantFrom(0, -2.5),
            batch: fc.boolean(),
            index: fc.nat(s[s.length - 1]!),
          }),
        ),
        ({ s, dim, pad, value, batch, index }) => {
          // With a batch, the module's dim is one less (nInputDim = rank - 1); without, nInputDim is the rank.
          const useBatch = batch && dim > 0;
          const i = Math.min(index, s[dim]!);
          const xs = Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => k + 1);
          const m = useBatch
            ? new nn.Padding(dim - 1, pad, s.length - 1, value, i)
            : new nn.Padding(dim, pad, s.length, value, i);
          const y = m.forward(tensor(xs, { shape: s, dtype: 'float64' })) as Tensor;
          const want = torchPadding(xs, s, dim + 1, pad, value, i + 1);
          expect(y.shape).toEqual(want.shape);
          expect(arr(y)).toEqual(want.data);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('has the gradient of its forward (float64 central differences), pad 0 too; a negative dim counts from the end', () => {
    manualSeed(6);
    const x = randn([2, 3, 2], f64);
    for (const m of [
      new nn.Padding(1, -2, undefined, 1, 1),
      new nn.Padding(-1, 3),
      new nn.Padding(0, 1, 2),
      new nn.Padding(1, 0), // nothing inserted: the input itself, its gradient passed through
    ]) {
      expect(nn.Jacobian.testJacobian(m, x), m.describe()).toBeLessThan(1e-8);
    }
    expect((new nn.Padding(-1, 2).forward(x) as Tensor).shape).toEqual([2, 3, 4]);
    expect((new nn.Padding(0, 1, 2).forward(x) as Tensor).shape).toEqual([2, 4, 2]);
  });
});

describe('bad inputs name the module, what it got and what it expected', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'LinearNoBias size',
      () => new nn.LinearNoBias(0, 2),
      /nn\.LinearNoBias: inputSize must be a positive integer, got 0/,
    ],
    [
      'LinearNoBias input',
      () => new nn.LinearNoBias(3, 2).forward(randn([2, 4])),
      /nn\.LinearNoBias\(3 -> 2\): input: has shape \[2, 4\], expected \[3\] or \[N, 3\]/,
    ],
    ['SAdd addend', () => new nn.SAdd(Number.NaN), /nn\.SAdd: addend must be a number, got NaN/],
    [
      'SAdd int32',
      () => new nn.SAdd(1).forward(tensor([1], { dtype: 'int32' })),
      /nn\.SAdd\(1\): input: has dtype int32/,
    ],
    ['Padding pad', () => new nn.Padding(0, 1.5), /nn\.Padding: pad must be an integer, got 1\.5/],
    [
      'Padding index',
      () => new nn.Padding(0, 1, undefined, 0, -1),
      /nn\.Padding: index must be a non-negative integer/,
    ],
    [
      'Padding dim',
      () => new nn.Padding(2, 1).forward(randn([2, 3])),
      /nn\.Padding\(dim 2, pad 1\): dim: 2 is out of range for an input of shape \[2, 3\]/,
    ],
    [
      'Padding index beyond the size',
      () => new nn.Padding(1, -1, undefined, 0, 4).forward(randn([2, 3])),
      /index: 4 is out of range for dimension 1 of size 3 .*expected 0 to 3/,
    ],
    [
      'Padding rank against nInputDim',
      () => new nn.Padding(0, 1, 1).forward(randn([2, 3, 4])),
      /input: has shape \[2, 3, 4\] \(3 dimension\(s\)\), expected 1 \(nInputDim\) or 2 for a batch/,
    ],
    [
      'Padding an int32 input with a fraction',
      () => new nn.Padding(0, 1, undefined, 0.5).forward(tensor([1, 2], { dtype: 'int32' })),
      /value: 0\.5 cannot pad an int32 input/,
    ],
    [
      'ZeroGrad backward before forward',
      () => new nn.ZeroGrad().backward(randn([1]), randn([1])),
      /nn\.ZeroGrad: backward: called before forward/,
    ],
  ];
  it.each(cases)('%s', (_name, run, message) => {
    expect(run).toThrow(message);
  });
});

describe('the new modules follow the nn protocol: clone(), double(), saving', () => {
  it('clone() and double() give the same outputs; TrimZero and LinearNoBias save and load', async () => {
    manualSeed(11);
    const x = tensor([
      [1, 2, 3],
      [0, 0, 0],
      [4, 5, 6],
    ]);
    const modules: nn.Module[] = [
      new nn.LinearNoBias(3, 2),
      new nn.SAdd(0.5, true),
      new nn.ZeroGrad(),
      new nn.CopyGrad(),
      new nn.Padding(1, 2, undefined, -1, 1),
      new nn.TrimZero(new nn.LinearNoBias(3, 2), 1),
    ];
    for (const m of modules) {
      const want = arr(m.forward(x) as Tensor);
      expect(arr(m.clone().forward(x) as Tensor), m.describe()).toEqual(want);
      const d = m.clone().double();
      const got = arr(d.forward(x.cast('float64')) as Tensor);
      got.forEach((v, i) =>
        expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))),
      );
    }
    const trim = modules[5]!;
    const back = new nn.TrimZero(new nn.LinearNoBias(3, 2), 1);
    io.loadModuleFromSafetensors(await io.moduleToSafetensors(trim), back);
    expect(arr(back.forward(x) as Tensor)).toEqual(arr(trim.forward(x) as Tensor));
  });
});
