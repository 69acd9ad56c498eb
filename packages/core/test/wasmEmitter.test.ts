import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
import {
  F32,
  FunctionBuilder,
  I32,
  type Local,
  V128,
  encodeModule,
  sleb,
  uleb,
} from '../src/backends/cpu/wasm/emitter.js';
import { wasmApi } from '../src/backends/cpu/wasm/api.js';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';

/**
 * The wasm emitter: LEB128 against an independent decoder and the spec's examples, and generated modules run by
 * the host's WebAssembly against the same computation in JavaScript (so every instruction helper the kernels use
 * emits the instruction it is named after).
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261204);

/** Reads a LEB128 number back (signed or not), independently of the emitter. */
function decode(bytes: readonly number[], signed: boolean): number {
  let result = 0;
  let shift = 0;
  let i = 0;
  for (;;) {
    const b = bytes[i++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      expect(i).toBe(bytes.length); // nothing after the last byte
      if (signed && b & 0x40) result -= 2 ** shift;
      return result;
    }
  }
}

describe('LEB128', () => {
  it('round-trips every u32 and i32, in the fewest bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (u, s) => {
          const ub = uleb(u);
          expect(decode(ub, false)).toBe(u);
          expect(ub.length).toBe(Math.max(1, Math.ceil(Math.log2(u + 1) / 7)));
          const sb = sleb(s);
          expect(decode(sb, true)).toBe(s);
          // Signed: the value plus its sign bit must fit in 7 bits per byte.
          const bits = s >= 0 ? Math.log2(s + 1) + 1 : Math.log2(-s) + 1;
          expect(sb.length).toBe(Math.max(1, Math.ceil(bits / 7)));
        },
      ),
      { numRuns: 500, seed: SEED },
    );
  });

  it('matches the examples of the WebAssembly spec and refuses what does not fit', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(() => uleb(-1)).toThrow(/not a u32/);
    expect(() => uleb(2 ** 32)).toThrow(/not a u32/);
    expect(() => sleb(2 ** 31)).toThrow(/not an i32/);
    expect(() => uleb(1.5)).toThrow(/not a u32/);
  });
});

/** Instantiates a module of the given functions over a fresh (unshared) memory of one page. */
function instantiate(functions: { name: string; body: FunctionBuilder }[]) {
  const wa = wasmApi!;
  const memory = new wa.Memory({ initial: 1, maximum: 1 });
  const bytes = encodeModule({ memory: { initial: 1, maximum: 1, shared: false }, functions });
  expect(wa.validate(bytes)).toBe(true);
  const { exports } = new wa.Instance(new wa.Module(bytes), { env: { memory } });
  return { memory, exports: exports as Record<string, (...args: number[]) => number> };
}

/** sum(p, n): f32 sum of n floats at byte address p, in a do-while loop (n > 0). */
function sumFn(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32], [F32]);
  const [p, n] = [f.param(0, I32), f.param(1, I32)];
  const acc = f.local(F32);
  const end = f.local(I32);
  f.get(p).get(n).i32(2).op('i32Shl').op('i32Add').set(end);
  f.loop();
  f.get(acc).get(p).f32Load().op('f32Add').set(acc);
  f.get(p).i32(4).op('i32Add').tee(p).get(end).op('i32LtS').brIf(0);
  f.end();
  f.get(acc);
  return f;
}

/** op(p, q, n): y[i] = x[i] op y[i] for n floats (a multiple of 4), x at byte address p, y at q. */
function vecFn(
  op: 'f32x4Add' | 'f32x4Sub' | 'f32x4Mul' | 'f32x4Div' | 'f32x4Min' | 'f32x4Max',
): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32]);
  const [p, q, n] = [f.param(0, I32), f.param(1, I32), f.param(2, I32)];
  const x: Local = f.local(V128);
  f.block();
  f.loop();
  f.get(n).op('i32Eqz').brIf(1);
  f.get(p).v128Load().set(x);
  f.get(q).get(x).get(q).v128Load().simd(op).v128Store();
  f.get(p).i32(16).op('i32Add').set(p);
  f.get(q).i32(16).op('i32Add').set(q);
  f.get(n).i32(4).op('i32Sub').set(n);
  f.br(0);
  f.end();
  f.end();
  return f;
}

const f32 = realIn(-1e3, 1e3, { f32: true });

describe('generated modules', () => {
  it('find SIMD128 on this host (Node has had it since 16.4)', () => {
    expect(wasmFeatures().simd).toBe(true);
  });

  it('loop, load and add like JavaScript in float32', () => {
    const { memory, exports } = instantiate([{ name: 'sum', body: sumFn() }]);
    fc.assert(
      fc.property(fc.array(f32, { minLength: 1, maxLength: 200 }), (xs) => {
        new Float32Array(memory.buffer).set(xs, 4);
        let want = 0;
        for (const x of xs) want = Math.fround(want + x);
        expect(exports.sum!(16, xs.length)).toBe(want);
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  it('emit each f32x4 instruction the kernels use, lane by lane like Math.fround', () => {
    const ops = {
      f32x4Add: (a: number, b: number) => a + b,
      f32x4Sub: (a: number, b: number) => a - b,
      f32x4Mul: (a: number, b: number) => a * b,
      f32x4Div: (a: number, b: number) => a / b,
      f32x4Min: Math.min,
      f32x4Max: Math.max,
    } as const;
    const names = Object.keys(ops) as (keyof typeof ops)[];
    const { memory, exports } = instantiate(names.map((n) => ({ name: n, body: vecFn(n) })));
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.tuple(f32, f32), { maxLength: 12 }),
        (name, pairs) => {
          const n = pairs.length & ~3;
          const F = new Float32Array(memory.buffer);
          F.set(pairs.map((p) => p[0]).slice(0, n), 0);
          F.set(pairs.map((p) => p[1]).slice(0, n), 64);
          exports[name]!(0, 256, n);
          for (let i = 0; i < n; i++) {
            const [x, y] = pairs[i]!;
            expect(F[64 + i]).toBe(Math.fround(ops[name](x, y)));
          }
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });

  it('refuse a parameter read as the wrong type', () => {
    const f = new FunctionBuilder([I32]);
    expect(() => f.param(0, V128)).toThrow(/not of type/);
  });
});
