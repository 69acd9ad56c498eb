import { describe, expect, it } from 'vitest';
import { type Tensor, cast, io, manualSeed, memory, nn, randn, tensor, tidy, unbind } from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { f64, jacobian } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';
import { type FixtureTensor, loadFixture } from './lstmHelpers.js';

/**
 * nn.FastLSTM with recurrent batch normalisation (Element-research's `nn.FastLSTM.bn = true`): against its nngraph
 * model written with PyTorch ops and F.batch_norm (fixtures/fastlstm_bn.json, scripts/golden/make_recurrent_parity.py)
 * in training (outputs, gradients, running statistics) and evaluation, central differences, the class switch and
 * ER's positional eps/momentum/affine, type/clone/dispose of the running statistics, errors, WebGPU.
 */
const gpu = await webgpuForFile('nn.FastLSTM bn');

const t64 = (f: FixtureTensor) => tensor(Float64Array.from(f.data), { shape: f.shape, dtype: 'float64' });
const NORMS = ['bnWx', 'bnWh', 'bnC'] as const;

describe('nn.FastLSTM with recurrent batch normalisation (bn)', () => {
  const cases = loadFixture('fastlstm_bn.json');
  if (!cases) it.skip('needs fixtures/fastlstm_bn.json (scripts/golden/make_recurrent_parity.py)', () => {});
  for (const c of cases ?? []) {
    it(`gives PyTorch's training outputs, gradients, running statistics and evaluation: ${c.name}`, () => {
      tidy(() => {
        const inp = c.inputs as Record<string, FixtureTensor>;
        const out = c.outputs as Record<string, FixtureTensor>;
        const grads = c.grads as Record<string, FixtureTensor>;
        const { D, H, affine } = c.params as { D: number; H: number; affine: boolean };
        const m = new nn.FastLSTM(D, H, undefined, { bn: true, affine }).double();
        const named = io.namedParameters(m);
        expect(named.map(([n]) => n).sort()).toEqual(
          Object.keys(grads)
            .filter((k) => k !== 'x')
            .sort(),
        );
        // The fixture's running statistics start at 0 and 1, as the module's: only the parameters are loaded.
        const loaded = io.loadStateDict(m, Object.fromEntries(named.map(([n]) => [n, t64(inp[n]!)])), {
          strict: false,
        });
        expect(loaded.missing).toEqual(io.namedBuffers(m).map(([n]) => n));
        const seq = new nn.Sequencer(m);
        const x = t64(inp.x!);
        close(seq.forward(x) as Tensor, t64(out.output!), 'output', 1e-12);
        close(seq.backward(x, t64(inp.R!)) as Tensor, t64(grads.x!), 'gradInput', 1e-12);
        for (const [n, p] of named) close(p.grad!, t64(grads[n]!), `grad ${n}`, 1e-12);
        for (const k of NORMS) {
          close(m[k]!.runningMean, t64(out[`${k}.running_mean`]!), `${k} running mean`, 1e-12);
          close(m[k]!.runningVar, t64(out[`${k}.running_var`]!), `${k} running var`, 1e-12);
        }
        seq.evaluate();
        close(seq.forward(t64(inp.x2!)) as Tensor, t64(out.evaluated!), 'evaluation', 1e-12);
        seq.dispose();
      });
    });
  }

  it("the class switch nn.FastLSTM.bn and ER's positional (rho, eps, momentum, affine, p, mono)", () => {
    const before = nn.FastLSTM.bn;
    try {
      nn.FastLSTM.bn = true;
      manualSeed(1);
      const m = new nn.FastLSTM(3, 4, 9, 1e-3, 0.5, false, 0.25, true);
      expect([m.bn, m.bnWx!.eps, m.bnWx!.momentum, m.bnWx!.affine, m.p, m.mono]).toEqual([
        true,
        1e-3,
        0.5,
        false,
        0.25,
        true,
      ]);
      expect(io.namedParameters(m).map(([n]) => n)).toEqual([
        'i2g.weight',
        'i2g.bias',
        'o2g.weight',
        'biasWh.bias',
      ]);
      nn.FastLSTM.bn = false;
      expect(new nn.FastLSTM(3, 4).bn).toBe(false);
      expect(new nn.FastLSTM(3, 4, 9, { bn: true }).bn).toBe(true);
      m.dispose();
    } finally {
      nn.FastLSTM.bn = before;
    }
  });

  it("initialises as ER: scales 0.1, shifts 0, running mean 0 and variance 1; torch/nn's reset()", () => {
    manualSeed(2);
    const m = new nn.FastLSTM(3, 4, undefined, { bn: true });
    for (const k of NORMS) {
      const n = m[k]!;
      expect(Array.from(n.weight!.dataSync()).every((v) => Math.abs(v - 0.1) < 1e-7)).toBe(true);
      expect(Array.from(n.bias!.dataSync()).every((v) => v === 0)).toBe(true);
      expect(Array.from(n.runningMean.dataSync()).every((v) => v === 0)).toBe(true);
      expect(Array.from(n.runningVar.dataSync()).every((v) => v === 1)).toBe(true);
    }
    const b = Array.from(m.biasWh!.bias.dataSync());
    expect(b.every((v) => Math.abs(v) <= 1 / Math.sqrt(16))).toBe(true);
    m.forward(randn([3, 3]));
    m.reset();
    const w = Array.from(m.bnC!.weight!.dataSync());
    expect(w.every((v) => v >= 0 && v < 1) && new Set(w).size > 1).toBe(true);
    expect(Array.from(m.bnC!.runningVar.dataSync()).every((v) => v === 1)).toBe(true);
  });

  it('passes Jacobian checks in training (affine or not, with dropout)', () => {
    manualSeed(3);
    jacobian(
      new nn.Sequencer(new nn.FastLSTM(2, 3, undefined, { bn: true }).double()),
      randn([3, 3, 2], f64),
      1,
    );
    jacobian(
      new nn.Sequencer(new nn.FastLSTM(2, 2, undefined, { bn: true, affine: false }).double()),
      randn([2, 4, 2], f64),
      2,
    );
    jacobian(
      new nn.Sequencer(new nn.FastLSTM(2, 2, undefined, { bn: true, p: 0.3 }).double()),
      randn([2, 3, 2], f64),
      3,
    );
  });

  it('running statistics follow type(), clone() and are freed by a container dispose()', () => {
    const before = memory().tensors;
    manualSeed(4);
    const m = new nn.FastLSTM(2, 3, undefined, { bn: true });
    const seq = new nn.Sequencer(m);
    const x = randn([3, 4, 2]);
    tidy(() => {
      seq.forward(x);
    });
    const copy = seq.clone();
    const d = seq.clone().double();
    expect(m.bnC!.runningMean).not.toBe((copy.modules[0] as nn.FastLSTM).bnC!.runningMean);
    expect((d.modules[0] as nn.FastLSTM).bnWh!.runningVar.dtype).toBe('float64');
    for (const s of [seq, copy, d]) s.evaluate();
    tidy(() => {
      const y = seq.forward(x) as Tensor;
      close(copy.forward(x) as Tensor, y, 'clone in evaluation', 0);
      close(cast(d.forward(cast(x, 'float64')) as Tensor, 'float32'), y, 'double in evaluation', 1e-6);
    });
    for (const s of [seq, copy, d]) s.dispose();
    x.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('io saves the running statistics with the parameters (buffers): the reloaded module evaluates alike', async () => {
    manualSeed(6);
    const a = new nn.FastLSTM(2, 3, undefined, { bn: true });
    const x = randn([3, 2]);
    tidy(() => {
      a.forward(x);
    });
    a.evaluate().forget();
    const y = a.forward(x) as Tensor;
    const bytes = await io.moduleToSafetensors(a);
    manualSeed(7);
    const b = new nn.FastLSTM(2, 3, undefined, { bn: true }).evaluate();
    // Before loading, the fresh running statistics (0 and 1) give other outputs.
    expect(Array.from((b.forward(x) as Tensor).dataSync())).not.toEqual(Array.from(y.dataSync()));
    expect(io.loadModuleFromSafetensors(bytes, b).missing).toEqual([]);
    for (const k of NORMS) {
      close(b[k]!.runningMean, a[k]!.runningMean, `${k} running mean`, 0);
      close(b[k]!.runningVar, a[k]!.runningVar, `${k} running var`, 0);
    }
    close(b.forget().forward(x) as Tensor, y, 'reloaded', 0);
  });

  it('refuses single samples and (in training) a batch of one, naming the module', () => {
    const m = new nn.FastLSTM(3, 2, undefined, { bn: true });
    expect(() => m.forward(randn([3]))).toThrow(
      'nn.FastLSTM(3 -> 2): input: has shape [3]: batch normalisation needs a batch [N, 3]',
    );
    expect(() => m.forward(randn([1, 3]))).toThrow(
      /nn.FastLSTM\(3 -> 2\): input: has a batch of 1: batch normalisation in training needs N >= 2/,
    );
    m.forget().evaluate();
    expect((m.forward(randn([1, 3])) as Tensor).shape).toEqual([1, 2]);
    expect(() => new nn.FastLSTM(3, 2, undefined, { bn: true, momentum: 2 })).toThrow(
      'nn.FastLSTM: batch normalisation needs eps >= 0 and 0 <= momentum <= 1, got eps 0.00001, momentum 2',
    );
  });

  it.skipIf(!gpu)('on WebGPU equals the CPU (training, running statistics, evaluation)', async () => {
    const run = (device: 'cpu' | 'webgpu') => {
      manualSeed(5);
      const m = new nn.FastLSTM(3, 4, undefined, { bn: true });
      const seq = new nn.Sequencer(m).to(device);
      const x = randn([4, 3, 3]).to(device);
      const g = randn([4, 3, 4]).to(device);
      const y = seq.forward(x) as Tensor;
      const gi = seq.backward(x, g) as Tensor;
      const stats = NORMS.flatMap((k) => [m[k]!.runningMean.clone(), m[k]!.runningVar.clone()]);
      seq.evaluate();
      const e = seq.forward(x) as Tensor;
      return [y, gi, e, ...stats, ...seq.parameters()[1]];
    };
    const a = run('cpu');
    const b = run('webgpu');
    for (let i = 0; i < a.length; i++) await expectCloseToCpu(`tensor ${i}`, a[i]!, b[i]!, 2e-3);
  });
});
