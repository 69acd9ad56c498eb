import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as core from '@webrnn/core';
import type { Tensor } from '@webrnn/core';
import { SEED } from './helpers/arb.js';
import { expectIeee, ieeeValues, sameOnBoth } from './helpers/ieee.js';
import { webgpuForFile } from './helpers/webgpu.js';
import { SPECIAL_CASES } from './helpers/specialValues.js';

/**
 * IEEE semantics on WebGPU equal the CPU's: every elementwise op over inputs that mix ordinary values with NaN,
 * +-Inf and +-0 at random positions gives NaN where the CPU does, the same infinities, and close finite values
 * (tolerances as in webgpu.test.ts: exact for selections, 1e-6 relative for arithmetic, 1e-4 for exp/log/tanh/pow).
 */
const gpu = await webgpuForFile('numerics');
const maybe = it.skipIf(!gpu);
const runs = { numRuns: 30, seed: SEED };

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

const UNARY: readonly [string, (x: Tensor) => Tensor, number][] = [
  ['neg', core.neg, 0],
  ['abs', core.abs, 0],
  ['sign', core.sign, 0],
  ['relu', core.relu, 0],
  ['step', core.step, 0],
  ['square', core.square, 1e-6],
  ['reciprocal', core.reciprocal, 1e-6],
  ['exp', core.exp, 1e-4],
  ['log', core.log, 1e-4],
  ['sqrt', core.sqrt, 1e-6],
  ['tanh', core.tanh, 1e-4],
  ['sigmoid', core.sigmoid, 1e-4],
];

const BINARY: readonly [string, (a: Tensor, b: Tensor) => Tensor, number][] = [
  ['add', core.add, 1e-6],
  ['sub', core.sub, 1e-6],
  ['mul', core.mul, 1e-6],
  ['div', core.div, 1e-6],
  ['pow', core.pow, 1e-4],
  ['maximum', core.maximum, 0],
  ['minimum', core.minimum, 0],
  ['gt', core.gt, 0],
  ['ge', core.ge, 0],
  ['lt', core.lt, 0],
  ['le', core.le, 0],
  ['eq', core.eq, 0],
];

describe('IEEE special values on WebGPU equal the CPU', () => {
  maybe("PyTorch's answers at NaN, +-Inf and +-0 (fixtures/specialValues.json), in float32", async () => {
    for (const c of SPECIAL_CASES) {
      const t = c.run('webgpu', 'float32');
      const tol = c.inexact ? 1e-4 : 1e-6;
      expectIeee(c.name, c.want, await t.data(), tol, tol);
      t.dispose();
    }
  });

  maybe('unary ops', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, ieeeValues(64), async (shape, data) => {
        for (const [name, f, tol] of UNARY) await sameOnBoth(name, [{ data, shape }], f, tol, tol * 1e-2);
      }),
      runs,
    );
  });

  maybe('binary ops, with broadcasting', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.integer({ min: 0, max: 3 }),
        ieeeValues(64),
        ieeeValues(64),
        async (shape, cut, a, b) => {
          const bShape = shape.slice(Math.min(cut, shape.length - 1));
          for (const [name, f, tol] of BINARY) {
            await sameOnBoth(
              name,
              [
                { data: a, shape },
                { data: b, shape: bShape },
              ],
              f,
              tol,
              tol * 1e-2,
            );
          }
        },
      ),
      runs,
    );
  });

  maybe('clamp and hardtanh with finite and infinite bounds', async () => {
    const bound = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-Infinity, Infinity, -0.5, 0.5));
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        ieeeValues(64),
        bound,
        bound,
        fc.boolean(),
        async (shape, data, p, q, hard) => {
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          const f = (x: Tensor) => (hard ? core.hardtanh(x, lo, hi) : core.clamp(x, lo, hi));
          await sameOnBoth(hard ? 'hardtanh' : 'clamp', [{ data, shape }], f);
        },
      ),
      runs,
    );
  });

  maybe('where with a NaN condition takes the first branch', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, ieeeValues(64), ieeeValues(64), async (shape, c, a) => {
        await sameOnBoth(
          'where',
          [
            { data: c, shape },
            { data: a, shape },
          ],
          (ct, at) => core.where(ct, at, 7),
        );
      }),
      runs,
    );
  });

  maybe('gradients of the elementwise ops through NaN and Inf', async () => {
    const ops: readonly [string, (x: Tensor) => Tensor][] = [
      ['relu', core.relu],
      ['tanh', core.tanh],
      ['sigmoid', core.sigmoid],
      ['hardtanh', (x) => core.hardtanh(x)],
      ['exp', core.exp],
      ['log', core.log],
      ['sqrt', core.sqrt],
      ['reciprocal', core.reciprocal],
      ['cos', core.cos],
      ['sin', core.sin],
      ['abs', core.abs],
      ['pow', (x) => core.pow(x, 3)],
      ['clamp', (x) => core.clamp(x, -1, 2)],
      ['maximum', (x) => core.maximum(x, 0.5)],
    ];
    await fc.assert(
      fc.asyncProperty(shapeArb, ieeeValues(64), async (shape, data) => {
        for (const [name, f] of ops) {
          const grad = (x: Tensor) => {
            x.requiresGrad_();
            core.sum(f(x)).backward();
            return x.grad!;
          };
          await sameOnBoth(`d ${name}`, [{ data, shape }], grad, 1e-4, 1e-6);
        }
      }),
      runs,
    );
  });
});
