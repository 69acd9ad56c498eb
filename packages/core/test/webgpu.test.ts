import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, memory, noGrad, tensor, tidy } from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * Every op on WebGPU against the CPU backend, with random shapes, broadcasting and strided views. Without an
 * adapter the file is skipped with one line saying why, unless WEBRNN_REQUIRE_WEBGPU=1 (CI), where that fails.
 *
 * Tolerances: WebGPU computes in f32 (the CPU reference in f64 arithmetic rounded to f32), so results agree to a
 * few ULP for arithmetic (relative 1e-5), a few more for exp/tanh/log (WGSL's builtins are allowed a few ULP more:
 * relative 1e-4), and sums/matmuls accumulate rounding with their length (1e-5 * length, relative to the size of
 * the terms).
 */
const adapter = await webgpuForFile('webgpu');

const gpu = (t: Tensor) => t.to('webgpu');

async function same(name: string, cpu: Tensor, onGpu: Tensor, rtol: number, atol = 0): Promise<void> {
  expect(onGpu.device, name).toBe('webgpu');
  expect(onGpu.shape, name).toEqual(cpu.shape);
  expect(onGpu.dtype, name).toBe(cpu.dtype);
  const want = cpu.dataSync();
  const got = await onGpu.data();
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.max(Math.abs(want[i]!), scale * 1e-3);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
      throw new Error(`${name}: element ${i} is ${got[i]} on webgpu, ${want[i]} on cpu (tolerance ${tol})`);
    }
  }
}

const dim = (max = 5) => fc.integer({ min: 1, max });
const shape2 = fc.tuple(dim(), dim());

