import { FunctionBuilder, I32, type Local, V128, encodeModule } from './emitter.js';

/**
 * Row reductions as wasm SIMD128 functions: `sum(rows, rowBytes, simdBytes, x, out)`, `max(...)`, `min(...)` over
 * `rows` dense rows of rowBytes bytes at byte address x (rows packed one after another, so that a chunk is copied
 * in one piece: the loads need not be 16-byte aligned). The first simdBytes bytes of each row (a multiple of 16)
 * are reduced to one v128 of partial results at out (16 bytes per row); the caller combines the lanes and the last
 * 0-3 floats of the row in JavaScript (reduceWasm.ts):
 * - sum: two float64 lanes. Each four floats are widened exactly to float64 (f64x2.promote_low_f32x4 of each half,
 *   loaded with v128.load64_zero) and added into two f64x2 accumulators: four float64 chains, the JS loop's one
 *   float64 accumulation reordered (its result, rounded once to float32, is equal or one float32 ulp away).
 * - max / min: four float32 lanes of f32x4.max / f32x4.min (NaN propagates, as the JS loop's NaN-wins test).
 */
function rowsFunction(op: 'sum' | 'max' | 'min'): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32]);
  const [rows, rowBytes, simdBytes, x, out] = [0, 1, 2, 3, 4].map((i) => f.param(i, I32)) as Local[] as [
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const j = f.local(I32);
  const p = f.local(I32);
  const lo = f.local(V128);
  const hi = f.local(V128);

  f.block();
  f.get(rows).op('i32Eqz').brIf(0);
  f.loop();
  if (op === 'sum') f.f32x4Const(0).tee(hi).set(lo);
  else f.f32x4Const(op === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY).set(lo);
  f.i32(0).set(j);
  f.block();
  f.get(simdBytes).op('i32Eqz').brIf(0);
  f.loop();
  f.get(x).get(j).op('i32Add').set(p);
  if (op === 'sum') {
    for (const [acc, offset] of [
      [lo, 0],
      [hi, 8],
    ] as const) {
      f.get(acc).get(p).simd('load64Zero', 3, offset).simd('f64x2PromoteLowF32x4').simd('f64x2Add').set(acc);
    }
  } else {
    f.get(lo)
      .get(p)
      .v128Load()
      .simd(op === 'max' ? 'f32x4Max' : 'f32x4Min')
      .set(lo);
  }
  f.get(j).i32(16).op('i32Add').tee(j).get(simdBytes).op('i32LtU').brIf(0);
  f.end();
  f.end();
  f.get(out).get(lo);
  if (op === 'sum') f.get(hi).simd('f64x2Add');
  f.v128Store();
  f.get(x).get(rowBytes).op('i32Add').set(x);
  f.get(out).i32(16).op('i32Add').set(out);
  f.get(rows).i32(1).op('i32Sub').tee(rows).brIf(0);
  f.end();
  f.end();
  return f;
}

/** The module of `sum`, `max` and `min` over the imported memory (limits as the matmul module's). */
export function reduceModule(memory: { maximum: number; shared: boolean }): Uint8Array {
  return encodeModule({
    memory: { initial: 1, maximum: memory.maximum, shared: memory.shared },
    functions: (['sum', 'max', 'min'] as const).map((name) => ({ name, body: rowsFunction(name) })),
  });
}
