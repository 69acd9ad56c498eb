import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type DeviceName, type Tensor, WebrnnError, fromData } from '@webrnn/core';
import { SEED } from './helpers/arb.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * int32 arithmetic is exact on both devices, wrapping as two's complement (as PyTorch): checked against BigInt
 * arithmetic reduced to 32 bits, with values near 2^24 (where float32 stops being exact) and 2^31 (the wrap).
 * An int32 tensor combined with a fraction is refused (cast first), never truncated silently.
 */
const gpu = await webgpuForFile('int32');
const devices: DeviceName[] = gpu ? ['cpu', 'webgpu'] : ['cpu'];
const runs = { numRuns: 30, seed: SEED };

const MIN = -(2 ** 31);
const MAX = 2 ** 31 - 1;
const wrap = (v: bigint) => Number(BigInt.asIntN(32, v));
const B = BigInt;
const clampRef = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/** int32 values, often next to 2^24 or 2^31. */
const edge = fc.constantFrom(
  2 ** 24,
  2 ** 24 + 1,
  -(2 ** 24) - 1,
  MAX,
  MIN,
  MAX - 1,
  MIN + 1,
  46341,
  -46341,
  0,
  1,
  -1,
);
const int32 = fc.oneof(fc.integer({ min: MIN, max: MAX }), edge, fc.integer({ min: -100, max: 100 }));
const ints = fc.array(int32, { minLength: 1, maxLength: 12 });

const on = (device: DeviceName, v: readonly number[]) => fromData(Int32Array.from(v), [v.length], { device });

