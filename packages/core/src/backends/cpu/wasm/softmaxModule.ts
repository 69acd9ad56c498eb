import { FunctionBuilder, I32, type Local, V128, encodeModule } from './emitter.js';
import { exp, log } from './simdExpLog.js';
import { simdTemps } from './simdMath.js';

/**
 * Row-wise softmax and log-softmax as wasm SIMD128 functions: the CPU's softmax.ts loop (stable, by the row max)
 * with f32x4 lanes. `softmax(rows, rowBytes, x, out)` / `logSoftmax(...)`: `rows` dense rows of rowBytes bytes (a
 * multiple of 16; the caller pads each row with -Inf, which changes neither the max nor the sum of exponentials)
 * at byte addresses x and out.
 *
 * Per row: m = max (f32x4.max and f32.max propagate NaN, as the JS loop's `v > m || v !== v`), s = sum of
 * e^(x - m) in four lanes, then added lane by lane; softmax stores e^(x - m) and scales it by 1 / s, log-softmax
 * stores x - (m + log s). Float32 throughout (the JS loop computes in float64): x - m is rounded, and the sum
 * too; special values as the JS loop (a NaN or +Inf in a row, or a row of -Inf only, makes the row NaN).
 */
function rowsFunction(logOut: boolean): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32]);
  const [rows, rowBytes, x, out] = [0, 1, 2, 3].map((i) => f.param(i, I32)) as [Local, Local, Local, Local];
  const j = f.local(I32);
  const acc = f.local(V128);
  const m = f.local(V128);
  const T = simdTemps(f);

  /** Runs `body` for j = 0, 16, ... < rowBytes. */
  const overRow = (body: () => void) => {
    f.i32(0).set(j);
    f.loop();
    body();
    f.get(j).i32(16).op('i32Add').tee(j).get(rowBytes).op('i32LtU').brIf(0);
    f.end();
  };
  const load = (p: Local) => f.get(p).get(j).op('i32Add').v128Load();
  /** The four lanes of acc combined by `op`, in lane order, splatted. */
  const across = (op: 'f32Max' | 'f32Add') => {
    f.get(acc).f32x4ExtractLane(0);
    for (const lane of [1, 2, 3] as const) f.get(acc).f32x4ExtractLane(lane).op(op);
    f.simd('f32x4Splat');
  };

  f.block();
  f.get(rows).op('i32Eqz').get(rowBytes).op('i32Eqz').op('i32Or').brIf(0);
  f.loop();
  f.f32x4Const(Number.NEGATIVE_INFINITY).set(acc);
  overRow(() => {
    f.get(acc);
    load(x);
    f.simd('f32x4Max').set(acc);
  });
  across('f32Max');
  f.set(m);
  f.f32x4Const(0).set(acc);
  overRow(() => {
    if (!logOut) f.get(out).get(j).op('i32Add');
    load(x);
    f.get(m).simd('f32x4Sub');
    exp(f, T);
    if (!logOut) f.tee(T.s).v128Store().get(T.s);
    f.get(acc).simd('f32x4Add').set(acc);
  });
  across('f32Add');
  if (logOut) {
    // lse = m + log s, in m
    log(f, T);
    f.get(m).simd('f32x4Add').set(m);
    overRow(() => {
      f.get(out).get(j).op('i32Add');
      load(x);
      f.get(m).simd('f32x4Sub').v128Store();
    });
  } else {
    // 1 / s, in m
    f.set(T.s).f32x4Const(1).get(T.s).simd('f32x4Div').set(m);
    overRow(() => {
      f.get(out).get(j).op('i32Add');
      load(out);
      f.get(m).simd('f32x4Mul').v128Store();
    });
  }
  f.get(x).get(rowBytes).op('i32Add').set(x);
  f.get(out).get(rowBytes).op('i32Add').set(out);
  f.get(rows).i32(1).op('i32Sub').tee(rows).brIf(0);
  f.end();
  f.end();
  return f;
}

/** The module of `softmax` and `logSoftmax` over the imported memory (limits as the matmul module's). */
export function softmaxModule(memory: { maximum: number; shared: boolean }): Uint8Array {
  return encodeModule({
    memory: { initial: 1, maximum: memory.maximum, shared: memory.shared },
    functions: [
      { name: 'softmax', body: rowsFunction(false) },
      { name: 'logSoftmax', body: rowsFunction(true) },
    ],
  });
}
