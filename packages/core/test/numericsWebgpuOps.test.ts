import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, fromData } from '@webrnn/core';
import { SEED } from './helpers/arb.js';
import { ieeeValue, ieeeValues, sameOnBoth, sizeOf, sprinkled } from './helpers/ieee.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * IEEE semantics on WebGPU equal the CPU's beyond the elementwise ops: reductions (both kernel shapes: a thread or
 * a workgroup per output), softmax, the fused LSTM and GRU cells forward and backward, and the losses, over inputs
 * mixing ordinary values with NaN, +-Inf and +-0. NaN equals NaN, infinities are exact, indices are exact.
 */
const gpu = await webgpuForFile('numerics ops');
const maybe = it.skipIf(!gpu);
const runs = { numRuns: 25, seed: SEED };

/** Small shapes (a thread per output) or rows of 100 (a workgroup per output); values to match. */
const shapeAndData = fc.oneof(
  fc
    .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
    .chain((shape) => fc.tuple(fc.constant(shape), ieeeValues(sizeOf(shape)))),
  fc.integer({ min: 1, max: 3 }).chain((rows) => fc.tuple(fc.constant([rows, 100]), sprinkled(rows * 100))),
);

describe('IEEE special values on WebGPU equal the CPU (reductions, softmax, cells, losses)', () => {
  maybe('sum, mean, max, min, argmax, argmin over random axes', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeAndData,
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        async ([shape, data], mask) => {
          const chosen = shape.map((_, d) => d).filter((d) => mask[d]);
          const axes = chosen.length > 0 ? chosen : undefined;
          const axis = chosen[0] ?? shape.length - 1;
          const n = axes ? sizeOf(axes.map((d) => shape[d]!)) : sizeOf(shape);
          const input = [{ data, shape }];
          await sameOnBoth('sum', input, (x) => core.sum(x, axes), 1e-5, 4e-5 * n);
          await sameOnBoth('mean', input, (x) => core.mean(x, axes), 1e-5, 4e-5);
          await sameOnBoth('max', input, (x) => core.max(x, axes));
          await sameOnBoth('min', input, (x) => core.min(x, axes));
          await sameOnBoth('argmax', input, (x) => core.argmax(x, axis));
          await sameOnBoth('argmin', input, (x) => core.argmin(x, axis));
        },
      ),
      runs,
    );
  });

  maybe(
    'softmax and logSoftmax (a NaN or +Inf in a row, or -Inf only, gives NaN as in PyTorch)',
    async () => {
      await fc.assert(
        fc.asyncProperty(shapeAndData, fc.boolean(), async ([shape, data], last) => {
          const axis = last ? -1 : 0;
          const input = [{ data, shape }];
          await sameOnBoth('softmax', input, (x) => core.softmax(x, axis), 1e-4, 1e-6);
          await sameOnBoth('logSoftmax', input, (x) => core.logSoftmax(x, axis), 1e-4, 1e-5);
          const grad = (x: Tensor) => {
            x.requiresGrad_();
            core.sum(core.mul(core.softmax(x, axis), x.detach())).backward();
            return x.grad!;
          };
          await sameOnBoth('d softmax', input, grad, 1e-4, 1e-5);
        }),
        runs,
      );
    },
  );

  const cellDims = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }));
  const finite = (n: number) => fc.array(ieeeValue(2, 0), { minLength: n, maxLength: n });

  maybe('lstmCell forward and backward', async () => {
    await fc.assert(
      fc.asyncProperty(
        cellDims.chain(([N, H]) =>
          fc.tuple(fc.constant([N, H]), ieeeValues(4 * N * H), ieeeValues(N * H), finite(2 * N * H)),
        ),
        fc.constantFrom<core.LstmGateOrder>('izfo', 'ifog', 'ifgo'),
        async ([[N, H], gates, cPrev, r], order) => {
          const cell = (g: Tensor, c: Tensor, rh: Tensor, rc: Tensor) => {
            g.requiresGrad_();
            c.requiresGrad_();
            const [h, cn] = core.lstmCell(g, c, order);
            core.add(core.sum(core.mul(h, rh)), core.sum(core.mul(cn, rc))).backward();
            return [h, cn, g.grad!, c.grad!];
          };
          const inputs = [
            { data: gates, shape: [N, 4 * H] },
            { data: cPrev, shape: [N, H] },
            { data: r, shape: [N, H] },
            { data: r.slice(N * H), shape: [N, H] },
          ];
          await sameOnBoth('lstmCell', inputs, cell, 1e-4, 1e-5);
        },
      ),
      runs,
    );
  });

  maybe('gruCell forward and backward', async () => {
    await fc.assert(
      fc.asyncProperty(
        cellDims.chain(([N, H]) =>
          fc.tuple(
            fc.constant([N, H]),
            ieeeValues(2 * N * H),
            ieeeValues(N * H),
            ieeeValues(N * H),
            finite(H * H + N * H),
          ),
        ),
        async ([[N, H], gates, xc, hPrev, r]) => {
          const cell = (g: Tensor, x: Tensor, hp: Tensor, uc: Tensor, rh: Tensor) => {
            for (const t of [g, x, hp]) t.requiresGrad_();
            const h = core.gruCell(g, x, hp, uc);
            core.sum(core.mul(h, rh)).backward();
            return [h, g.grad!, x.grad!, hp.grad!];
          };
          const inputs = [
            { data: gates, shape: [N, 2 * H] },
            { data: xc, shape: [N, H] },
            { data: hPrev, shape: [N, H] },
            { data: r, shape: [H, H] },
            { data: r.slice(H * H), shape: [N, H] },
          ];
          await sameOnBoth('gruCell', inputs, cell, 1e-4, 1e-5);
        },
      ),
      runs,
    );
  });

  const probability = fc.oneof(
    fc.constantFrom(0, 1, Number.NaN),
    fc.float({ min: 0, max: 1, noNaN: true }).map((v) => (v < 1e-3 ? 0 : v)),
  );

  maybe('mse, bce (p = 0 and 1 give the finite loss), nll, crossEntropy: loss and gradient', async () => {
    await fc.assert(
      fc.asyncProperty(
        cellDims.chain(([N, C]) =>
          fc.tuple(
            fc.constant([N, C + 1]),
            ieeeValues(N * (C + 1)),
            fc.array(probability, { minLength: N * (C + 1), maxLength: N * (C + 1) }),
            fc.array(fc.integer({ min: 0, max: C }), { minLength: N, maxLength: N }),
          ),
        ),
        async ([shape, x, p, classes]) => {
          const target = (like: Tensor) =>
            fromData(Int32Array.from(classes), [shape[0]!], { device: like.device });
          const losses: [string, (a: Tensor, b: Tensor) => Tensor][] = [
            ['mse', (a, b) => core.mse(a, b)],
            ['bce', (_a, b) => core.bce(b, core.mul(b, 0.5).detach())],
            ['bce sum', (_a, b) => core.bce(b, b.detach(), 'sum')],
            ['nll', (a) => core.nll(a, target(a))],
            ['crossEntropy', (a) => core.crossEntropy(a, target(a))],
          ];
          for (const [name, loss] of losses) {
            const withGrad = (a: Tensor, b: Tensor) => {
              a.requiresGrad_();
              b.requiresGrad_();
              const l = loss(a, b);
              l.backward();
              return [l, a.grad ?? core.zerosLike(a), b.grad ?? core.zerosLike(b)];
            };
            const inputs = [
              { data: x, shape },
              { data: p, shape },
            ];
            await sameOnBoth(name, inputs, withGrad, 1e-4, 1e-5);
          }
        },
      ),
      runs,
    );
  });
});
