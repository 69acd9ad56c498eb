import fc from 'fast-check';
import { expect } from 'vitest';
import { type Backend, CpuBackend, type DType, type View } from '@webrnn/core';
import { webgpuForFile } from './webgpu.js';

/**
 * What the backend-level WebGPU tests share (webgpuBackend.test.ts, webgpuKernels.test.ts): the adapter (null,
 * with one printed line, when there is none; an error when WEBRNN_REQUIRE_WEBGPU=1), a CpuBackend to compare
 * with, random layouts (size-1, broadcast, transposed, padded, offset views), the same data placed on both
 * backends, and the element-by-element comparison.
 */
export const gpu = await webgpuForFile('webgpu backend');
export const cpu = new CpuBackend();
export const params = { numRuns: 8, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261129) };

/** How a view sits in its buffer: dims in storage order `perm`, `pad` extra elements per dim, stride 0 where `bcast`. */
export interface Layout {
  readonly perm: readonly number[];
  readonly pad: readonly number[];
  readonly bcast: readonly boolean[];
  readonly offset: number;
}

export const dense = (rank: number): Layout => ({
  perm: [...Array(rank).keys()],
  pad: Array(rank).fill(0),
  bcast: Array(rank).fill(false),
  offset: 0,
});

export const layoutArb = (rank: number, broadcast = true): fc.Arbitrary<Layout> =>
  fc.record({
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    pad: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: rank, maxLength: rank }),
    bcast: fc.array(broadcast ? fc.boolean() : fc.constant(false), { minLength: rank, maxLength: rank }),
    offset: fc.integer({ min: 0, max: 5 }),
  });

export const shapeArb = (minRank: number, maxRank: number, maxDim = 5) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

let seed = 1;
/** Deterministic values: floats in [-scale, scale), or ints in [-scale, scale]. */
export function values(dtype: DType, n: number, scale = 2, positive = false): Float32Array | Int32Array {
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
export interface Pair {
  readonly cpu: View;
  readonly gpu: View;
}

export function pair(
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

export const out = (dtype: DType, shape: readonly number[], offset = 0): Pair => {
  const zero = (n: number) => (dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
  return pair(dtype, shape, { ...dense(shape.length), offset }, zero);
};

export const free = (...pairs: Pair[]) => {
  for (const p of pairs) {
    cpu.free(p.cpu.buffer);
    gpu!.free(p.gpu.buffer);
  }
};

/** Compare the views element by element: |gpu - cpu| <= atol + rtol * |cpu|. */
export async function same(what: string, p: Pair, rtol = 0, atol = 0): Promise<void> {
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
