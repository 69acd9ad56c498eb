import { type CellKind, type LstmGateOrder, cellWidth, cellWrites } from '@webrnn/kernels';
import type { View } from '../../backend.js';
import { wasmApi } from './api.js';
import { cellModule, cellWasm } from './cellModule.js';
import { wasmFeatures } from './features.js';
import { scratchBase } from './packedCache.js';
import { MAX_WASM_BYTES, PAGE, gemmInstance, wasmFloats } from './runtime.js';

/**
 * Runs a fused cell through its generated wasm function (cellModule.ts): the operands are copied into the scratch
 * of the one wasm memory (above the packed-weight cache, as the matmul's), each row's gate slices padded to a
 * multiple of 4 units, the function runs, and the written operands are copied back. All reads are copied in before
 * any write goes out, which is what the JS loop gives too when a written view is also read (in place, element by
 * element). Each kernel's module is compiled on first use (a few hundred bytes) and shares the matmul's memory.
 */
type CellFn = (N: number, Hp: number, ...addresses: number[]) => void;

interface Compiled {
  readonly fn: CellFn;
  readonly operands: readonly string[];
}

/** The compiled kernels by (kind, order, absent); null where the host refused one (the JS loop serves). */
const cache = new Map<string, Compiled | null>();

function compile(
  kind: CellKind,
  order: LstmGateOrder | undefined,
  absent: readonly string[],
): Compiled | null {
  const g = gemmInstance();
  if (!g) return null;
  try {
    const c = cellWasm(kind, order, absent);
    const limits = { maximum: MAX_WASM_BYTES / PAGE, shared: wasmFeatures().sharedMemory };
    const module = new wasmApi!.Module(cellModule(c, limits));
    const fn = new wasmApi!.Instance(module, { env: { memory: g.memory } }).exports.cell as CellFn;
    return { fn, operands: c.operands };
  } catch {
    return null;
  }
}

const roundUp4 = (n: number) => (n + 3) & ~3;

/**
 * Cell `kind` over N rows of H units in wasm, or false (nothing written) when it cannot run there: no instance,
 * or the operands would not fit in the memory. The caller has checked that every view is float32 with unit
 * column stride.
 */
export function cellWasmRun(
  kind: CellKind,
  views: Readonly<Record<string, View | null>>,
  order: LstmGateOrder | undefined,
  absent: readonly string[],
  N: number,
  H: number,
): boolean {
  // The order is part of the key for GRU too: harmless, GRU callers pass none.
  const key = `${kind}|${order ?? ''}|${absent.join(',')}`;
  let c = cache.get(key);
  if (c === undefined) {
    c = compile(kind, order, absent);
    cache.set(key, c);
  }
  const g = c && gemmInstance();
  if (!c || !g) return false;
  const Hp = roundUp4(H);
  const at: number[] = [];
  let top = roundUp4(scratchBase());
  for (const name of c.operands) {
    at.push(top);
    top += N * cellWidth(kind, name) * Hp;
  }
  if (4 * top > MAX_WASM_BYTES) return false;
  let F: Float32Array;
  try {
    F = wasmFloats(g, 4 * top);
  } catch {
    return false; // the host would not grow the memory
  }
  const writes = cellWrites(kind);
  c.operands.forEach((name, i) => {
    // Written operands are operands 0 .. writes-1 of cellOperandNames, which `operands` keeps in order.
    if (i >= writes) copy(F, at[i]!, views[name]!, N, H, Hp, cellWidth(kind, name), true);
  });
  c.fn(N, Hp, ...at.map((a) => 4 * a));
  for (let i = 0; i < writes; i++) {
    const name = c.operands[i]!;
    copy(F, at[i]!, views[name]!, N, H, Hp, cellWidth(kind, name), false);
  }
  return true;
}

/**
 * Copies view `v` (N x width H, unit column stride) into (`into`) or out of the dense N x (width Hp) block at float
 * `at` of F, one run of H floats per row and slice, or the whole block at once when both sides are dense.
 */
function copy(
  F: Float32Array,
  at: number,
  v: View,
  N: number,
  H: number,
  Hp: number,
  w: number,
  into: boolean,
) {
  const B = v.buffer as Float32Array;
  const rs = v.strides[0]!;
  if (Hp === H && (rs === w * H || N === 1)) {
    const len = N * w * H;
    if (into) F.set(B.subarray(v.offset, v.offset + len), at);
    else B.set(F.subarray(at, at + len), v.offset);
    return;
  }
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < w; s++) {
      const [b, f] = [v.offset + n * rs + s * H, at + (n * w + s) * Hp];
      if (into) for (let j = 0; j < H; j++) F[f + j] = B[b + j]!;
      else for (let j = 0; j < H; j++) B[b + j] = F[f + j]!;
    }
  }
}
