import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { setCpuWasm } from '../src/backends/cpu/wasm/runtime.js';
import {
  type Tensor,
  WebrnnError,
  add,
  addmm,
  matmul,
  memory,
  noGrad,
  ones,
  tensor,
  tidy,
  vjp,
} from '../src/index.js';

/**
 * addmm's CPU path (the product starts from c: wasm kernel with and without a cached packed B, the thin and
 * packed JavaScript kernels) against the general path it replaces, add(c, matmul(a, b)), in float64 on the
 * JavaScript kernels; and its gradients against the same composition's.
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
afterAll(() => setCpuWasm('auto'));

let state = 7;
function values(n: number): number[] {
  return Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}
const make = (shape: number[], dtype: 'float32' | 'float64' = 'float32', requiresGrad = false) =>
  tensor(values(shape.reduce((p, d) => p * d, 1)), { shape, dtype, requiresGrad });

const dim = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 70 }));
const cKind = fc.constantFrom('full', 'row', 'column', 'scalar', 'transposed');
const cShape = (k: string, M: number, N: number) =>
  ({ full: [M, N], row: [N], column: [M, 1], scalar: [], transposed: [N, M] })[k]!;

function close(got: Tensor, want: Tensor, K: number, what: string): void {
  const g = got.dataSync();
  const w = want.dataSync();
  expect(got.shape).toEqual(want.shape);
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= 3e-6 * (K + 2) * (1 + Math.abs(w[i]!)))) {
      expect.fail(`${what}: element ${i} is ${g[i]}, expected ${w[i]}`);
    }
  }
}

describe('addmm on the CPU', () => {
  it('equals add(c, matmul(a, b)) for random sizes, broadcasts, transposes and kernels', () => {
    fc.assert(
      fc.property(
        dim,
        dim,
        dim,
        cKind,
        fc.boolean(),
        fc.constantFrom('on', 'off'),
        (M, N, K, k, transB, wasm) => {
          const before = memory().cpu!.liveBuffers;
          tidy(() => {
            const c0 = make(cShape(k, M, N));
            const c = k === 'transposed' ? c0.t() : c0;
            const a = make([M, K]);
            const b = make(transB ? [N, K] : [K, N]);
            const ref = noGrad(() => {
              setCpuWasm('off');
              const [c64, a64, b64] = [c, a, b].map((t) => t.cast('float64'));
              return add(c64!, matmul(a64!, b64!, { transB }));
            });
            setCpuWasm(wasm as 'on' | 'off');
            // Three times: the third product reads a packed B kept from the second (the cache's wasm path).
            for (let r = 0; r < 3; r++)
              close(addmm(c, a, b, { transB }), ref, K, `${M}x${K}x${N} c ${k} run ${r}`);
          });
          expect(memory().cpu!.liveBuffers).toBe(before);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('has the gradients of add(c, matmul(a, b))', () => {
    fc.assert(
      fc.property(dim, dim, dim, cKind, fc.boolean(), fc.boolean(), (M, N, K, k, transA, transB) => {
        setCpuWasm('auto');
        const before = memory().cpu!.liveBuffers;
        tidy(() => {
          const c = make(cShape(k === 'transposed' ? 'full' : k, M, N), 'float64', true);
          const a = make(transA ? [K, M] : [M, K], 'float64', true);
          const b = make(transB ? [N, K] : [K, N], 'float64', true);
          const g = make([M, N], 'float64');
          const inputs = [c, a, b];
          const fused = vjp([addmm(c, a, b, { transA, transB })], [g], inputs);
          const plain = vjp([add(c, matmul(a, b, { transA, transB }))], [g], inputs);
          fused.forEach((d, i) => close(d!, plain[i]!, K, `gradient of ${'cab'[i]}`));
        });
        expect(memory().cpu!.liveBuffers).toBe(before);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('names the op and the shapes on bad operands', () => {
    const a = ones([2, 3]);
    const b = ones([3, 4]);
    expect(() => addmm(ones([3]), a, b)).toThrow(WebrnnError);
    expect(() => addmm(ones([3]), a, b)).toThrow(/addmm.*c \[3\]/);
    expect(() => addmm(ones([4]), a, ones([2, 4]))).toThrow(/addmm.*a \[2, 3\], b \[2, 4\]/);
    expect(() => addmm(ones([4]), ones([3]), b)).toThrow(/addmm/);
    expect(() => addmm(ones([4]), a, b.cast('float64'))).toThrow(/addmm.*dtype/);
  });
});
