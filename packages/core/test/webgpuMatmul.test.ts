import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import type { DType, Tensor, WebGPUBackend } from '@webrnn/core';

import { type Layout, cpu, free, gpu, out, pair, params, same, values } from './helpers/backendPairs.js';

/**
 * Each matmul variant on WebGPU ('subgroup', 'tiled', 'naive', forced through `matmulVariant` whatever the
 * adapter's 'auto' would pick) against CpuBackend: random M, N, K with 1, odd sizes and the kernels' tile edges
 * (63/64/65, 127/128/129, 257, 385), batches with broadcast, and every operand layout a view can have: transposed,
 * narrowed with an offset, expanded (stride 0 on a dim of size > 1, which is not unit stride), aligned to 4 or not
 * (the subgroup kernel's vec4 loads), float32 and int32. Then the same at the tensor level: gradients of sum()
 * (whose seed is an expanded view), the LSTM with a projection, and batches past WebGPU's 65535 workgroups.
 *
 * Tolerance: each product accumulates one f32 rounding per term of at most |2 * 2|: 2e-7 * K * 4K; int32 is exact.
 */
const variants = gpu ? gpu.matmulVariants.filter((v) => v !== 'auto') : [];
if (gpu && !variants.includes('subgroup')) {
  console.log(`matmul 'subgroup' variant not tested: ${gpu.adapter.description} has no fixed subgroup size`);
}

afterEach(() => {
  if (gpu) {
    gpu.matmulVariant = 'auto';
    gpu.matmulGroupLimit = 65535;
  }
});

