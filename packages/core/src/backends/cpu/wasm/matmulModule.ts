import {
  type FunctionBuilder as Fn,
  FunctionBuilder,
  I32,
  type Local,
  V128,
  encodeModule,
} from './emitter.js';
import { gemvBody, nextK } from './gemvBody.js';

/**
 * The wasm float32 matmul kernel, generated: `gemm(pa, pb, c, Mp, Np, K, i0, i1, ldc, j0, j1)` adds the block of rows
 * [i0, i1) and columns [j0, j1) (j0, j1 multiples of NR, or j1 = Np) of A B to C, from operands packed by
 * matmulWasm.ts (a block of columns lets two threads share a product of few rows, a recurrent step's):
 *
 * - A, K chunk by K chunk (KC values), in panels of MR rows, k-major in a panel: element (i, k) of the chunk that
 *   starts at k0 is at PA[Mp * k0 + (i - i % MR) * kc + k * MR + i % MR].
 * - B likewise in panels of NR columns: element (k, j) at PB[Np * k0 + (j - j % NR) * kc + k * NR + j % NR].
 * - C is Mp x Np with rows ldc >= Np floats apart (padded to whole tiles; the caller zeroes it and copies the M x N
 *   corner out). Rows a multiple of 4 KiB apart would make the stores of a tile's rows alias in the cache
 *   (measured 20-40% slower at N = 1024), so the caller pads ldc there.
 *
 * All addresses are in bytes. Each B panel (NR x KC floats, 8 KiB) sweeps MC rows of packed A (in L2) with an
 * MR x NR register block: MR * NR / 4 f32x4 accumulators, NR / 4 vectors of B and one splat of A per row.
 * Padding rows and columns are zero in the packed operands and land in C's padding, which is never read.
 */
export interface GemmShape {
  /** Rows of the register block. */
  readonly MR: number;
  /** Columns of the register block (a multiple of 4). */
  readonly NR: number;
  /** K chunk length. */
  readonly KC: number;
  /** Rows of A swept by one B panel (a multiple of MR). */
  readonly MC: number;
  /** Use f32x4.relaxed_madd (one fused multiply-add per lane) instead of mul then add. */
  readonly fma: boolean;
}

/**
 * 4 x 8: 8 accumulators, 2 vectors of B and a splat of A. 6 x 8, 5 x 8, 4 x 12 and 2 x 16 measured 25-40% slower
 * (V8 spills accumulators), KC 128 or 512 about the same (kernel alone, 512^3, one thread: ~49 GFLOP/s).
 */
export const GEMM_SHAPE: Omit<GemmShape, 'fma'> = { MR: 4, NR: 8, KC: 256, MC: 96 };

/** min(a, b) into `out`, of the i32 values that `a` and `b` push (each pushed twice: select takes both and a test). */
function min(f: Fn, a: () => void, b: () => void, out: Local): void {
  a();
  b();
  a();
  b();
  f.op('i32LtS').op('select').set(out);
}

type Eleven = [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];

