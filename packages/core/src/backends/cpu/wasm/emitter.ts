/**
 * A small typed WebAssembly emitter: LEB128, the module's sections, and a function-body builder whose methods
 * are the instructions the CPU kernels use (i32 arithmetic, structured control, f32 and SIMD128 loads/stores,
 * f32x4 arithmetic, relaxed-SIMD fused multiply-add). No toolchain and no prebuilt binary: the kernels are
 * TypeScript functions that call these methods, and the bytes are assembled at run time.
 */

/** Value types (binary encoding). */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[] = []): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`uleb: ${n} is not a u32`);
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of an int32. */
export function sleb(n: number, out: number[] = []): number[] {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(`sleb: ${n} is not an i32`);
  }
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A local variable (or parameter) of a function: its index and type, so that misuse is a type error. */
export interface Local<T extends ValType = ValType> {
  readonly index: number;
  readonly type: T;
}

/** Natural alignment exponents of memory accesses (log2 bytes). */
const ALIGN = { f32: 2, i32: 2, v128: 4 } as const;

/** SIMD instructions: the 0xfd prefix, then this opcode as a u32 LEB128. */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  /** v128.load64_zero: two floats into the low half, zeros above (memarg immediates: align 3, offset). */
  load64Zero: 0x5d,
  store: 0x0b,
  /** v128.const: 16 immediate bytes (use v128Const). */
  const: 0x0c,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  /** Comparisons: all-ones lanes where true (false at NaN, but ne). */
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  /** Bitwise, on any lane type; bitselect(a, b, mask) = (a & mask) | (b & ~mask). */
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f32x4Nearest: 0x6a,
  /** i32x4 shifts take the count as an i32 after the vector. */
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  /** Saturating, NaN to 0: never traps. */
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
  /** relaxed-simd: a * b + c, fused or not as the host does it. */
  f32x4RelaxedMadd: 0x105,
  /** The two low float32 lanes widened to float64 (exactly), and float64 lane addition. */
  f64x2PromoteLowF32x4: 0x5f,
  f64x2Add: 0xf0,
} as const;
export type SimdOp = keyof typeof SIMD;

/** Core opcodes used here. */
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i32Store: 0x36,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32LeS: 0x4c,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  select: 0x1b,
  f32Add: 0x92,
  f32Mul: 0x94,
  /** NaN if either operand is NaN (unlike JS's comparisons, like Math.max). */
  f32Max: 0x97,
} as const;
export type I32Op = Extract<keyof typeof OP, `i32${string}`>;

/** One function body: its parameters, the locals it declares, and the instruction bytes. */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {}

  param<T extends ValType>(i: number, type: T): Local<T> {
    if (this.params[i] !== type) throw new TypeError(`param ${i} is not of type ${type}`);
    return { index: i, type };
  }

  local<T extends ValType>(type: T): Local<T> {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  get(l: Local): this {
    return this.emit(OP.localGet, ...uleb(l.index));
  }
  set(l: Local): this {
    return this.emit(OP.localSet, ...uleb(l.index));
  }
  tee(l: Local): this {
    return this.emit(OP.localTee, ...uleb(l.index));
  }

  i32(value: number): this {
    return this.emit(OP.i32Const, ...sleb(value | 0));
  }
  f32(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.emit(OP.f32Const, ...bytes);
  }
  /** An i32 comparison or arithmetic instruction by name. */
  op(name: I32Op | 'select' | 'f32Add' | 'f32Mul' | 'f32Max'): this {
    return this.emit(OP[name]);
  }

  /** Structured control with no block results; `br(0)` inside a loop continues it, inside a block leaves it. */
  block(): this {
    return this.emit(OP.block, 0x40);
  }
  loop(): this {
    return this.emit(OP.loop, 0x40);
  }
  if(): this {
    return this.emit(OP.if, 0x40);
  }
  else(): this {
    return this.emit(OP.else);
  }
  end(): this {
    return this.emit(OP.end);
  }
  br(depth: number): this {
    return this.emit(OP.br, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.emit(OP.brIf, ...uleb(depth));
  }
  return(): this {
    return this.emit(OP.return);
  }

  /** Memory accesses at the address on the stack plus a constant byte offset. */
  f32Load(offset = 0): this {
    return this.emit(OP.f32Load, ALIGN.f32, ...uleb(offset));
  }
  f32Store(offset = 0): this {
    return this.emit(OP.f32Store, ALIGN.f32, ...uleb(offset));
  }
  i32Load(offset = 0): this {
    return this.emit(OP.i32Load, ALIGN.i32, ...uleb(offset));
  }
  i32Store(offset = 0): this {
    return this.emit(OP.i32Store, ALIGN.i32, ...uleb(offset));
  }
  v128Load(offset = 0): this {
    return this.simd('load', ALIGN.v128, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd('store', ALIGN.v128, ...uleb(offset));
  }
  /** Loads one f32 and splats it to the four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd('load32Splat', ALIGN.f32, ...uleb(offset));
  }
  f32x4ExtractLane(lane: 0 | 1 | 2 | 3): this {
    return this.simd('f32x4ExtractLane', lane);
  }

  /** A v128 constant of four equal float32 lanes (`value` rounded to float32). */
  f32x4Const(value: number): this {
    return this.simd('const', ...new Uint8Array(new Float32Array([value, value, value, value]).buffer));
  }
  /** A v128 constant of four equal int32 lanes. */
  i32x4Const(value: number): this {
    return this.simd('const', ...new Uint8Array(new Int32Array([value, value, value, value]).buffer));
  }

  /** A SIMD instruction (immediates, if any, follow the opcode). */
  simd(name: SimdOp, ...immediates: number[]): this {
    return this.emit(0xfd, ...uleb(SIMD[name]), ...immediates);
  }

  /** The body's encoding: locals grouped by runs of one type, the code, `end`. */
  encode(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body: number[] = uleb(groups.length);
    for (const [n, t] of groups) body.push(...uleb(n), t);
    append(body, this.code);
    body.push(OP.end);
    return append(uleb(body.length), body);
  }

  private emit(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }
}

export interface ModuleSpec {
  /** The module imports its memory as env.memory (so that threads can share one). */
  readonly memory?: { readonly initial: number; readonly maximum: number; readonly shared: boolean };
  readonly functions: readonly { readonly name: string; readonly body: FunctionBuilder }[];
}

/** Appends in a loop: spreading a large body into push() would exceed the engine's argument limit. */
function append(out: number[], bytes: readonly number[]): number[] {
  for (const b of bytes) out.push(b);
  return out;
}

const section = (id: number, content: number[]) => append(append([id], uleb(content.length)), content);
const vec = (items: number[][]) => items.reduce((out, item) => append(out, item), uleb(items.length));
const name = (s: string) => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
};

/** The module's bytes: type, import (memory), function, export and code sections. */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const fs = spec.functions;
  const types = fs.map((f) => [
    0x60,
    ...vec(f.body.params.map((p) => [p])),
    ...vec(f.body.results.map((r) => [r])),
  ]);
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  append(out, section(1, vec(types)));
  if (spec.memory) {
    const { initial, maximum, shared } = spec.memory;
    const limits = [shared ? 0x03 : 0x01, ...uleb(initial), ...uleb(maximum)];
    append(out, section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])));
  }
  append(out, section(3, vec(fs.map((_, i) => uleb(i)))));
  append(out, section(7, vec(fs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))));
  append(out, section(10, vec(fs.map((f) => f.body.encode()))));
  return Uint8Array.from(out);
}
