import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * dpnn's Module:gradParamClip(cutoffNorm, moduleLocal): the norm before clipping, computed here independently from
 * the host copies of the gradients; gradients scaled in place to the cutoff when above it (direction kept), per
 * child with moduleLocal, with the per-module cutoffNorm/moduleLocal settings; and on WebGPU (async) as on the CPU.
 * Also maxParamNorm, against Torch's renorm written out on host arrays.
 */
const gpu = await webgpuForFile('gradParamClip');
const f64 = { dtype: 'float64' as const };

const normOf = (gs: readonly Tensor[]) =>
  Math.sqrt(gs.flatMap((g) => Array.from(g.dataSync())).reduce((a, v) => a + v * v, 0));
const values = (gs: readonly Tensor[]) => gs.map((g) => Array.from(g.dataSync()));

/** Two Linears with gradients from one backward, scaled by `k` (so the norm ranges widely). */
function model(seed: number, k: number): nn.Sequential {
  manualSeed(seed);
  const m = new nn.Sequential().add(new nn.Linear(4, 3)).add(new nn.Tanh()).add(new nn.Linear(3, 2)).double();
  const x = randn([5, 4], f64);
  m.forward(x);
  m.backward(x, randn([5, 2], f64).mul(k));
  return m;
}

describe('Module.gradParamClip', () => {
  it('returns the global norm and rescales every gradient to the cutoff when above it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom(0.01, 1, 100),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        (seed, k, cutoff) => {
          const m = model(seed, k);
          const grads = m.parameters()[1];
          const before = values(grads);
          const want = normOf(grads);
          const got = m.gradParamClip(cutoff);
          expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
          const scale = want > cutoff ? cutoff / want : 1;
          values(grads).forEach((g, i) =>
            g.forEach((v, j) =>
              expect(Math.abs(v - before[i]![j]! * scale)).toBeLessThanOrEqual(1e-12 * want),
            ),
          );
          expect(normOf(grads)).toBeLessThanOrEqual(Math.max(cutoff, want) * (1 + 1e-12));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('with moduleLocal clips each child on its own and returns the root of their squared norms', () => {
    const m = model(3, 100);
    const [l1, , l2] = m.modules as [nn.Linear, nn.Tanh, nn.Linear];
    const n1 = normOf(l1.parameters()[1]);
    const n2 = normOf(l2.parameters()[1]);
    expect(Math.min(n1, n2)).toBeGreaterThan(1);
    expect(m.gradParamClip(1, true)).toBeCloseTo(Math.hypot(n1, n2), 10);
    expect(normOf(l1.parameters()[1])).toBeCloseTo(1, 10);
    expect(normOf(l2.parameters()[1])).toBeCloseTo(1, 10);
  });

  it("takes a module's own cutoffNorm and moduleLocal over the arguments; a cutoff <= 0 clips nothing", () => {
    const m = model(4, 100);
    const [l1, , l2] = m.modules as [nn.Linear, nn.Tanh, nn.Linear];
    const n2 = normOf(l2.parameters()[1]);
    l1.cutoffNorm = 0.5;
    m.moduleLocal = true;
    m.gradParamClip(2);
    expect(normOf(l1.parameters()[1])).toBeCloseTo(0.5, 10);
    expect(normOf(l2.parameters()[1])).toBeCloseTo(Math.min(2, n2), 10);
    const before = values(m.parameters()[1]);
    expect(m.gradParamClip(0)).toBe(0);
    m.cutoffNorm = -1;
    expect(m.gradParamClip(1e-3)).toBe(0);
    expect(values(m.parameters()[1])).toEqual(before);
    expect(new nn.Tanh().gradParamClip(1)).toBe(0);
    expect(() => new nn.Linear(2, 2).gradParamClip(Number.NaN)).toThrow(
      'nn.Linear(2 -> 2).gradParamClip: cutoffNorm must be a number, got NaN',
    );
  });

  it.skipIf(!gpu)('gradParamClipAsync on WebGPU returns the CPU norm and clips as the CPU', async () => {
    const run = async (device: 'cpu' | 'webgpu', local: boolean) => {
      manualSeed(7);
      const m = new nn.Sequential()
        .add(new nn.Linear(6, 5))
        .add(new nn.Tanh())
        .add(new nn.Linear(5, 2))
        .to(device);
      const x = randn([4, 6]).to(device);
      m.forward(x);
      m.backward(x, randn([4, 2]).mul(30).to(device));
      const norm = await m.gradParamClipAsync(1.5, local);
      return { norm, grads: m.parameters()[1] };
    };
    for (const local of [false, true]) {
      const a = await run('cpu', local);
      const b = await run('webgpu', local);
      expect(a.norm).toBeGreaterThan(1.5);
      expect(Math.abs(a.norm - b.norm) / a.norm).toBeLessThan(1e-5);
      for (const [i, g] of a.grads.entries()) await expectCloseToCpu(`grad ${i}`, g, b.grads[i]!, 1e-4);
    }
  });
});

/** Torch's renorm(2, dim, max) on a host matrix [R, C], dim 0 (rows) or 1 (columns). */
function renormHost(w: number[][], dim: 0 | 1, max: number): number[][] {
  const R = w.length;
  const C = w[0]!.length;
  const out = w.map((r) => [...r]);
  for (let s = 0; s < (dim === 0 ? R : C); s++) {
    const cells = dim === 0 ? w[s]!.map((_, j) => [s, j]) : w.map((_, i) => [i, s]);
    const norm = Math.sqrt(cells.reduce((a, [i, j]) => a + out[i!]![j!]! ** 2, 0));
    if (norm > max) for (const [i, j] of cells) out[i!]![j!]! *= max / (norm + 1e-7);
  }
  return out;
}

describe('Module.maxParamNorm', () => {
  it("renormalises weights' rows to maxOutNorm then columns to maxInNorm, as Torch's renorm; biases untouched", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom(undefined, 0, 0.3, 1),
        fc.constantFrom(undefined, -1, 0.2, 2),
        (seed, out, inn) => {
          manualSeed(seed);
          const net = new nn.Sequential()
            .add(new nn.Linear(4, 3))
            .add(new nn.Tanh())
            .add(new nn.Linear(3, 2))
            .double();
          const before = net.parameters()[0].map((p) => p.toArraySync());
          expect(net.maxParamNorm(out, inn)).toBe(net);
          net.parameters()[0].forEach((p, k) => {
            let want = before[k]!;
            if (p.rank === 2) {
              if (out !== undefined && out > 0) want = renormHost(want as number[][], 0, out);
              if (inn !== undefined && inn > 0) want = renormHost(want as number[][], 1, inn);
            }
            const got = p.rank === 2 ? (p.toArraySync() as number[][]).flat() : (p.toArraySync() as number[]);
            const exp = p.rank === 2 ? (want as number[][]).flat() : (want as number[]);
            got.forEach((v, i) => expect(Math.abs(v - exp[i]!)).toBeLessThanOrEqual(1e-12));
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  it("takes a module's own maxOutNorm over the argument, and names a bad bound", () => {
    manualSeed(8);
    const net = new nn.Sequential().add(new nn.Linear(5, 4)).add(new nn.Linear(4, 3)).double();
    const [a, b] = net.modules as [nn.Linear, nn.Linear];
    a.maxOutNorm = 0.1;
    net.maxParamNorm(0.5);
    const rowNorms = (w: Tensor) => (w.toArraySync() as number[][]).map((r) => Math.hypot(...r));
    for (const n of rowNorms(a.weight)) expect(n).toBeLessThanOrEqual(0.1 + 1e-9);
    for (const n of rowNorms(b.weight)) expect(n).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(Math.max(...rowNorms(b.weight))).toBeGreaterThan(0.1);
    expect(() => net.maxParamNorm(Number.NaN)).toThrow(
      'nn.Sequential.maxParamNorm: maxOutNorm must be a number, got NaN',
    );
  });
});