describe('WebGPU against the CPU backend', () => {
  it.skipIf(!adapter)('elementwise ops with broadcasting and strided views', async () => {
    await fc.assert(
      fc.asyncProperty(
        shape2,
        fc.integer({ min: 0, max: 1e6 }),
        fc.boolean(),
        async ([m, n], seed, transposed) => {
          core.manualSeed(seed);
          const base = core.randn(transposed ? [n, m] : [m, n]);
          const a = transposed ? base.t() : base;
          const b = core.randn([n]);
          const pos = core.uniform([m, n], 0.5, 2);
          const ga = transposed ? gpu(base).t() : gpu(base);
          const gb = gpu(b);
          const gpos = gpu(pos);
          const cases: [string, (x: Tensor, y: Tensor, p: Tensor) => Tensor, number][] = [
            ['add', (x, y) => x.add(y), 1e-6],
            ['sub', (x, y) => x.sub(y), 1e-6],
            ['mul', (x, y) => x.mul(y), 1e-6],
            ['div', (x, _y, p) => x.div(p), 1e-6],
            ['pow', (_x, _y, p) => p.pow(p), 1e-5],
            ['maximum', (x, y) => x.maximum(y), 0],
            ['gt', (x, y) => x.gt(y), 0],
            ['neg/abs/relu', (x) => x.neg().abs().relu(), 0],
            ['exp', (x) => x.exp(), 1e-5],
            ['log/sqrt', (_x, _y, p) => p.log().add(p.sqrt()), 1e-5],
            ['tanh/sigmoid', (x) => x.tanh().add(x.sigmoid()), 1e-5],
            ['clamp/hardtanh', (x) => x.clamp(-0.5, 0.5).add(x.hardtanh()), 0],
            ['scalar affine', (x) => x.mul(3).add(0.5), 1e-6],
            ['where', (x, y) => core.where(x.gt(0), x, y), 0],
            ['cast', (x) => x.mul(10).cast('int32'), 0],
          ];
          for (const [name, f, rtol] of cases) await same(name, f(a, b, pos), f(ga, gb, gpos), rtol, 1e-7);
        },
      ),
      { numRuns: 6 },
    );
  });

  it.skipIf(!adapter)('reductions, argmax, softmax over any axis', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(dim(), dim(), dim(7)), fc.integer({ min: 0, max: 1e6 }), async (s, seed) => {
        core.manualSeed(seed);
        const x = core.randn(s).mul(3);
        const g = gpu(x);
        const len = Math.max(...s);
        await same('sum all', x.sum(), g.sum(), 1e-5 * len * s.length, 1e-5);
        await same(
          'sum axis 1 keepdim',
          x.sum(1, { keepdim: true }),
          g.sum(1, { keepdim: true }),
          1e-5 * len,
          1e-5,
        );
        await same('mean axes', x.mean([0, 2]), g.mean([0, 2]), 1e-5 * len, 1e-5);
        await same('max', x.max(-1), g.max(-1), 0);
        await same('min', x.min(0), g.min(0), 0);
        await same('argmax', x.argmax(2), g.argmax(2), 0);
        await same('argmin', x.argmin(0), g.argmin(0), 0);
        await same('softmax', x.softmax(-1), g.softmax(-1), 1e-5, 1e-7);
        await same('logSoftmax axis 0', x.logSoftmax(0), g.logSoftmax(0), 1e-5, 1e-6);
        await same(
          'softmax on a transposed view',
          x.transpose(0, 2).softmax(-1),
          g.transpose(0, 2).softmax(-1),
          1e-5,
          1e-7,
        );
      }),
      { numRuns: 6 },
    );
  });

  it.skipIf(!adapter)('matmul: tile edges, batches with broadcasting, transposes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(
          fc.integer({ min: 1, max: 130 }),
          fc.integer({ min: 1, max: 70 }),
          fc.integer({ min: 1, max: 130 }),
        ),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async ([M, K, N], ta, tb, seed) => {
          core.manualSeed(seed);
          const a = core.randn(ta ? [2, K, M] : [2, M, K]);
          const b = core.randn(tb ? [N, K] : [K, N]);
          const opts = { transA: ta, transB: tb };
          await same('matmul', a.matmul(b, opts), gpu(a).matmul(gpu(b), opts), 1e-5 * K, 1e-5 * K);
        },
      ),
      { numRuns: 8 },
    );
    const ai = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    );
    await same('int32 matmul', ai.matmul(ai), gpu(ai).matmul(gpu(ai)), 0);
  });

  it.skipIf(!adapter)(
    'shape ops, cat, indexing with repeated indices, losses, the fused LSTM cell',
    async () => {
      core.manualSeed(3);
      const x = core.randn([4, 6]);
      const g = gpu(x);
      const idx = tensor([3, 0, 3, 3, 1], { dtype: 'int32' });
      const gidx = gpu(idx);
      await same('narrow/select/permute', x.narrow(1, 1, 3).select(0, 2), g.narrow(1, 1, 3).select(0, 2), 0);
      await same('reshape of a transpose', x.t().reshape([24]), g.t().reshape([24]), 0);
      await same('cat/stack', core.cat([x, x.mul(2)], 1), core.cat([g, g.mul(2)], 1), 1e-6);
      await same('indexSelect', x.indexSelect(0, idx), g.indexSelect(0, gidx), 0);
      const gi = tensor(
        [
          [0, 5],
          [1, 1],
          [2, 2],
          [5, 0],
        ],
        { dtype: 'int32' },
      );
      await same('gather', x.gather(1, gi), g.gather(1, gpu(gi)), 0);
      await same(
        'scatterAdd (repeats)',
        x.scatterAdd(1, gi, core.ones([4, 2])),
        g.scatterAdd(1, gpu(gi), core.ones([4, 2], { device: 'webgpu' })),
        1e-6,
      );
      const t = tensor([5, 0, 2, 2], { dtype: 'int32' });
      await same('crossEntropy', core.crossEntropy(x, t), core.crossEntropy(g, gpu(t)), 1e-5);
      await same('mse', core.mse(x, x.mul(0.5)), core.mse(g, g.mul(0.5)), 1e-5);
      await same(
        'bce',
        core.bce(x.sigmoid(), x.sigmoid().mul(0.9)),
        core.bce(g.sigmoid(), g.sigmoid().mul(0.9)),
        1e-5,
      );
      const gates = core.randn([3, 8]);
      const c0 = core.randn([3, 2]);
      for (const order of ['izfo', 'ifog', 'ifgo'] as const) {
        const [h1, c1] = core.lstmCell(gates, c0, order);
        const [h2, c2] = core.lstmCell(gpu(gates), gpu(c0), order);
        await same(`lstmCell h ${order}`, h1, h2, 1e-5, 1e-7);
        await same(`lstmCell c ${order}`, c1, c2, 1e-5, 1e-7);
      }
    },
  );

  it.skipIf(!adapter)('the tape gives the same gradients on both devices', async () => {
    core.manualSeed(9);
    const w = core.randn([6, 16]);
    const x = core.randn([3, 6]);
    const t = tensor([1, 0, 3], { dtype: 'int32' });
    const grads = (dev: 'cpu' | 'webgpu') => {
      const wd = w.to(dev).requiresGrad_();
      const gates = x.to(dev).matmul(wd);
      const [h] = core.lstmCell(gates, core.zeros([3, 4], { device: dev }), 'izfo');
      core.crossEntropy(h.logSoftmax(), t.to(dev)).backward();
      return wd.grad!;
    };
    await same('gradient', grads('cpu'), grads('webgpu'), 1e-4, 1e-6);
  });

  it.skipIf(!adapter)('refuses float64 and synchronous reads, naming the alternative', () => {
    expect(() => core.zeros([2], { dtype: 'float64', device: 'webgpu' })).toThrow(
      /float64 tensors are not supported on WebGPU/,
    );
    expect(() => core.zeros([2], { device: 'webgpu' }).dataSync()).toThrow(/use `await t.data\(\)`/);
  });

  it.skipIf(!adapter)('a thousand training-like iterations leave live buffers and bytes flat', async () => {
    core.manualSeed(1);
    const w = core.randn([8, 8], { device: 'webgpu' }).requiresGrad_();
    const x = core.randn([4, 8], { device: 'webgpu' });
    const step = () => {
      tidy(() => {
        x.matmul(w).tanh().sum().backward();
      });
      noGrad(() => tidy(() => w.sub_(w.grad!.mul(0.01))));
      w.zeroGrad();
    };
    // Warm up past a few automatic submissions, so that the pool has reached its working size.
    for (let i = 0; i < 1000; i++) step();
    await w.data();
    const before = memory().webgpu!;
    for (let i = 0; i < 1000; i++) step();
    await w.data();
    const after = memory().webgpu!;
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.pooledBytes).toBeLessThanOrEqual(before.pooledBytes);
  });
});