/** The body of gemm (see the module comment). */
export function gemmBody(s: GemmShape): FunctionBuilder {
  const { MR, NR, KC, MC } = s;
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [pa, pb, c, Mp, Np, K, i0, i1, ldC, j0, j1] = Array.from({ length: 11 }, (_, i) =>
    f.param(i, I32),
  ) as Eleven;
  const k0 = f.local(I32);
  const kc = f.local(I32);
  const paChunk = f.local(I32);
  const pbChunk = f.local(I32);
  const r0 = f.local(I32);
  const r1 = f.local(I32);
  const j = f.local(I32);
  const i = f.local(I32);
  const ap = f.local(I32);
  const aEnd = f.local(I32);
  const bp = f.local(I32);
  const cp = f.local(I32);
  const row = f.local(I32);
  const ldc = f.local(I32);
  const acc: Local[][] = Array.from({ length: MR }, () =>
    Array.from({ length: NR / 4 }, () => f.local(V128)),
  );
  const bv: Local[] = Array.from({ length: NR / 4 }, () => f.local(V128));
  const av = f.local(V128);

  // Every loop is do-while: the caller passes K > 0, i0 < i1 and j0 < j1.
  f.get(ldC).i32(2).op('i32Shl').set(ldc); // bytes per row of C
  f.i32(0).set(k0);
  f.loop(); // K chunks
  min(
    f,
    () => f.i32(KC),
    () => f.get(K).get(k0).op('i32Sub'),
    kc,
  );
  f.get(pa).get(Mp).get(k0).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(paChunk);
  f.get(pb).get(Np).get(k0).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(pbChunk);
  f.get(i0).set(r0);
  f.loop(); // blocks of MC rows
  min(
    f,
    () => f.get(r0).i32(MC).op('i32Add'),
    () => f.get(i1),
    r1,
  );
  f.get(j0).set(j);
  f.loop(); // B panels
  f.get(r0).set(i);
  f.loop(); // register blocks down the MC rows
  // ap = paChunk + 4 i kc; bp = pbChunk + 4 j kc; cp = c + 4 (i ldC + j)
  f.get(paChunk).get(i).get(kc).op('i32Mul').i32(2).op('i32Shl').op('i32Add').tee(ap);
  f.get(kc)
    .i32(MR * 4)
    .op('i32Mul')
    .op('i32Add')
    .set(aEnd);
  f.get(pbChunk).get(j).get(kc).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(bp);
  f.get(c).get(i).get(ldC).op('i32Mul').get(j).op('i32Add').i32(2).op('i32Shl').op('i32Add').set(cp);
  forEachRowOfC(f, MR, cp, row, ldc, (r) => {
    for (let v = 0; v < NR / 4; v++)
      f.get(row)
        .v128Load(16 * v)
        .set(acc[r]![v]!);
  });
  f.loop(); // k inside the chunk
  for (let v = 0; v < NR / 4; v++)
    f.get(bp)
      .v128Load(16 * v)
      .set(bv[v]!);
  for (let r = 0; r < MR; r++) {
    f.get(ap)
      .v128Load32Splat(4 * r)
      .set(av);
    for (let v = 0; v < NR / 4; v++) {
      if (s.fma) f.get(av).get(bv[v]!).get(acc[r]![v]!).simd('f32x4RelaxedMadd');
      else f.get(acc[r]![v]!).get(av).get(bv[v]!).simd('f32x4Mul').simd('f32x4Add');
      f.set(acc[r]![v]!);
    }
  }
  nextK(f, bp, NR * 4, ap, MR * 4, aEnd);
  f.end();
  forEachRowOfC(f, MR, cp, row, ldc, (r) => {
    for (let v = 0; v < NR / 4; v++)
      f.get(row)
        .get(acc[r]![v]!)
        .v128Store(16 * v);
  });
  f.get(i).i32(MR).op('i32Add').tee(i).get(r1).op('i32LtS').brIf(0);
  f.end();
  f.get(j).i32(NR).op('i32Add').tee(j).get(j1).op('i32LtS').brIf(0);
  f.end();
  f.get(r1).tee(r0).get(i1).op('i32LtS').brIf(0);
  f.end();
  f.get(k0).i32(KC).op('i32Add').tee(k0).get(K).op('i32LtS').brIf(0);
  f.end();
  return f;
}

/** Runs `body(r)` for the MR rows of the C block at cp, with `row` at row r. */
function forEachRowOfC(
  f: Fn,
  MR: number,
  cp: Local,
  row: Local,
  ldc: Local,
  body: (r: number) => void,
): void {
  f.get(cp).set(row);
  for (let r = 0; r < MR; r++) {
    body(r);
    if (r < MR - 1) f.get(row).get(ldc).op('i32Add').set(row);
  }
}

/**
 * The module's bytes: gemm, and gemv for fewer rows than a register block (gemvBody.ts), over an imported memory
 * (shared when threads will use it).
 */
export function gemmModule(shape: GemmShape, memory: { maximum: number; shared: boolean }): Uint8Array {
  return encodeModule({
    memory: { initial: 1, maximum: memory.maximum, shared: memory.shared },
    functions: [
      { name: 'gemm', body: gemmBody(shape) },
      { name: 'gemv', body: gemvBody(shape) },
    ],
  });
}
