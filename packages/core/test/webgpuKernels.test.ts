import fc from 'fast-check';
import { describe, it } from 'vitest';

import {
  type Layout,
  gpu,
  cpu,
  params,
  dense,
  layoutArb,
  shapeArb,
  values,
  pair,
  out,
  free,
  same,
} from './helpers/backendPairs.js';

/**
 * The Backend interface on WebGPU against CpuBackend, at the backend level (this file: matmul and
 * gather/scatterAdd; webgpuCells.test.ts: the fused cells; webgpuBackend.test.ts: the elementwise family,
 * reductions, softmax): random shapes with size-1 dims, broadcast (stride 0) dims, transposed and padded (strided) views and nonzero offsets, for float32
 * and int32. Without an adapter the file prints one line and skips, unless WEBRNN_REQUIRE_WEBGPU=1, where it fails.
 *
 * Tolerances, against the CPU's results (computed in float64, stored as float32): exact for moves, casts,
 * comparisons, max/min/arg and int32; |err| <= 2 ulp-ish (rel 2e-7) for + - * and the CPU's own rounding; rel 2e-6
 * for WGSL's exp/log/tanh/pow/sqrt/division builtins, which may be a few ulp off; sums, matmuls and softmax
 * normalisers accumulate one rounding per term, so their bound grows with the length: 2e-7 * n * sum of |terms|.
 */

describe.skipIf(!gpu)('WebGPU backend against CpuBackend: matmul, gather/scatterAdd', () => {
  it('matmul: every variant, tile edges, transposes, broadcast batches, offsets, int32', async () => {
    const dims = fc.tuple(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 140 }),
    );
    const arb = fc.tuple(
      dims,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 2 }),
      fc.boolean(),
      fc.nat(4),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([[M, K, N], ta, tb, batch, aligned, offset]) => {
        const batchShape = batch === 0 ? [] : batch === 1 ? [3] : [2, 2];
        const rb = batchShape.length;
        // Transposed operands are stored [.., cols, rows]; the first batch dim of B is shared (stride 0). Aligned
        // operands pad their contiguous dim to a multiple of 4 (what the subgroup kernel's vec4 reads need).
        const layout = (rows: number, cols: number, t: boolean, share: boolean): Layout => {
          const inner = t ? rows : cols;
          const pad = aligned ? (4 - (inner % 4)) % 4 : 1;
          return {
            perm: [...Array(rb).keys(), ...(t ? [rb + 1, rb] : [rb, rb + 1])],
            pad: [...Array(rb).fill(0), t ? pad : 0, t ? 0 : pad],
            bcast: [...Array(rb).keys()].map((d) => share && d === 0).concat([false, false]),
            offset: aligned ? 4 * offset : offset,
          };
        };
        for (const variant of gpu!.matmulVariants) {
          gpu!.matmulVariant = variant;
          const a = pair('float32', [...batchShape, M, K], layout(M, K, ta, false));
          const b = pair('float32', [...batchShape, K, N], layout(K, N, tb, true));
          const y = out('float32', [...batchShape, M, N], offset);
          cpu.matmul({ a: a.cpu, b: b.cpu, out: y.cpu });
          gpu!.matmul({ a: a.gpu, b: b.gpu, out: y.gpu });
          await same(
            `matmul ${variant} ${M}x${K}x${N} batch [${batchShape}] ta=${ta} tb=${tb}`,
            y,
            0,
            2e-7 * K * K * 4,
          );
          free(a, b, y);
        }
        gpu!.matmulVariant = 'auto';
      }),
      { ...params, numRuns: 10 },
    );
    const a = pair('int32', [5, 7], dense(2), (n) => values('int32', n, 50));
    const b = pair('int32', [7, 3], skewed(2));
    const y = out('int32', [5, 3]);
    cpu.matmul({ a: a.cpu, b: b.cpu, out: y.cpu });
    gpu!.matmul({ a: a.gpu, b: b.gpu, out: y.gpu });
    await same('int32 matmul', y);
    free(a, b, y);
  });

  it('gather, and scatterAdd with repeated indices by both methods', async () => {
    const arb = shapeArb(1, 3, 4).chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.nat(s.length - 1),
        fc.integer({ min: 1, max: 6 }),
        layoutArb(s.length),
        fc.boolean(),
        fc.boolean(),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, axis, len, layout, broadcastIndex, wide]) => {
        // Index: `len` entries along axis (repeats likely), possibly shared across the other dims (indexSelect).
        const target = shape.map((d, i) => (i === axis && wide ? 40 : d));
        const idxShape = shape.map((d, i) => (i === axis ? (wide ? 60 : len) : d));
        const idxLayout: Layout = {
          ...dense(shape.length),
          bcast: shape.map((_, i) => broadcastIndex && i !== axis),
        };
        const index = pair(
          'int32',
          idxShape,
          idxLayout,
          (n) => values('int32', n, target[axis]! - 1, true).map((v) => v - 1) as Int32Array,
        );
        // Every index is in range: a check that fired would throw at the call (CPU) or at `same`'s read (WebGPU).
        const check = { op: 'test', noun: 'index', range: `axis ${axis}` };
        for (const dtype of ['float32', 'int32'] as const) {
          const x = pair(dtype, target, layout);
          const g = out(dtype, idxShape);
          cpu.gather({ x: x.cpu, index: index.cpu, out: g.cpu }, axis, check);
          gpu!.gather({ x: x.gpu, index: index.gpu, out: g.gpu }, axis, check);
          await same(`gather ${dtype} axis ${axis}`, g);
          const dst = pair(dtype, target, { ...dense(target.length), offset: 3 });
          const src = pair(dtype, idxShape, skewed(idxShape.length));
          cpu.scatterAdd({ out: dst.cpu, index: index.cpu, src: src.cpu }, axis, check);
          gpu!.scatterAdd({ out: dst.gpu, index: index.gpu, src: src.gpu }, axis, check);
          await same(
            `scatterAdd ${dtype} axis ${axis} (${wide ? 'atomic' : 'loop'})`,
            dst,
            0,
            2e-7 * idxShape[axis]! * 4,
          );
          free(x, g, dst, src);
        }
        free(index);
      }),
      params,
    );
  });
});

/** A fixed non-trivial layout (transposed, padded, offset) for operands not worth randomising. */
function skewed(rank: number): Layout {
  return {
    perm: [...Array(rank).keys()].reverse(),
    pad: Array(rank).fill(1),
    bcast: Array(rank).fill(false),
    offset: 1,
  };
}