const EDGES = [1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 257, 385];
const size = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: 1, max: 70 }));
const rarely = fc.oneof(
  { weight: 3, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

interface OperandLayout {
  readonly transposed: boolean;
  readonly pad: readonly [number, number];
  readonly expand: readonly boolean[];
  readonly offset: number;
  readonly aligned: boolean;
}

const operandArb = (batchRank: number): fc.Arbitrary<OperandLayout> =>
  fc.record({
    transposed: fc.boolean(),
    pad: fc.tuple(fc.nat(2), fc.nat(2)),
    expand: fc.array(rarely, { minLength: batchRank + 2, maxLength: batchRank + 2 }),
    offset: fc.nat(5),
    aligned: fc.boolean(),
  });

/**
 * The layout of an operand of `shape` ([...batch, rows, cols]): when `aligned`, the innermost stored dim that is
 * not expanded is padded to a multiple of 4 and the offset is one too, which is what lets the subgroup kernel
 * read it as vec4s (and an expanded dim then looks as cheap to read as a contiguous one).
 */
function layoutOf(shape: readonly number[], l: OperandLayout): Layout {
  const r = shape.length;
  const perm = [...Array(r - 2).keys(), ...(l.transposed ? [r - 1, r - 2] : [r - 2, r - 1])];
  const pad = [...Array(r - 2).fill(0), l.pad[0], l.pad[1]];
  const bcast = l.expand.map((e, d) => e && shape[d]! > 1);
  if (l.aligned) {
    const inner = [...perm].reverse().find((d) => !bcast[d]);
    if (inner !== undefined) pad[inner] = (4 - (shape[inner]! % 4)) % 4;
  }
  return { perm, pad, bcast, offset: l.aligned ? 4 * l.offset : l.offset };
}

const intValues = (n: number) => values('int32', n, 3);

async function checkProduct(
  variant: string,
  dtype: DType,
  batch: readonly number[],
  [M, K, N]: readonly number[],
  la: OperandLayout,
  lb: OperandLayout,
  outOffset: number,
): Promise<void> {
  gpu!.matmulVariant = variant as WebGPUBackend['matmulVariant'];
  const [sa, sb] = [
    [...batch, M!, K!],
    [...batch, K!, N!],
  ];
  const data = dtype === 'int32' ? intValues : undefined;
  const a = pair(dtype, sa, layoutOf(sa, la), data);
  const b = pair(dtype, sb, layoutOf(sb, lb), data);
  const y = out(dtype, [...batch, M!, N!], outOffset);
  try {
    cpu.matmul({ a: a.cpu, b: b.cpu, out: y.cpu });
    gpu!.matmul({ a: a.gpu, b: b.gpu, out: y.gpu });
    const what = `matmul ${variant} ${dtype} ${M}x${K}x${N} batch [${batch}] a ${JSON.stringify(la)} b ${JSON.stringify(lb)}`;
    await same(what, y, 0, dtype === 'int32' ? 0 : 2e-7 * K! * 4 * K!);
  } finally {
    free(a, b, y);
  }
}

describe.skipIf(!gpu)('WebGPU matmul: each variant against the CPU', () => {
  for (const variant of variants) {
    it(`${variant}: random sizes, tile edges, broadcast batches, every operand layout, float32 and int32`, async () => {
      const arb = fc
        .tuple(fc.tuple(size, size, size), fc.constantFrom<DType>('float32', 'int32'), fc.nat(2))
        .chain(([dims, dtype, batchKind]) => {
          // Batches only for small products: the CPU reference and a software adapter must stay quick.
          const batch =
            dims[0] * dims[1] * dims[2] > 50_000 || batchKind === 0 ? [] : batchKind === 1 ? [3] : [2, 3];
          return fc.tuple(
            fc.constant(dims),
            fc.constant(dtype),
            fc.constant(batch),
            operandArb(batch.length),
            operandArb(batch.length),
            fc.nat(3),
          );
        });
      await fc.assert(
        fc.asyncProperty(
          arb,
          fc.constantFrom(1, 2, 3, 65535),
          async ([dims, dtype, batch, la, lb, off], limit) => {
            // A lowered grid limit splits the product into launches by rows, columns and batches.
            gpu!.matmulGroupLimit = limit;
            await checkProduct(variant, dtype, batch, dims, la, lb, off);
          },
        ),
        { ...params, numRuns: 24 },
      );
    });

    it(`${variant}: C's tile edges (N = 127..129, 257, 385; M = 63..65) with dense operands`, async () => {
      const plain: OperandLayout = {
        transposed: false,
        pad: [0, 0],
        expand: [false, false],
        offset: 0,
        aligned: true,
      };
      for (const dims of [
        [65, 3, 129],
        [63, 9, 257],
        [64, 2, 385],
        [129, 1, 127],
        [1, 33, 128],
        [66, 5, 130],
      ]) {
        await checkProduct(variant, 'float32', [], dims, plain, plain, 0);
      }
    });

    it(`${variant}: NaN and +-Inf propagate as on the CPU (0 * Inf is NaN, Inf - Inf is NaN)`, async () => {
      const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0];
      const arb = fc.tuple(
        size,
        size,
        size,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...special)), { maxLength: 4 }),
      );
      await fc.assert(
        fc.asyncProperty(arb, fc.boolean(), async ([M, K, N, spots], onA) => {
          const la: OperandLayout = {
            transposed: false,
            pad: [0, 0],
            expand: [false, false],
            offset: 0,
            aligned: true,
          };
          const spoil = (n: number) => {
            const v = values('float32', n);
            for (const [at, x] of spots) v[at % n] = x;
            return v;
          };
          gpu!.matmulVariant = variant;
          const a = pair('float32', [M, K], layoutOf([M, K], la), onA ? spoil : undefined);
          const b = pair(
            'float32',
            [K, N],
            layoutOf([K, N], { ...la, transposed: true }),
            onA ? undefined : spoil,
          );
          const y = out('float32', [M, N]);
          try {
            cpu.matmul({ a: a.cpu, b: b.cpu, out: y.cpu });
            gpu!.matmul({ a: a.gpu, b: b.gpu, out: y.gpu });
            const want = cpu.readSync(y.cpu);
            const got = await gpu!.read(y.gpu);
            for (let i = 0; i < want.length; i++) {
              const [w, g] = [want[i]!, got[i]!];
              const ok = Number.isFinite(w) ? Math.abs(g - w) <= 2e-7 * K * 4 * K : Object.is(g, w);
              if (!ok)
                throw new Error(`${variant} ${M}x${K}x${N}: element ${i} is ${g} on webgpu, ${w} on cpu`);
            }
          } finally {
            free(a, b, y);
          }
        }),
        { ...params, numRuns: 10 },
      );
    });

    it(`${variant}: expanded (stride 0) operands, as the gradient of sum() hands them to matmul`, async () => {
      gpu!.matmulVariant = variant;
      for (const [M, K, N] of [
        [4, 4, 4],
        [2, 3, 2],
        [8, 12, 5],
        [67, 129, 33],
      ] as const) {
        const b = core.randn([K, N]);
        const one = core.tensor([1.5], { shape: [1, 1] });
        const ones = core.tensor([2], { shape: [1, 1, 1] });
        const cases: [string, (dev: core.DeviceName) => Tensor][] = [
          ['expanded A', (d) => one.to(d).expand([M, K]).matmul(b.to(d))],
          [
            'expanded B',
            (d) =>
              b
                .to(d)
                .t()
                .matmul(one.to(d).expand([K, N])),
          ],
          ['expanded A, batched', (d) => ones.to(d).expand([3, M, K]).matmul(b.to(d))],
          [
            'expanded rows of B',
            (d) =>
              b
                .to(d)
                .t()
                .matmul(b.to(d).narrow(1, 0, 1).expand([K, N])),
          ],
        ];
        for (const [name, f] of cases) {
          await sameTensor(`${variant} ${name} ${M}x${K}x${N}`, f('cpu'), f('webgpu'), K);
        }
      }
    });

    it(`${variant}: gradients of A.matmul(B).sum() and .mean() and of sum(out * R)`, async () => {
      gpu!.matmulVariant = variant;
      await fc.assert(
        fc.asyncProperty(
          size,
          size,
          size,
          fc.constantFrom('sum', 'mean', 'weighted'),
          async (M, K, N, loss) => {
            const [a, b, w] = [core.randn([M, K]), core.randn([K, N]), core.randn([M, N])];
            const grads = (d: core.DeviceName) => {
              const [A, B] = [a.to(d).requiresGrad_(), b.to(d).requiresGrad_()];
              const y = A.matmul(B);
              const l = loss === 'sum' ? y.sum() : loss === 'mean' ? y.mean() : y.mul(w.to(d)).sum();
              l.backward();
              return [A.grad!, B.grad!];
            };
            const [c, g] = [grads('cpu'), grads('webgpu')];
            const tol = Math.max(M, N, K);
            await sameTensor(`${variant} dA of ${loss} ${M}x${K}x${N}`, c[0]!, g[0]!, tol);
            await sameTensor(`${variant} dB of ${loss} ${M}x${K}x${N}`, c[1]!, g[1]!, tol);
          },
        ),
        { ...params, numRuns: 6 },
      );
    });
  }
});

