import {
  type CellKind,
  type LstmGateOrder,
  cellOperandNames,
  cellWidth,
  parseCell,
  sliceBlocks,
} from '@webrnn/kernels';
import { type CellExpr, cellExpr } from './cellExpr.js';
import { FunctionBuilder, I32, type Local, V128, encodeModule } from './emitter.js';
import { type SimdTemps, sigmoid, simdTemps, tanh } from './simdMath.js';

/**
 * The fused cells as wasm SIMD128 functions, generated from kernels' cell table (cells.ts), the third generator
 * beside cellJs.ts (JavaScript) and cellWgsl.ts (WGSL): no cell is written by hand here.
 *
 * `cell(N, Hp, p0, p1, ...)`: every live operand (cellOperandNames order, absent optional ones left out) is a dense
 * N x (width * Hp) float32 block at byte address p_i of the memory, Hp a multiple of 4 (the caller pads H): each
 * row's gate slices then start on a whole f32x4, and one iteration computes 4 units of a row. Padding lanes are
 * computed like the others and never copied out. Float32 throughout (the JS loop keeps float64 locals): an
 * intermediate can round, overflow or underflow where the JS one does not, as on WebGPU.
 */
export interface CellWasm {
  /** The live operands, in parameter order. */
  readonly operands: readonly string[];
  readonly body: FunctionBuilder;
}

export function cellWasm(
  kind: CellKind,
  order: LstmGateOrder | undefined,
  absent: readonly string[],
): CellWasm {
  const gone = new Set(absent);
  const live = cellOperandNames(kind).filter((n) => !gone.has(n));
  const f = new FunctionBuilder([I32, I32, ...live.map((): typeof I32 => I32)]);
  const [N, Hp] = [f.param(0, I32), f.param(1, I32)];
  const ptr = new Map(live.map((n, i) => [n, f.param(i + 2, I32)]));
  const hb = f.local(I32); // bytes of one slice of a row
  const jb = f.local(I32); // byte offset of the 4 units in a slice
  const blocks = sliceBlocks(kind, order);
  const sliceAt = new Map(Object.keys(blocks).map((s) => [s, f.local(I32)]));
  const locals = new Map<string, Local>();
  const T: SimdTemps = simdTemps(f);

  const address = (name: string, slice: string | null) => {
    f.get(ptr.get(name)!).get(jb).op('i32Add');
    if (slice !== null) f.get(sliceAt.get(slice)!).op('i32Add');
  };
  const emit = (e: CellExpr): void => {
    switch (e.k) {
      case 'num':
        f.f32x4Const(e.value);
        return;
      case 'load':
        if (gone.has(e.name)) {
          f.f32x4Const(0);
        } else {
          address(e.name, e.slice);
          f.v128Load();
        }
        return;
      case 'local':
        f.get(locals.get(e.name)!);
        return;
      case 'neg':
        emit(e.arg);
        f.simd('f32x4Neg');
        return;
      case 'call':
        emit(e.arg);
        (e.fn === 'sigmoid' ? sigmoid : tanh)(f, T);
        return;
      case 'bin':
        emit(e.a);
        emit(e.b);
        f.simd(
          e.op === '+' ? 'f32x4Add' : e.op === '-' ? 'f32x4Sub' : e.op === '*' ? 'f32x4Mul' : 'f32x4Div',
        );
    }
  };

  f.block();
  f.get(N).op('i32Eqz').get(Hp).op('i32Eqz').op('i32Or').brIf(0);
  f.get(Hp).i32(2).op('i32Shl').set(hb);
  for (const [s, k] of Object.entries(blocks)) f.get(hb).i32(k).op('i32Mul').set(sliceAt.get(s)!);
  f.loop(); // rows
  f.i32(0).set(jb);
  f.loop(); // 4 units at a time
  for (const st of parseCell(kind)) {
    if (st.store) {
      address(st.to, st.slice);
      emit(cellExpr(st.expr));
      f.v128Store();
    } else {
      const l = f.local(V128);
      locals.set(st.to, l);
      emit(cellExpr(st.expr));
      f.set(l);
    }
  }
  f.get(jb).i32(16).op('i32Add').tee(jb).get(hb).op('i32LtU').brIf(0);
  f.end();
  for (const [n, p] of ptr) f.get(p).get(hb).i32(cellWidth(kind, n)).op('i32Mul').op('i32Add').set(p);
  f.get(N).i32(1).op('i32Sub').tee(N).brIf(0);
  f.end();
  f.end();
  return { operands: live, body: f };
}

/** A module of one exported function `cell` over the imported memory (limits as the matmul module's). */
export function cellModule(c: CellWasm, memory: { maximum: number; shared: boolean }): Uint8Array {
  return encodeModule({
    memory: { initial: 1, maximum: memory.maximum, shared: memory.shared },
    functions: [{ name: 'cell', body: c.body }],
  });
}
