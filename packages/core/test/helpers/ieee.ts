import fc from 'fast-check';
import { realIn } from './reals.js';
import { type DeviceName, type Tensor, fromData } from '@webrnn/core';

/**
 * What the IEEE-semantics tests share: float32 values that mix ordinary numbers with NaN, +-Inf and +-0 at random
 * positions, tensors of them on either device, and a comparison in which NaN equals NaN and infinities are exact.
 */

export const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0] as const;

/**
 * A float32: an ordinary value in [-scale, scale] (magnitudes under 1e-3 become 0, keeping subnormals, which GPUs
 * may flush, out), a small integer (negative bases of pow), or a special value.
 */
export const ieeeValue = (scale = 4, specialWeight = 2): fc.Arbitrary<number> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .float({ min: Math.fround(-scale), max: Math.fround(scale), noNaN: true })
        .map((v) => (Math.abs(v) < 1e-3 ? 0 : v)),
    },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
    { weight: specialWeight, arbitrary: fc.constantFrom(...SPECIALS) },
  );

/** `n` values (enough for any shape the test draws; a shape takes its first elements). */
export const ieeeValues = (n: number, scale = 4, specialWeight = 2) =>
  fc.array(ieeeValue(scale, specialWeight), { minLength: n, maxLength: n });

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A float32 tensor of shape `shape` from the first values of `data`, on `device`. */
export const on = (device: DeviceName, data: readonly number[], shape: readonly number[]): Tensor =>
  fromData(Float32Array.from(data.slice(0, sizeOf(shape))), shape, { device });

/**
 * got equals want in IEEE terms: NaN where want is NaN, the same infinity where it is infinite, and elsewhere a
 * finite value within atol + rtol * |want| (the sign of zero is not compared).
 */
export function expectIeee(
  what: string,
  want: ArrayLike<number>,
  got: ArrayLike<number>,
  rtol = 0,
  atol = 0,
): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : !Number.isFinite(w)
        ? g === w
        : Number.isFinite(g) && Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) throw new Error(`${what}: element ${i} is ${g}, expected ${w} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Run `f` on both devices over the same host data and compare (`f` returns one tensor or several). */
export async function sameOnBoth(
  what: string,
  inputs: readonly { data: readonly number[]; shape: readonly number[] }[],
  f: (...xs: Tensor[]) => Tensor | readonly Tensor[],
  rtol = 0,
  atol = 0,
): Promise<void> {
  const run = (device: DeviceName) => {
    const xs = inputs.map((x) => on(device, x.data, x.shape));
    const out = f(...xs);
    return { xs, outs: Array.isArray(out) ? (out as readonly Tensor[]) : [out as Tensor] };
  };
  const cpu = run('cpu');
  const gpu = run('webgpu');
  try {
    for (let k = 0; k < cpu.outs.length; k++) {
      expectIeee(`${what} [output ${k}]`, cpu.outs[k]!.dataSync(), await gpu.outs[k]!.data(), rtol, atol);
    }
  } finally {
    for (const side of [cpu, gpu]) for (const t of [...side.xs, ...side.outs]) t.dispose();
  }
}

/** `n` ordinary values in [-scale, scale] with up to `most` special values at random positions (for long rows). */
export const sprinkled = (n: number, most = 6, scale = 4): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.array(realIn(-scale, scale, { f32: true }), {
        minLength: n,
        maxLength: n,
      }),
      fc.array(fc.tuple(fc.nat(n - 1), fc.constantFrom(...SPECIALS)), { maxLength: most }),
    )
    .map(([values, specials]) => {
      const out = values.map((v) => (Math.abs(v) < 1e-3 ? 0 : v));
      for (const [at, v] of specials) out[at] = v;
      return out;
    });