describe.skipIf(!gpu)('WebGPU matmul in use', () => {
  it('lstmSequence with a projection: gradients of out.sum() equal the CPU (its backward feeds matmul expanded seeds)', async () => {
    const [T, N, H, R] = [3, 2, 5, 3];
    core.manualSeed(7);
    const ins = [core.randn([T, N, 4 * H]), core.randn([R, 4 * H]), core.randn([N, R]), core.randn([N, H])];
    const wo = core.randn([H, R]);
    for (const variant of ['auto', ...variants] as const) {
      gpu!.matmulVariant = variant;
      const grads = (d: core.DeviceName) => {
        const [gx, wh, h0, c0, p] = [...ins, wo].map((t) => t.to(d).requiresGrad_());
        const [y, c] = core.lstmSequence(gx!, wh!, h0!, c0!, { projection: p! });
        y.sum().add(c.mean()).backward();
        return [gx!, wh!, h0!, c0!, p!].map((t) => t.grad!);
      };
      const [want, got] = [grads('cpu'), grads('webgpu')];
      for (let i = 0; i < want.length; i++)
        await sameTensor(`${variant} grad ${i}`, want[i]!, got[i]!, 4 * H * T);
    }
  });

  it('batches past 65535 (WebGPU workgroups per dimension) run as several launches', async () => {
    // At the real limit once; every variant splits rows, columns and batches in the property tests above, where
    // the limit is lowered so that small products need several launches.
    const a = core.randn([65535 + 3, 2, 3]);
    const b = core.randn([3, 2]);
    await sameTensor('[65538, 2, 3] x [3, 2]', a.matmul(b), a.to('webgpu').matmul(b.to('webgpu')), 3);
  });

  it("a variant the adapter cannot run is refused by name, not replaced ('subgroup' without subgroups)", () => {
    const a = core.randn([2, 2]).to('webgpu');
    if (gpu!.matmulVariants.includes('subgroup')) {
      // Launched on an adapter description without subgroups, the same request must fail.
      const plain = Object.create(gpu!, { adapter: { value: { ...gpu!.adapter, subgroupSize: null } } });
      plain.matmulVariant = 'subgroup';
      expect(() => plain.matmul({ a: a.backendView(), b: a.backendView(), out: a.backendView() })).toThrow(
        /matmul: the 'subgroup' variant needs an adapter with subgroups/,
      );
    } else {
      gpu!.matmulVariant = 'subgroup';
      expect(() => a.matmul(a)).toThrow(/matmul: the 'subgroup' variant needs an adapter with subgroups/);
    }
  });
});

/** |gpu - cpu| <= 1e-6 * n * max|cpu| (+ a floor): float32 matmul results whose terms are about as large. */
async function sameTensor(what: string, want: Tensor, got: Tensor, n: number): Promise<void> {
  expect(got.device, what).toBe('webgpu');
  expect(got.shape, what).toEqual(want.shape);
  const w = want.dataSync();
  const g = await got.data();
  let scale = 1;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-6 * n * scale;
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= tol)) {
      throw new Error(`${what}: element ${i} is ${g[i]} on webgpu, ${w[i]} on cpu (tolerance ${tol})`);
    }
  }
}
