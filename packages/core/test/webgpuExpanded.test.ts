import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import type { DeviceName, Tensor } from '@webrnn/core';

import { gpu, params } from './helpers/backendPairs.js';

/**
 * Stride 0 is not unit stride. An expanded view (stride 0 on a dim of size > 1) reached every kernel family that
 * picks a layout from strides; the matmul confused the two (webgpuMatmul.test.ts). This file is the audit of the
 * others on WebGPU against the CPU: elementwise (coalesce), reductions, softmax (asDense), gather/scatterAdd and
 * the fused LSTM and GRU cells, forward with expanded inputs and backward from sum(), whose seed is itself an
 * expanded view. Inputs are random shapes whose dims are each expanded from 1 or not, optionally transposed.
 *
 * Tolerance: rel 1e-4 of the largest |cpu| value (f32 transcendental builtins and summation order differ).
 */
interface Expanded {
  readonly shape: readonly number[];
  readonly expanded: readonly boolean[];
  readonly transposed: boolean;
  readonly seed: number;
}

const expandedArb = (rank: number, maxDim = 5): fc.Arbitrary<Expanded> =>
  fc.record({
    shape: fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: rank, maxLength: rank }),
    expanded: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
    transposed: fc.boolean(),
    seed: fc.nat(1e6),
  });

/** Random values of `e.shape` on `device`, expanded from size 1 on the chosen dims (transposed: the last two swapped). */
function make(e: Expanded, device: DeviceName, low = -2, high = 2): Tensor {
  core.manualSeed(e.seed);
  const stored = e.shape.map((d, i) => (e.expanded[i] ? 1 : d));
  const r = stored.length;
  if (e.transposed && r >= 2) {
    const swapped = [...stored.slice(0, -2), stored[r - 1]!, stored[r - 2]!];
    return core
      .uniform(swapped, low, high)
      .to(device)
      .transpose(-1, -2)
      .expand([...e.shape]);
  }
  return core
    .uniform(stored, low, high)
    .to(device)
    .expand([...e.shape]);
}

async function same(what: string, want: Tensor, got: Tensor, rtol = 1e-4): Promise<void> {
  expect(got.device, what).toBe('webgpu');
  expect(got.shape, what).toEqual(want.shape);
  const w = want.dataSync();
  const g = await got.data();
  let scale = 1;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= rtol * scale)) {
      throw new Error(`${what}: element ${i} is ${g[i]} on webgpu, ${w[i]} on cpu`);
    }
  }
}

/** `f` on both devices; compares every returned tensor. */
async function both(what: string, f: (d: DeviceName) => Tensor[]): Promise<void> {
  const [want, got] = [f('cpu'), f('webgpu')];
  for (let i = 0; i < want.length; i++) await same(`${what} [${i}]`, want[i]!, got[i]!);
}

describe.skipIf(!gpu)('expanded (stride 0) operands in every kernel family, WebGPU against the CPU', () => {
  it('elementwise, reductions (every axis set), softmax and their gradients from sum()', async () => {
    const arb = fc.tuple(expandedArb(3), expandedArb(3), fc.subarray([0, 1, 2]), fc.nat(2));
    await fc.assert(
      fc.asyncProperty(arb, async ([ex, ey, axes, axis]) => {
        const ey2 = { ...ey, shape: ex.shape };
        await both(`elementwise ${JSON.stringify([ex, ey2])}`, (d) => [
          make(ex, d).exp(),
          make(ex, d).add(make(ey2, d)),
          make(ex, d).mul(make(ey2, d).transpose(0, 2).transpose(0, 2)),
        ]);
        await both(`reduce over [${axes}] ${JSON.stringify(ex)}`, (d) => [
          make(ex, d).sum(axes),
          make(ex, d).max(axes),
          make(ex, d).argmax(axis),
        ]);
        await both(`softmax ${JSON.stringify(ex)}`, (d) => {
          const x = make(ex, d).contiguous().requiresGrad_();
          const y = core.softmax(make(ex, d), axis);
          core.logSoftmax(x, axis).sum().backward();
          return [y, x.grad!];
        });
      }),
      params,
    );
  });

  it('gather and scatterAdd with expanded sources and indices', async () => {
    const arb = fc.tuple(expandedArb(2), expandedArb(2), fc.nat(1));
    await fc.assert(
      fc.asyncProperty(arb, async ([ex, e, axis]) => {
        const ei = { ...e, shape: ex.shape };
        const size = ex.shape[axis]!;
        // Truncation of values in [0, size) is the floor: indices in range.
        const index = (d: DeviceName) => make(ei, d, 0, size - 1e-3).cast('int32');
        await both(`gather axis ${axis} ${JSON.stringify([ex, ei])}`, (d) => [
          core.gather(make(ex, d), axis, index(d)),
        ]);
        await both(`scatterAdd axis ${axis} ${JSON.stringify([ex, ei])}`, (d) => [
          core.scatterAdd(make(ex, d), axis, index(d), make({ ...ei, seed: ei.seed + 1 }, d)),
        ]);
      }),
      params,
    );
  });

  it('the fused LSTM and GRU cells with expanded inputs, and their backward from sum()', async () => {
    const arb = fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.boolean(), {
        minLength: 4,
        maxLength: 4,
      }),
      fc.nat(1e6),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([N, H, ex, seed]) => {
        const e = (cols: number, i: number): Expanded => ({
          shape: [N, cols],
          expanded: [ex[i]!, ex[(i + 1) % 4]!],
          transposed: ex[(i + 2) % 4]!,
          seed: seed + i,
        });
        await both(`lstmCell N=${N} H=${H} ${ex}`, (d) => {
          const [gates, cPrev] = [make(e(4 * H, 0), d), make(e(H, 1), d)].map((t) => t.requiresGrad_());
          const [h, c] = core.lstmCell(gates!, cPrev!);
          h.sum().add(c.sum()).backward();
          return [h, c, gates!.grad!, cPrev!.grad!];
        });
        await both(`gruCell N=${N} H=${H} ${ex}`, (d) => {
          const ins = [
            make(e(2 * H, 0), d),
            make(e(H, 1), d),
            make(e(H, 2), d),
            make({ ...e(H, 3), shape: [H, H] }, d),
          ];
          const [g, xc, hPrev, uc] = ins.map((t) => t.requiresGrad_());
          const h = core.gruCell(g!, xc!, hPrev!, uc!);
          h.sum().backward();
          return [h, g!.grad!, xc!.grad!, hPrev!.grad!, uc!.grad!];
        });
      }),
      params,
    );
  });
});
