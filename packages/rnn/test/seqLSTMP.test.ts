import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  cat,
  cast,
  zeros,
  io,
  manualSeed,
  narrow,
  nn,
  noGrad,
  randn,
  tensor,
  tidy,
  transpose,
} from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { seqSizes } from './helpers/arbitraries.js';
import { f64, jacobian } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';
import { type FixtureTensor, loadFixture, tensorsOf } from './lstmHelpers.js';
import { copyParams } from './recurrentHelpers.js';

/**
 * nn.SeqLSTMP (Element-research's LSTM with a projection, always on): against PyTorch's LSTM(proj_size) and the
 * same equations written with torch ops for R >= H (fixtures/seqlstmp.json, scripts/golden/make_recurrent_parity.py),
 * against SeqLSTM(D, H, R) where both have a projection, against SeqLSTM(D, H) when weightO is the identity, and
 * by central differences; its relation to SeqLSTM(D, H, H) (no projection there), init, io, errors, WebGPU.
 */
const gpu = await webgpuForFile('nn.SeqLSTMP');

const t64 = (f: FixtureTensor) => tensor(Float64Array.from(f.data), { shape: f.shape, dtype: 'float64' });
/** SeqLSTM's gate block k (i, f, o, g) is PyTorch's block PT[k] (i, f, g, o). */
const PT = [0, 1, 3, 2];

