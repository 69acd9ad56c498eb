import { wasmApi } from './api.js';
import { FunctionBuilder, I32, V128, encodeModule } from './emitter.js';

/**
 * What the host's WebAssembly can do, found by validating tiny modules built with the emitter (never by the
 * engine's name or version): SIMD128, relaxed-SIMD's fused multiply-add, and shared memory for threads.
 * Each is computed once, on first use.
 */
export interface WasmFeatures {
  /** WebAssembly with SIMD128 (v128, f32x4): the wasm kernels need it. */
  readonly simd: boolean;
  /** f32x4.relaxed_madd: the matmul kernel then uses one fused multiply-add per lane. */
  readonly relaxedSimd: boolean;
  /** Shared wasm memory (SharedArrayBuffer; in a browser only when cross-origin isolated): threads can share it. */
  readonly sharedMemory: boolean;
}

/** A module of one function that uses the instructions `body` emits (from a v128 parameter and an address). */
function validates(body: (f: FunctionBuilder) => void): boolean {
  const f = new FunctionBuilder([V128, I32], [V128]);
  body(f);
  try {
    const memory = { initial: 1, maximum: 1, shared: false };
    return wasmApi!.validate(encodeModule({ memory, functions: [{ name: 'f', body: f }] }));
  } catch {
    return false;
  }
}

function detect(): WasmFeatures {
  if (typeof wasmApi?.validate !== 'function') {
    return { simd: false, relaxedSimd: false, sharedMemory: false };
  }
  const simd = validates((f) => {
    const [x, p] = [f.param(0, V128), f.param(1, I32)];
    f.get(x).get(p).v128Load32Splat().simd('f32x4Mul');
  });
  const relaxedSimd =
    simd &&
    validates((f) => {
      const x = f.param(0, V128);
      f.get(x).get(x).get(x).simd('f32x4RelaxedMadd');
    });
  let sharedMemory = false;
  try {
    sharedMemory =
      typeof SharedArrayBuffer === 'function' &&
      new wasmApi.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    sharedMemory = false;
  }
  return { simd, relaxedSimd, sharedMemory };
}

let features: WasmFeatures | null = null;

export function wasmFeatures(): WasmFeatures {
  features ??= detect();
  return features;
}
