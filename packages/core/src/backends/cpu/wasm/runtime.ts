import { WebrnnError } from '../../../errors.js';
import { type WasmMemory, type WasmModule, wasmApi } from './api.js';
import { wasmFeatures } from './features.js';
import { GEMM_SHAPE, type GemmShape, gemmModule } from './matmulModule.js';

/**
 * Whether the CPU backend runs its float32 hot kernels in WebAssembly, and the one lazily built wasm instance.
 *
 * - `auto` (the default): wasm where the host has SIMD128, plain JavaScript elsewhere.
 * - `on`: wasm, or an error naming what is missing; `off`: plain JavaScript.
 *
 * Chosen with `setCpuWasm(mode)`, or before the first kernel runs with the environment variable
 * `WEBRNN_CPU_WASM` (`0` = off, `1` = on). The user still says `device: 'cpu'`.
 */
export type CpuWasmMode = 'auto' | 'on' | 'off';

let mode: CpuWasmMode | null = null;

/** Read at call time (never at import), and only where a `process` exists: this module also loads in browsers. */
function modeFromEnv(): CpuWasmMode {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.WEBRNN_CPU_WASM;
  return v === '0' ? 'off' : v === '1' ? 'on' : 'auto';
}

function missing(): string | null {
  return wasmFeatures().simd ? null : "this host's WebAssembly has no SIMD128";
}

/** Selects the CPU backend's kernels for the rest of the process (see CpuWasmMode). */
export function setCpuWasm(m: CpuWasmMode): void {
  if (m !== 'auto' && m !== 'on' && m !== 'off') {
    throw new WebrnnError('setCpuWasm', `got mode ${JSON.stringify(m)}, expected 'auto', 'on' or 'off'`);
  }
  const why = m === 'on' ? missing() : null;
  if (why) throw new WebrnnError('setCpuWasm', `got 'on', but ${why}`);
  mode = m;
}

/** Whether the float32 kernels run in wasm now; `op` names the kernel in the error of a forced mode. */
export function wasmEnabled(op: string): boolean {
  mode ??= modeFromEnv();
  if (mode === 'off') return false;
  const why = missing();
  if (why && mode === 'on')
    throw new WebrnnError(op, `WEBRNN_CPU_WASM=1 asks for the wasm kernels, but ${why}`);
  return why === null;
}

/** What the CPU backend's wasm path uses here (for tests, benchmarks and bug reports). */
export function cpuWasmStatus(): {
  mode: CpuWasmMode;
  active: boolean;
  simd: boolean;
  relaxedSimd: boolean;
  sharedMemory: boolean;
} {
  const active = wasmEnabled('cpuWasmStatus');
  return { mode: mode!, active, ...wasmFeatures() };
}

/** The largest wasm memory the kernels use (1 GiB); a product that needs more runs in JavaScript. */
export const MAX_WASM_BYTES = 1 << 30;
/** Bytes of a wasm memory page. */
export const PAGE = 65536;

/**
 * Adds rows [i0, i1), columns [j0, j1) of packed A times packed B to C (byte addresses; matmulModule.ts). gemm's
 * and gemv's signature (gemv: i1 <= MR).
 */
export type GemmFn = (
  pa: number,
  pb: number,
  c: number,
  Mp: number,
  Np: number,
  K: number,
  i0: number,
  i1: number,
  ldc: number,
  j0: number,
  j1: number,
) => void;

export interface GemmInstance {
  readonly shape: GemmShape;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly gemm: GemmFn;
  /** gemm for rows [i0, i1) with i1 <= MR (products of fewer rows than a register block). */
  readonly gemv: GemmFn;
}

let instance: GemmInstance | null = null;
let instanceFailed = false;

/**
 * The matmul instance, compiled on first use, or null if the host refused it (say, the address space for the
 * memory's maximum): products then stay in JavaScript. The module is a few hundred bytes, so synchronous
 * compilation is allowed on a browser's main thread too. Its memory is shared where the host allows, so that
 * worker threads can compute into it.
 */
export function gemmInstance(): GemmInstance | null {
  if (instance || instanceFailed) return instance;
  const f = wasmFeatures();
  const shape: GemmShape = { ...GEMM_SHAPE, fma: f.relaxedSimd };
  const wa = wasmApi!;
  const limits = { maximum: MAX_WASM_BYTES / PAGE, shared: f.sharedMemory };
  try {
    const memory = new wa.Memory({ initial: 1, ...limits });
    const module = new wa.Module(gemmModule(shape, limits));
    const exports = new wa.Instance(module, { env: { memory } }).exports;
    instance = { shape, module, memory, gemm: exports.gemm as GemmFn, gemv: exports.gemv as GemmFn };
  } catch {
    instanceFailed = true;
  }
  return instance;
}

/**
 * The exports of a module built by `build` (given the memory's limits) and instantiated over the matmul
 * instance's memory, for the row kernels (softmax, reductions) that share its scratch; null where the host has no
 * instance or refuses this one (JavaScript then serves).
 */
export function instantiateOverMemory(
  build: (memory: { maximum: number; shared: boolean }) => Uint8Array,
): Record<string, unknown> | null {
  const g = gemmInstance();
  if (!g) return null;
  try {
    const limits = { maximum: MAX_WASM_BYTES / PAGE, shared: wasmFeatures().sharedMemory };
    return new wasmApi!.Instance(new wasmApi!.Module(build(limits)), { env: { memory: g.memory } }).exports;
  } catch {
    return null;
  }
}

/**
 * The instance's memory grown to at least `bytes`, as float32s. The view is kept between calls (a cell step calls
 * this several times per time step: a fresh view of a shared memory's buffer each time cost as much as a small
 * cell) and replaced when it is too short: after a grow, a non-shared memory's old view is detached (length 0),
 * a shared one's keeps its old length.
 */
let floats: Float32Array | null = null;

export function wasmFloats(g: GemmInstance, bytes: number): Float32Array {
  if (floats === null || floats.length * 4 < bytes) {
    const have = g.memory.buffer.byteLength;
    if (have < bytes) g.memory.grow(Math.ceil((bytes - have) / PAGE));
    floats = new Float32Array(g.memory.buffer);
  }
  return floats;
}
