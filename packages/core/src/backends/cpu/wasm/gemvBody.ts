import { FunctionBuilder, I32, type Local, V128 } from './emitter.js';
import type { GemmShape } from './matmulModule.js';

type Eleven = [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];

/**
 * `gemv(pa, pb, c, Mp, Np, K, i0, i1, ldc, j0, j1)`: gemm's contract (matmulModule.ts, same packed layouts, byte
 * addresses, a block of columns [j0, j1)) for rows [i0, i1) of the first register block only (i1 <= MR): products of one to MR - 1 rows, a
 * batch-1 recurrence's step. gemm would compute all MR rows of the block, mostly padding, in one chain of
 * dependent adds per accumulator; here each row is a chain of its own, and K is unrolled four ways into separate
 * accumulators (summed at the end), so that the multiply-adds overlap instead of waiting for each other.
 * Each B panel is swept once per row, from L1 after the first.
 */
export function gemvBody(s: GemmShape): FunctionBuilder {
  const { MR, NR, KC } = s;
  const V = NR / 4;
  const U = 4; // k unroll
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [pa, pb, c, Mp, Np, K, i0, i1, ldC, j0, j1] = Array.from({ length: 11 }, (_, i) =>
    f.param(i, I32),
  ) as Eleven;
  const [k0, kc, paChunk, pbChunk, j, i, ap, aEnd, a4End, bp, bRow, cp] = Array.from({ length: 12 }, () =>
    f.local(I32),
  );
  const acc: Local[][] = Array.from({ length: U }, () => Array.from({ length: V }, () => f.local(V128)));
  const av = f.local(V128);
  const step = (u: number) => {
    // k + u: one splat of A, V vectors of B into accumulators acc[u].
    f.get(ap)
      .v128Load32Splat(4 * MR * u)
      .set(av);
    for (let v = 0; v < V; v++) {
      const a = acc[u]![v]!;
      if (s.fma)
        f.get(av)
          .get(bp)
          .v128Load(16 * (u * V + v))
          .get(a)
          .simd('f32x4RelaxedMadd');
      else
        f.get(a)
          .get(av)
          .get(bp)
          .v128Load(16 * (u * V + v))
          .simd('f32x4Mul')
          .simd('f32x4Add');
      f.set(a);
    }
  };

  f.i32(0).set(k0);
  f.loop(); // K chunks
  // kc = min(KC, K - k0)
  f.i32(KC).get(K).get(k0).op('i32Sub').i32(KC).get(K).get(k0).op('i32Sub').op('i32LtS').op('select').set(kc);
  f.get(pa).get(Mp).get(k0).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(paChunk);
  f.get(pb).get(Np).get(k0).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(pbChunk);
  f.get(j0).set(j);
  f.loop(); // B panels
  f.get(pbChunk).get(j).get(kc).op('i32Mul').i32(2).op('i32Shl').op('i32Add').set(bRow);
  f.get(i0).set(i);
  f.loop(); // rows
  // Row i of the first A panel: value k at paChunk + 4 (i + MR k).
  f.get(paChunk).get(i).i32(2).op('i32Shl').op('i32Add').tee(ap);
  f.get(kc)
    .i32(4 * MR)
    .op('i32Mul')
    .op('i32Add')
    .set(aEnd);
  f.get(ap)
    .get(kc)
    .i32(~(U - 1))
    .op('i32And')
    .i32(4 * MR)
    .op('i32Mul')
    .op('i32Add')
    .set(a4End);
  f.get(bRow).set(bp);
  for (const row of acc) for (const a of row) f.f32x4Const(0).set(a);
  f.block();
  f.get(ap).get(a4End).op('i32GeS').brIf(0);
  f.loop(); // k, U at a time
  for (let u = 0; u < U; u++) step(u);
  nextK(f, bp, 4 * NR * U, ap, 4 * MR * U, a4End);
  f.end();
  f.end();
  f.block();
  f.get(ap).get(aEnd).op('i32GeS').brIf(0);
  f.loop(); // the last kc % U values of k
  step(0);
  nextK(f, bp, 4 * NR, ap, 4 * MR, aEnd);
  f.end();
  f.end();
  // C[i, j .. j + NR) += the sum of the U partial sums.
  f.get(c).get(i).get(ldC).op('i32Mul').get(j).op('i32Add').i32(2).op('i32Shl').op('i32Add').set(cp);
  for (let v = 0; v < V; v++) {
    f.get(cp);
    f.get(cp).v128Load(16 * v);
    for (let u = 0; u < U; u++) f.get(acc[u]![v]!).simd('f32x4Add');
    f.v128Store(16 * v);
  }
  f.get(i).i32(1).op('i32Add').tee(i).get(i1).op('i32LtS').brIf(0);
  f.end();
  f.get(j).i32(NR).op('i32Add').tee(j).get(j1).op('i32LtS').brIf(0);
  f.end();
  f.get(k0).i32(KC).op('i32Add').tee(k0).get(K).op('i32LtS').brIf(0);
  f.end();
  return f;
}

/**
 * The end of a loop over k in the packed panels: advance B's and A's pointers by their bytes per step and loop
 * again while A's is below `aEnd` (gemm's and gemv's inner loops).
 */
export function nextK(
  f: FunctionBuilder,
  bp: Local,
  bBytes: number,
  ap: Local,
  aBytes: number,
  aEnd: Local,
): void {
  f.get(bp).i32(bBytes).op('i32Add').set(bp);
  f.get(ap).i32(aBytes).op('i32Add').tee(ap).get(aEnd).op('i32LtS').brIf(0);
}
