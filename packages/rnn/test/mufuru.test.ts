import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  cast,
  io,
  manualSeed,
  memory,
  nn,
  ones,
  randn,
  select,
  sum,
  tensor,
  tidy,
  unbind,
  zeros,
} from '@webrnn/rnn';
import { MUFURU_OPS } from '../src/rnn/cells/mufuruOps.js';
import { close } from './helpers/compare.js';
import { seqSizes } from './helpers/arbitraries.js';
import { f64, jacobian } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';
import { type FixtureTensor, loadFixture } from './lstmHelpers.js';

/**
 * nn.MuFuRu (Element-research's multi-function recurrent unit): against ER's MuFuRu.lua written with PyTorch ops
 * (fixtures/mufuru.json, scripts/golden/make_recurrent_parity.py), what single operations must give, Torch's
 * gradient of sqrt_diff at h = v, central differences, the step-wise protocol, io, errors and WebGPU.
 */
const gpu = await webgpuForFile('nn.MuFuRu');

const t64 = (f: FixtureTensor) => tensor(Float64Array.from(f.data), { shape: f.shape, dtype: 'float64' });
const ALL = ['keep', 'replace', 'mul', 'diff', 'forget', 'sqrt_diff', 'max', 'min'] as const;

describe('nn.MuFuRu', () => {
  const cases = loadFixture('mufuru.json');
  if (!cases) it.skip('needs fixtures/mufuru.json (scripts/golden/make_recurrent_parity.py)', () => {});
  for (const c of cases ?? []) {
    it(`gives the outputs and gradients of ER's graph in PyTorch: ${c.name}`, () => {
      tidy(() => {
        const inp = c.inputs as Record<string, FixtureTensor>;
        const x = t64(inp.x!);
        const [, , D] = x.shape as [number, number, number];
        const ops = (c.params as { ops: nn.MuFuRuOp[] }).ops;
        const H = inp['resetHidden.weight']!.shape[0]!;
        const m = new nn.MuFuRu(D, H, ops).double();
        const dict = Object.fromEntries(io.namedParameters(m).map(([name]) => [name, t64(inp[name]!)]));
        expect(io.loadStateDict(m, dict)).toEqual({ missing: [], unexpected: [] });
        const seq = new nn.Sequencer(m);
        close(seq.forward(x) as Tensor, t64(c.outputs.output as FixtureTensor), 'output', 1e-12);
        const gin = seq.backward(x, t64(inp.R!)) as Tensor;
        const grads = c.grads as Record<string, FixtureTensor>;
        close(gin, t64(grads.x!), 'gradInput', 1e-12);
        for (const [name, p] of io.namedParameters(m))
          close(p.grad!, t64(grads[name]!), `grad ${name}`, 1e-12);
        seq.dispose();
      });
    });
  }

  it('one operation alone: keep holds h0, forget gives 0, replace gives the feature vector σ(...) in (0, 1)', () => {
    fc.assert(
      fc.property(seqSizes({}), ({ T, N, D, H, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const xs = unbind(randn([T, N, D], f64), 0);
          const h0 = randn([N, H], f64);
          const keep = new nn.MuFuRu(D, H, ['keep']).double();
          keep.userPrevOutput = h0;
          for (const x of xs) close(keep.forward(x) as Tensor, h0, 'keep');
          const forget = new nn.MuFuRu(D, H, ['forget']).double();
          forget.userPrevOutput = h0;
          for (const x of xs) close(forget.forward(x) as Tensor, zeros([N, H], f64), 'forget');
          const replace = new nn.MuFuRu(D, H, ['replace']).double();
          for (const x of xs) {
            const y = (replace.forward(x) as Tensor).dataSync();
            expect(Array.from(y).every((v) => v > 0 && v < 1)).toBe(true);
          }
          // keep and replace: a convex mix of h_prev and v, so from h0 in (0, 1) it stays in (0, 1).
          const gru = new nn.MuFuRu(D, H, ['keep', 'replace']).double();
          gru.userPrevOutput = ones([N, H], f64).mul(0.5);
          for (const x of xs) {
            expect(Array.from((gru.forward(x) as Tensor).dataSync()).every((v) => v > 0 && v < 1)).toBe(true);
          }
          for (const m of [keep, forget, replace, gru]) m.dispose();
        });
      }),
      { numRuns: 10 },
    );
  });

  it("sqrt_diff has Torch's gradient: 1/8 sign(h - v)/sqrt|h - v|, and 0 where h = v (nn.Sqrt's rule)", () => {
    tidy(() => {
      const h = tensor([0.5, 2, -1, 3], { dtype: 'float64', requiresGrad: true });
      const v = tensor([0.5, 1, 3, 3], { dtype: 'float64', requiresGrad: true });
      const y = MUFURU_OPS.sqrt_diff(h, v);
      expect(Array.from(y.dataSync())).toEqual([0, 0.25, 0.25 * 2, 0]);
      sum(y).backward();
      const gh = Array.from(h.grad!.dataSync());
      expect(gh).toEqual([0, 0.125, -0.125 / 2, 0]);
      expect(Array.from(v.grad!.dataSync(), (g) => g + 0)).toEqual(gh.map((g) => -g + 0));
      // max and min send the gradient to h at ties, as Torch's nn.Max/nn.Min over the stacked pair.
      h.grad = null;
      v.grad = null;
      sum(MUFURU_OPS.max(h, v)).backward();
      expect(Array.from(h.grad!.dataSync())).toEqual([1, 1, 0, 1]);
    });
  });

  it('passes Jacobian checks over a sequence (all ops; a subset; single samples [D])', () => {
    manualSeed(21);
    jacobian(new nn.Sequencer(new nn.MuFuRu(3, 4).double()), randn([3, 2, 3], f64), 1);
    jacobian(
      new nn.Sequencer(new nn.MuFuRu(2, 3, ['mul', 'diff', 'max']).double()),
      randn([3, 2, 2], f64),
      2,
    );
    jacobian(new nn.Sequencer(new nn.MuFuRu(2, 3).double()), unbind(randn([3, 2], f64), 0), 3);
  });

  it('step by step (a Recursor, backward in reverse) equals the Sequencer; forget() starts anew', () => {
    manualSeed(22);
    const [T, N, D, H] = [4, 2, 3, 3];
    const a = new nn.MuFuRu(D, H).double();
    const b = a.clone();
    const x = randn([T, N, D], f64);
    const g = randn([T, N, H], f64);
    const seq = new nn.Sequencer(a);
    const y = seq.forward(x) as Tensor;
    const gin = seq.backward(x, g) as Tensor;
    const rec = new nn.Recursor(b);
    const xs = unbind(x, 0);
    const ys = xs.map((xt) => rec.forward(xt) as Tensor);
    const gins: Tensor[] = [];
    for (let t = T - 1; t >= 0; t--) gins.unshift(rec.backward(xs[t]!, select(g, 0, t)) as Tensor);
    ys.forEach((yt, t) => close(yt, select(y, 0, t), `output ${t}`));
    gins.forEach((gt, t) => close(gt, select(gin, 0, t), `gradInput ${t}`));
    a.parameters()[1].forEach((ga, i) => close(ga, b.parameters()[1][i]!, `grad ${i}`));
    rec.forget();
    close(rec.forward(xs[0]!) as Tensor, ys[0]!, 'after forget');
  });

  it('prints as Torch, converts, clones, saves and loads', async () => {
    manualSeed(23);
    const m = new nn.MuFuRu(3, 4, ['keep', 'replace', 'max']);
    expect(String(m)).toBe('nn.MuFuRu(3 -> 4) { keep replace max }');
    expect(String(new nn.MuFuRu(1, 1))).toBe(`nn.MuFuRu(1 -> 1) { ${ALL.join(' ')} }`);
    expect(m.parameters()[0].map((p) => p.shape)).toEqual([
      [4, 3],
      [4],
      [4, 4],
      [4],
      [4, 7],
      [4],
      [12, 7],
      [12],
    ]);
    const x = randn([2, 2, 3]);
    const seq = new nn.Sequencer(m);
    const y = seq.forward(x) as Tensor;
    const bytes = await io.moduleToSafetensors(seq);
    manualSeed(24);
    const other = new nn.Sequencer(new nn.MuFuRu(3, 4, ['keep', 'replace', 'max']));
    io.loadModuleFromSafetensors(bytes, other);
    close(other.forward(x) as Tensor, y, 'loaded', 0);
    close(seq.clone().forward(x) as Tensor, y, 'clone', 0);
    const d = seq.clone().double();
    close(cast(d.forward(cast(x, 'float64')) as Tensor, 'float32'), y, 'double', 1e-6);
  });

  it('refuses bad arguments and inputs, naming the module', () => {
    const ctor = nn.MuFuRu as unknown as new (...a: unknown[]) => nn.MuFuRu;
    expect(() => new ctor(3, 4, 5)).toThrow(
      'nn.MuFuRu: ops must be a list of operation names (the arguments are inputSize, outputSize, ops, rho), got 5',
    );
    expect(() => new ctor(3, 4, ['keep', 'tanh'])).toThrow(
      'nn.MuFuRu: unknown operation "tanh", expected one of keep, replace, mul, diff, forget, sqrt_diff, max, min',
    );
    expect(() => new ctor(3, 4, [])).toThrow('nn.MuFuRu: ops must name at least one operation');
    expect(() => new ctor(0, 4)).toThrow(/nn.MuFuRu.*inputSize must be a positive integer/);
    const before = memory().tensors;
    const m = new nn.MuFuRu(3, 4);
    expect(() => tidy(() => m.forward(randn([2, 5])))).toThrow(
      'nn.MuFuRu(3 -> 4) { keep replace mul diff forget sqrt_diff max min }: input: has shape [2, 5], expected [N, 3] or [3]',
    );
    tidy(() => {
      m.forward(randn([2, 3]));
    });
    expect(() => tidy(() => m.forward(randn([3, 3])))).toThrow(
      /the batch size cannot change within a sequence/,
    );
    m.dispose();
    expect(memory().tensors).toBe(before);
  });

  it.skipIf(!gpu)('on WebGPU equals the CPU (outputs, gradInput, every gradient)', async () => {
    const run = (device: 'cpu' | 'webgpu') => {
      manualSeed(25);
      const m = new nn.Sequencer(new nn.MuFuRu(3, 4)).to(device);
      const x = randn([4, 2, 3]).to(device);
      const g = randn([4, 2, 4]).to(device);
      const y = m.forward(x) as Tensor;
      const gi = m.backward(x, g) as Tensor;
      return [y, gi, ...m.parameters()[1]];
    };
    const a = run('cpu');
    const b = run('webgpu');
    for (let i = 0; i < a.length; i++) await expectCloseToCpu(`tensor ${i}`, a[i]!, b[i]!, 1e-3);
  });
});
