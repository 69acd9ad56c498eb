import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cpuWasmStatus, setCpuWasm } from '../src/backends/cpu/wasm/runtime.js';
import { WebrnnError } from '../src/errors.js';
import { fromData, matmul } from '../src/index.js';
import { caseArb, check } from './helpers/matmulWasmCases.js';

/**
 * The CPU backend's wasm float32 matmul against its JavaScript reference (the same backend with the wasm path
 * off, float64 sums): sizes 0..70 across the 4 x 8 register blocks' edges, several K chunks, batches with
 * broadcast (stride-0) operands, transposed and offset views, and NaN / +-Inf, which must land where the
 * reference puts them. float32 sums in wasm: tolerance grows with K.
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261204);
afterAll(() => setCpuWasm('auto'));

describe('wasm float32 matmul', () => {
  it('runs in wasm here (Node has SIMD128)', () => {
    setCpuWasm('on');
    expect(cpuWasmStatus()).toMatchObject({ mode: 'on', active: true, simd: true });
    setCpuWasm('off');
    expect(cpuWasmStatus()).toMatchObject({ mode: 'off', active: false });
  });

  it('matches the JavaScript path for M, N, K in 0..70, batches, broadcasts, transposes and offsets', () => {
    fc.assert(
      fc.property(caseArb(70, 0, 70, 0), (c) => check(c)),
      { numRuns: 200, seed: SEED },
    );
  });

  it('puts NaN and +-Inf where the JavaScript path does', () => {
    fc.assert(
      fc.property(caseArb(30, 1, 40, 3), (c) => check(c)),
      { numRuns: 100, seed: SEED },
    );
  });

  it('matches it across K chunks (K up to 700) and every register-block edge', () => {
    fc.assert(
      fc.property(caseArb(21, 250, 700, 0), (c) => check(c)),
      { numRuns: 30, seed: SEED },
    );
    const base = { batch: [], shareA: [], shareB: [], offA: 1, offB: 2, specials: [], seed: 3 };
    for (const M of [8, 9, 11, 12, 13])
      for (const N of [4, 7, 8, 9, 15, 16, 17])
        for (const transA of [false, true]) check({ ...base, M, N, K: 257, transA, transB: !transA });
    // N padded to 1024 columns: C's rows are then stored 1032 floats apart (no 4 KiB aliasing).
    for (const N of [1017, 1024]) check({ ...base, M: 9, N, K: 20, transA: false, transB: N === 1024 });
  });

  it('serves the public matmul of float32 tensors', () => {
    setCpuWasm('on');
    const a = fromData(
      Float32Array.from({ length: 20 * 30 }, (_, i) => (i % 7) - 3),
      [20, 30],
    );
    const got = matmul(a, a, { transB: true }).dataSync();
    setCpuWasm('off');
    expect(got).toEqual(matmul(a, a, { transB: true }).dataSync()); // small integers: exact on both paths
  });

  it('takes its mode from WEBRNN_CPU_WASM when setCpuWasm was not called', async () => {
    const saved = process.env.WEBRNN_CPU_WASM;
    try {
      for (const [value, mode, active] of [
        ['0', 'off', false],
        ['1', 'on', true],
        [undefined, 'auto', true],
      ] as const) {
        if (value === undefined) delete process.env.WEBRNN_CPU_WASM;
        else process.env.WEBRNN_CPU_WASM = value;
        vi.resetModules(); // a fresh runtime module, which reads the variable on first use
        const fresh = await import('../src/backends/cpu/wasm/runtime.js');
        expect(fresh.cpuWasmStatus()).toMatchObject({ mode, active });
      }
    } finally {
      if (saved === undefined) delete process.env.WEBRNN_CPU_WASM;
      else process.env.WEBRNN_CPU_WASM = saved;
    }
  });

  it('falls back to JavaScript where the host has no wasm SIMD, and refuses to be forced there', async () => {
    vi.resetModules();
    vi.doMock('../src/backends/cpu/wasm/features.js', () => ({
      wasmFeatures: () => ({ simd: false, relaxedSimd: false, sharedMemory: false }),
    }));
    try {
      const fresh = await import('../src/backends/cpu/wasm/runtime.js');
      fresh.setCpuWasm('auto');
      expect(fresh.cpuWasmStatus()).toMatchObject({ mode: 'auto', active: false, simd: false });
      expect(fresh.wasmEnabled('matmul')).toBe(false);
      expect(() => fresh.setCpuWasm('on')).toThrow(
        /setCpuWasm: got 'on', but this host's WebAssembly has no SIMD128/,
      );
    } finally {
      vi.doUnmock('../src/backends/cpu/wasm/features.js');
      vi.resetModules();
    }
  });

  it('computes in JavaScript when the host refuses the wasm memory', async () => {
    vi.resetModules();
    const real = (await import('../src/backends/cpu/wasm/api.js')).wasmApi!;
    vi.doMock('../src/backends/cpu/wasm/api.js', () => ({
      wasmApi: {
        ...real,
        Memory: class {
          constructor() {
            throw new RangeError('out of address space');
          }
        },
      },
    }));
    try {
      const fresh = await import('../src/backends/cpu/matmul.js');
      const { gemmInstance } = await import('../src/backends/cpu/wasm/runtime.js');
      const [M, N, K] = [20, 12, 30];
      const A = Float32Array.from({ length: M * K }, (_, i) => (i % 5) - 2);
      const B = Float32Array.from({ length: K * N }, (_, i) => (i % 3) - 1);
      const out = new Float32Array(M * N);
      const v = (buffer: Float32Array, r: number, c: number) => ({
        buffer,
        dtype: 'float32' as const,
        shape: [r, c],
        strides: [c, 1],
        offset: 0,
      });
      fresh.matmulCpu(v(A, M, K), v(B, K, N), v(out, M, N));
      expect(gemmInstance()).toBeNull();
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let sum = 0;
          for (let k = 0; k < K; k++) sum += A[i * K + k]! * B[k * N + j]!;
          expect(out[i * N + j]).toBe(sum);
        }
    } finally {
      vi.doUnmock('../src/backends/cpu/wasm/api.js');
      vi.resetModules();
    }
  });

  it('refuses an unknown mode, naming setCpuWasm and the modes it takes', () => {
    expect(() => setCpuWasm('fast' as never)).toThrow(WebrnnError);
    expect(() => setCpuWasm('fast' as never)).toThrow(
      /setCpuWasm: got mode "fast", expected 'auto', 'on' or 'off'/,
    );
  });
});