async function values(t: Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

/** `f` on every device equals `want` exactly. */
async function exact(what: string, x: readonly number[], f: (t: Tensor) => Tensor, want: readonly number[]) {
  for (const device of devices) {
    const t = on(device, x);
    expect(await values(f(t)), `${what} on ${device}`).toEqual(want);
    t.dispose();
  }
}

describe('int32 arithmetic is exact and wraps on every device', () => {
  it('16777217 + 1 = 16777218 (float32 would give 16777216)', async () => {
    await exact('add', [16777217], (t) => t.add(1), [16777218]);
  });

  it('add, sub and mul with a number (affine), neg, abs, square', async () => {
    const scalar = fc.oneof(int32, fc.constantFrom(2 ** 31, -(2 ** 32), 2 ** 40 + 3));
    await fc.assert(
      fc.asyncProperty(ints, scalar, async (x, s) => {
        await exact(
          `add ${s}`,
          x,
          (t) => core.add(t, s),
          x.map((v) => wrap(B(v) + B(s))),
        );
        await exact(
          `sub ${s}`,
          x,
          (t) => core.sub(t, s),
          x.map((v) => wrap(B(v) - B(s))),
        );
        await exact(
          `mul ${s}`,
          x,
          (t) => core.mul(t, s),
          x.map((v) => wrap(B(v) * B(s))),
        );
        await exact(
          `affine ${s}, 7`,
          x,
          (t) => core.affine(t, s, 7),
          x.map((v) => wrap(B(v) * B(s) + 7n)),
        );
        await exact(
          'neg',
          x,
          core.neg,
          x.map((v) => wrap(-B(v))),
        );
        await exact(
          'abs',
          x,
          core.abs,
          x.map((v) => wrap(B(Math.abs(v)))),
        );
        await exact(
          'square',
          x,
          core.square,
          x.map((v) => wrap(B(v) * B(v))),
        );
      }),
      runs,
    );
  });

  it('add, sub, mul, maximum, minimum of two tensors, and sum', async () => {
    await fc.assert(
      fc.asyncProperty(ints, int32, async (x, y) => {
        const b = (device: DeviceName) => fromData(Int32Array.from([y]), [1], { device });
        const pairwise: [string, (p: Tensor, q: Tensor) => Tensor, (p: bigint, q: bigint) => bigint][] = [
          ['add', core.add, (p, q) => p + q],
          ['sub', core.sub, (p, q) => p - q],
          ['mul', core.mul, (p, q) => p * q],
          ['maximum', core.maximum, (p, q) => (p > q ? p : q)],
          ['minimum', core.minimum, (p, q) => (p < q ? p : q)],
        ];
        for (const [name, f, ref] of pairwise) {
          for (const device of devices) {
            const [t, u] = [on(device, x), b(device)];
            const want = x.map((v) => wrap(ref(B(v), B(y))));
            expect(await values(f(t, u)), `${name} on ${device}`).toEqual(want);
            t.dispose();
            u.dispose();
          }
        }
        // Division by zero raises instead (intDivByZero.test.ts).
        const quotient = (p: number) => wrap(B(p) / B(y));
        if (y !== 0) await exact('div', x, (t) => core.div(t, t.mul(0).add(y)), x.map(quotient));
        await exact('sum', x, (t) => core.sum(t), [wrap(x.reduce((s, v) => s + B(v), 0n))]);
      }),
      runs,
    );
  });

  it('clamp and hardtanh with integer bounds, bounds past the int32 range and infinite bounds', async () => {
    const bound = fc.oneof(
      int32,
      fc.constantFrom(-Infinity, Infinity, 2 ** 40, -(2 ** 40), 2 ** 31, MIN - 1),
    );
    await fc.assert(
      fc.asyncProperty(ints, bound, bound, fc.boolean(), async (x, p, q, hard) => {
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        fc.pre(hi >= MIN && lo <= MAX);
        const f = (t: Tensor) => (hard ? core.hardtanh(t, lo, hi) : core.clamp(t, lo, hi));
        await exact(
          `${hard ? 'hardtanh' : 'clamp'}(${lo}, ${hi})`,
          x,
          f,
          x.map((v) => clampRef(v, lo, hi)),
        );
      }),
      runs,
    );
    await exact('clamp()', [MIN, -1, MAX], (t) => core.clamp(t), [MIN, -1, MAX]);
  });

  it('refuses a fraction, a scalar outside int32 where it becomes a tensor, and bounds holding no int32', () => {
    const refusals: [string, (t: Tensor) => unknown][] = [
      ['mul', (t) => t.mul(0.5)],
      ['add', (t) => t.add(0.5)],
      ['sub', (t) => t.sub(1e-3)],
      ['affine', (t) => core.affine(t, 1.5, 0)],
      ['clamp', (t) => t.clamp(-1.5, 2)],
      ['hardtanh', (t) => t.hardtanh(0.5, 1)],
      ['clamp', (t) => t.clamp(2 ** 40, 2 ** 41)],
      ['maximum', (t) => core.maximum(t, 0.5)],
      ['gt', (t) => core.gt(t, 2 ** 31)],
      ['div', (t) => t.div(2.5)],
      ['div', (t) => t.div(0)],
    ];
    for (const device of devices) {
      const t = on(device, [1, 2, 3]);
      for (const [op, f] of refusals) {
        let error: unknown = null;
        try {
          f(t);
        } catch (e) {
          error = e;
        }
        expect(error, `${op} on ${device}`).toBeInstanceOf(WebrnnError);
        expect(String((error as Error).message)).toMatch(new RegExp(`^${op}: .*(int32|division)`));
      }
      t.dispose();
    }
  });
});

describe('float to int32 casts agree on every device', () => {
  it('truncate toward zero, saturate outside int32, NaN -> 0 (as WGSL and Rust; PyTorch leaves it undefined)', async () => {
    // PyTorch's answer depends on the processor (x86 gives -2^31, Arm saturates): no contract to follow.
    const v = [
      Number.NaN,
      Infinity,
      -Infinity,
      3e9,
      -3e9,
      2.7,
      -2.7,
      -0.5,
      2147483520,
      2147483648,
      -2147483648,
    ];
    const MAX = 2147483647;
    const want = [0, MAX, MIN, MAX, MIN, 2, -2, 0, 2147483520, MAX, MIN];
    for (const device of devices) {
      const t = fromData(Float32Array.from(v), [v.length], { device });
      expect(await values(core.cast(t, 'int32')), device).toEqual(want);
      t.dispose();
    }
  });
});
