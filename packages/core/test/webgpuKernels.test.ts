import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Backend, CpuBackend, type DType, type View, initWebGPU, lastWebGPUError } from '@webrnn/core';

/**
 * The Backend interface on WebGPU against CpuBackend, at the backend level (this file: matmul, gather/scatterAdd
 * and the LSTM cell; webgpuBackend.test.ts: the elementwise family, reductions, softmax): random shapes with
 * size-1 dims, broadcast (stride 0) dims, transposed and padded (strided) views and nonzero offsets, for float32
 * and int32. Without an adapter the file prints one line and skips, unless WEBRNN_REQUIRE_WEBGPU=1, where it fails.
 *
 * Tolerances, against the CPU's results (computed in float64, stored as float32): exact for moves, casts,
 * comparisons, max/min/arg and int32; |err| <= 2 ulp-ish (rel 2e-7) for + - * and the CPU's own rounding; rel 2e-6
 * for WGSL's exp/log/tanh/pow/sqrt/division builtins, which may be a few ulp off; sums, matmuls and softmax
 * normalisers accumulate one rounding per term, so their bound grows with the length: 2e-7 * n * sum of |terms|.
 */
const gpu = await initWebGPU();
if (!gpu) {
  if (process.env.WEBRNN_REQUIRE_WEBGPU === '1') {
    throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${lastWebGPUError()}`);
  }
  console.log(`webgpu backend tests skipped: ${lastWebGPUError()}`);
}
const cpu = new CpuBackend();
const params = { numRuns: 8, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261129) };

afterAll(() => gpu?.destroy());

/** How a view sits in its buffer: dims in storage order `perm`, `pad` extra elements per dim, stride 0 where `bcast`. */
interface Layout {
  readonly perm: readonly number[];
  readonly pad: readonly number[];
  readonly bcast: readonly boolean[];
  readonly offset: number;
}

const dense = (rank: number): Layout => ({
  perm: [...Array(rank).keys()],
  pad: Array(rank).fill(0),
  bcast: Array(rank).fill(false),
  offset: 0,
});

const layoutArb = (rank: number, broadcast = true): fc.Arbitrary<Layout> =>
  fc.record({
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    pad: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: rank, maxLength: rank }),
    bcast: fc.array(broadcast ? fc.boolean() : fc.constant(false), { minLength: rank, maxLength: rank }),
    offset: fc.integer({ min: 0, max: 5 }),
  });

const shapeArb = (minRank: number, maxRank: number, maxDim = 5) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

let seed = 1;
/** Deterministic values: floats in [-scale, scale), or ints in [-scale, scale]. */
function values(dtype: DType, n: number, scale = 2, positive = false): Float32Array | Int32Array {
  const out = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const u = seed / 2147483648;
    const v = dtype === 'int32' ? Math.floor(u * (2 * scale + 1)) - scale : (u * 2 - 1) * scale;
    out[i] = positive ? Math.abs(v) + (dtype === 'int32' ? 1 : 0.1) : v;
  }
  return out;
}

/** The same data on both backends, as views with the same layout. */
interface Pair {
  readonly cpu: View;
  readonly gpu: View;
}

function pair(
  dtype: DType,
  shape: readonly number[],
  layout = dense(shape.length),
  data?: (n: number) => Float32Array | Int32Array,
): Pair {
  const r = shape.length;
  const stored = layout.perm.map((d) => (layout.bcast[d] ? 1 : shape[d]! + layout.pad[d]!));
  const strides = new Array<number>(r).fill(0);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    const d = layout.perm[i]!;
    strides[d] = layout.bcast[d] ? 0 : s;
    s *= stored[i]!;
  }
  const n = layout.offset + s;
  const host = data ? data(n) : values(dtype, n);
  const make = (b: Backend): View => {
    const buffer = b.alloc(dtype, n);
    b.write(buffer, host);
    return { buffer, dtype, shape, strides, offset: layout.offset };
  };
  return { cpu: make(cpu), gpu: make(gpu!) };
}

const out = (dtype: DType, shape: readonly number[], offset = 0): Pair => {
  const zero = (n: number) => (dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
  return pair(dtype, shape, { ...dense(shape.length), offset }, zero);
};

const free = (...pairs: Pair[]) => {
  for (const p of pairs) {
    cpu.free(p.cpu.buffer);
    gpu!.free(p.gpu.buffer);
  }
};

/** Compare the views element by element: |gpu - cpu| <= atol + rtol * |cpu|. */
async function same(what: string, p: Pair, rtol = 0, atol = 0): Promise<void> {
  const want = cpu.readSync(p.cpu);
  const got = await gpu!.read(p.gpu);
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
      throw new Error(`${what}: element ${i} is ${got[i]} on webgpu, ${want[i]} on cpu (tolerance ${tol})`);
    }
  }
}

describe.skipIf(!gpu)('WebGPU backend against CpuBackend: matmul, gather/scatterAdd, the LSTM cell', () => {
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
        for (const variant of ['subgroup', 'tiled', 'naive'] as const) {
          gpu!.matmulVariant = variant;
          const a = pair('float32', [...batchShape, M, K], layout(M, K, ta, false));
          const b = pair('float32', [...batchShape, K, N], layout(K, N, tb, true));
          const y = out('float32', [...batchShape, M, N], offset);
          cpu.matmul(a.cpu, b.cpu, y.cpu);
          gpu!.matmul(a.gpu, b.gpu, y.gpu);
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
    cpu.matmul(a.cpu, b.cpu, y.cpu);
    gpu!.matmul(a.gpu, b.gpu, y.gpu);
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
        for (const dtype of ['float32', 'int32'] as const) {
          const x = pair(dtype, target, layout);
          const g = out(dtype, idxShape);
          cpu.gather(x.cpu, index.cpu, axis, g.cpu);
          gpu!.gather(x.gpu, index.gpu, axis, g.gpu);
          await same(`gather ${dtype} axis ${axis}`, g);
          const dst = pair(dtype, target, { ...dense(target.length), offset: 3 });
          const src = pair(dtype, idxShape, skewed(idxShape.length));
          cpu.scatterAdd(dst.cpu, index.cpu, src.cpu, axis);
          gpu!.scatterAdd(dst.gpu, index.gpu, src.gpu, axis);
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

  it('the fused LSTM cell and its backward, every gate order, strided inputs, missing gradients', async () => {
    for (const order of ['izfo', 'ifog', 'ifgo'] as const) {
      for (const [hasH, hasC] of [
        [true, true],
        [true, false],
        [false, true],
      ]) {
        const [N, H] = [3, 5];
        // gates as the transpose of a [4H, N] buffer: a strided view.
        const gates = pair('float32', [N, 4 * H], { ...dense(2), perm: [1, 0], offset: 2 }, (n) =>
          values('float32', n, 4),
        );
        const cPrev = pair('float32', [N, H], { ...dense(2), pad: [0, 2] });
        const [h, c, act] = [out('float32', [N, H]), out('float32', [N, H]), out('float32', [N, 4 * H])];
        cpu.lstmCell(order, gates.cpu, cPrev.cpu, h.cpu, c.cpu, act.cpu);
        gpu!.lstmCell(order, gates.gpu, cPrev.gpu, h.gpu, c.gpu, act.gpu);
        // Activations carry exp/tanh's few-ulp error (rel 2e-6); c and h are sums of two O(1) products of them,
        // so their error is absolute (1e-6), however small the sum.
        await same(`lstmCell ${order} act`, act, 2e-6, 1e-7);
        await same(`lstmCell ${order} c`, c, 2e-6, 1e-6);
        await same(`lstmCell ${order} h`, h, 2e-6, 1e-6);
        const gh = pair('float32', [N, H], { ...dense(2), perm: [1, 0] });
        const gc = pair('float32', [N, H]);
        const [gG, gCP] = [out('float32', [N, 4 * H]), out('float32', [N, H])];
        cpu.lstmCellBackward(
          order,
          act.cpu,
          c.cpu,
          cPrev.cpu,
          hasH ? gh.cpu : null,
          hasC ? gc.cpu : null,
          gG.cpu,
          gCP.cpu,
        );
        gpu!.lstmCellBackward(
          order,
          act.gpu,
          c.gpu,
          cPrev.gpu,
          hasH ? gh.gpu : null,
          hasC ? gc.gpu : null,
          gG.gpu,
          gCP.gpu,
        );
        await same(`lstmCellBackward ${order} gates`, gG, 2e-6, 1e-6);
        await same(`lstmCellBackward ${order} cPrev`, gCP, 2e-6, 1e-6);
        free(gates, cPrev, h, c, act, gh, gc, gG, gCP);
      }
    }
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