describe('nn.SeqLSTMP', () => {
  const cases = loadFixture('seqlstmp.json');
  if (!cases) it.skip('needs fixtures/seqlstmp.json (scripts/golden/make_recurrent_parity.py)', () => {});
  for (const c of cases ?? []) {
    it(`gives PyTorch's outputs and gradients: ${c.name}`, () => {
      tidy(() => {
        const inp = tensorsOf(c.inputs);
        const out = tensorsOf(c.outputs);
        const grads = tensorsOf(c.grads);
        const [T, N, D] = inp.get('x')!.shape as [number, number, number];
        const R = inp.get('h0')!.shape[1]!;
        const H = inp.get('c0')!.shape[1]!;
        const m = new nn.SeqLSTMP(D, H, R).double();
        const wih = t64(inp.get('weight_ih_l0')!);
        const whh = t64(inp.get('weight_hh_l0')!);
        const b = t64(inp.get('bias_ih_l0')!).add(t64(inp.get('bias_hh_l0')!));
        const block = (t: Tensor, k: number) => narrow(t, 0, PT[k]! * H, H);
        noGrad(() => {
          for (let k = 0; k < 4; k++) {
            narrow(narrow(m.weight, 0, 0, D), 1, k * H, H).copy_(transpose(block(wih, k), 0, 1));
            narrow(narrow(m.weight, 0, D, R), 1, k * H, H).copy_(transpose(block(whh, k), 0, 1));
            narrow(m.bias, 0, k * H, H).copy_(block(b, k));
          }
          m.weightO.copy_(transpose(t64(inp.get('weight_hr_l0')!), 0, 1));
        });
        const x = t64(inp.get('x')!);
        const h0 = t64(inp.get('h0')!);
        const c0 = t64(inp.get('c0')!);
        const y = m.forward([c0, h0, x]) as Tensor;
        close(y, t64(out.get('output')!), 'output', 1e-12);
        close(narrow(m.cell!, 0, T - 1, 1).reshape([N, H]), t64(out.get('c_n')!), 'last cell', 1e-12);
        const gin = m.backward([c0, h0, x], t64(inp.get('r')!)) as Tensor[];
        close(gin[2]!, t64(grads.get('x')!), 'gradInput x', 1e-12);
        close(gin[1]!, t64(grads.get('h0')!), 'gradInput h0', 1e-12);
        close(gin[0]!, t64(grads.get('c0')!), 'gradInput c0', 1e-12);
        // Weight gradients, mapped back to PyTorch's layout (the summed bias gets both bias gradients).
        const gih = t64(grads.get('weight_ih_l0')!);
        const ghh = t64(grads.get('weight_hh_l0')!);
        for (let k = 0; k < 4; k++) {
          const gw = narrow(m.gradWeight, 1, k * H, H);
          close(transpose(narrow(gw, 0, 0, D), 0, 1), block(gih, k), `gradWeight (x) gate ${k}`, 1e-12);
          close(transpose(narrow(gw, 0, D, R), 0, 1), block(ghh, k), `gradWeight (r) gate ${k}`, 1e-12);
          close(
            narrow(m.gradBias, 0, k * H, H),
            block(t64(grads.get('bias_ih_l0')!), k),
            `gradBias ${k}`,
            1e-12,
          );
        }
        close(m.gradWeightO!, transpose(t64(grads.get('weight_hr_l0')!), 0, 1), 'gradWeightO', 1e-12);
        m.dispose();
      });
    });
  }

  it('always has a projection; SeqLSTM(D, H, H) has none, SeqLSTM(D, H, R != H) is the same layer', () => {
    manualSeed(3);
    const p = new nn.SeqLSTMP(4, 3, 3);
    expect(p.parameters()[0].map((t) => t.shape)).toEqual([[7, 12], [12], [3, 3]]);
    expect(new nn.SeqLSTM(4, 3, 3).weightO).toBeNull();
    expect(String(p)).toBe('nn.SeqLSTMP(4 -> 3 -> 3)');
    fc.assert(
      fc.property(seqSizes({ R: fc.integer({ min: 1, max: 4 }) }), ({ T, N, D, H, R, seed }) => {
        fc.pre(R !== H);
        tidy(() => {
          manualSeed(seed);
          const a = new nn.SeqLSTMP(D, H, R).double();
          const b = new nn.SeqLSTM(D, H, R).double();
          copyParams(a, b);
          const x = randn([T, N, D], f64);
          const g = randn([T, N, R], f64);
          close(a.forward(x) as Tensor, b.forward(x) as Tensor, 'output');
          close(a.backward(x, g) as Tensor, b.backward(x, g) as Tensor, 'gradInput');
          a.parameters()[1].forEach((ga, i) => close(ga, b.parameters()[1][i]!, `grad ${i}`));
          a.dispose();
          b.dispose();
        });
      }),
      { numRuns: 15 },
    );
  });

  it('with weightO = I computes SeqLSTM(D, H) (outputs, gradInput, gradWeight)', () => {
    fc.assert(
      fc.property(seqSizes({}), ({ T, N, D, H, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const p = new nn.SeqLSTMP(D, H, H).double();
          const s = new nn.SeqLSTM(D, H).double();
          noGrad(() => {
            s.weight.copy_(p.weight);
            s.bias.copy_(p.bias);
            p.weightO.copy_(
              tensor(
                Array.from({ length: H * H }, (_, i) => (i % (H + 1) === 0 ? 1 : 0)),
                { shape: [H, H], dtype: 'float64' },
              ),
            );
          });
          const x = randn([T, N, D], f64);
          const g = randn([T, N, H], f64);
          const y = p.forward(x) as Tensor;
          close(y, s.forward(x) as Tensor, 'output');
          close(p.backward(x, g) as Tensor, s.backward(x, g) as Tensor, 'gradInput');
          close(p.gradWeight, s.gradWeight, 'gradWeight');
          p.dispose();
          s.dispose();
        });
      }),
      { numRuns: 10 },
    );
  });

  it('passes Jacobian checks (R < H, R == H, R > H; [c0, h0, x]; batchfirst; a zero mask)', () => {
    manualSeed(12);
    const [T, N, D] = [3, 2, 2];
    jacobian(new nn.SeqLSTMP(D, 3, 2).double(), randn([T, N, D], f64), 1);
    jacobian(new nn.SeqLSTMP(D, 3, 3).double(), randn([T, N, D], f64), 2);
    jacobian(
      new nn.SeqLSTMP(D, 2, 3).double(),
      [randn([N, 2], f64), randn([N, 3], f64), randn([T, N, D], f64)],
      3,
    );
    const bf = new nn.SeqLSTMP(D, 3, 3).double();
    bf.batchfirst = true;
    jacobian(bf, randn([N, T, D], f64), 4);
    // An explicit mask (a zero row found by maskzero is not differentiable: central differences would unmask it).
    const mask = zeros([T, N], f64);
    noGrad(() => narrow(narrow(mask, 0, 1, 1), 1, 0, 1).fill_(1));
    jacobian(new nn.SeqLSTMP(D, 3, 2).double().setZeroMask(mask), randn([T, N, D], f64), 5);
  });

  it('remembers across sequences as SeqLSTM does: two halves equal the whole', () => {
    manualSeed(4);
    const whole = new nn.SeqLSTMP(3, 4, 4).double();
    const halves = whole.clone().remember('both');
    const x = randn([5, 2, 3], f64);
    const y = whole.forward(x) as Tensor;
    const a = halves.forward(narrow(x, 0, 0, 2)) as Tensor;
    const b = halves.forward(narrow(x, 0, 2, 3)) as Tensor;
    close(cat([a, b], 0), y, 'two remembered halves');
    halves.forget();
    close(
      halves.forward(narrow(x, 0, 2, 3)) as Tensor,
      whole.forward(narrow(x, 0, 2, 3)) as Tensor,
      'forget',
    );
  });

  it("initialises as Element-research's reset: std 1/sqrt(D + H) and 1/sqrt(H + R), forget-gate bias 1", () => {
    manualSeed(5);
    const [D, H, R] = [40, 60, 30];
    const m = new nn.SeqLSTMP(D, H, R);
    const std = (t: Tensor) => Math.sqrt(Array.from(t.dataSync()).reduce((s, v) => s + v * v, 0) / t.size);
    expect(Math.abs(std(m.weight) / (1 / Math.sqrt(D + H)) - 1)).toBeLessThan(0.03);
    expect(Math.abs(std(m.weightO) / (1 / Math.sqrt(H + R)) - 1)).toBeLessThan(0.03);
    const b = Array.from(m.bias.dataSync());
    expect(b.map((v, i) => (i >= H && i < 2 * H ? v === 1 : v === 0)).every(Boolean)).toBe(true);
    m.reset(0.5);
    expect(Math.abs(std(m.weightO) / 0.5 - 1)).toBeLessThan(0.05);
  });

  it('converts with type(), clones, and saves and loads through io', async () => {
    manualSeed(6);
    const a = new nn.SeqLSTMP(3, 2, 2);
    const x = randn([2, 2, 3]);
    const y = a.forward(x) as Tensor;
    const c = a.clone();
    close(c.forward(x) as Tensor, y, 'clone', 0);
    expect(c.weightO).not.toBe(a.weightO);
    const bytes = await io.moduleToSafetensors(a);
    manualSeed(7);
    const b = new nn.SeqLSTMP(3, 2, 2);
    expect(io.loadModuleFromSafetensors(bytes, b).missing).toEqual([]);
    close(b.forward(x) as Tensor, y, 'loaded', 0);
    const d = a.clone().double();
    expect(d.weightO.dtype).toBe('float64');
    close(cast(d.forward(cast(x, 'float64')) as Tensor, 'float32'), y, 'double', 1e-6);
  });

  it('refuses bad arguments and inputs, naming the module', () => {
    const ctor = nn.SeqLSTMP as unknown as new (...a: unknown[]) => nn.SeqLSTMP;
    expect(() => new ctor(3, 2)).toThrow('nn.SeqLSTMP: expected inputSize, hiddenSize and outputSize');
    expect(() => new ctor(3, 2, 0)).toThrow(/nn.SeqLSTMP.*outputSize/);
    const m = new nn.SeqLSTMP(3, 2, 4);
    expect(() => m.forward(randn([2, 3]))).toThrow(
      'nn.SeqLSTMP(3 -> 2 -> 4): input: has shape [2, 3], expected a float [T, N, 3] sequence',
    );
    expect(() => m.forward([randn([2, 2]), randn([2, 2, 3])])).toThrow(/nn.SeqLSTMP\(3 -> 2 -> 4\)/);
    expect(() => m.toFastLSTM()).toThrow('nn.SeqLSTMP.toFastLSTM: not supported');
  });

  it.skipIf(!gpu)('on WebGPU equals the CPU (outputs, gradInput, every gradient)', async () => {
    const run = (device: 'cpu' | 'webgpu') => {
      manualSeed(8);
      const m = new nn.SeqLSTMP(3, 4, 4).to(device);
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
