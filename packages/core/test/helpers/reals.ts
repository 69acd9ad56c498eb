import fc from 'fast-check';

const STEPS = 2 ** 24;

/**
 * Reals in [min, max], spread over the whole range. `fc.double` draws uniformly over bit patterns, so over a
 * range that spans 0 about nine draws in ten are below 1e-3 in magnitude, and a property then tests little but
 * the neighbourhood of 0 (where tanh is the identity and a wrong gradient formula can still pass). This draws
 * uniformly on a grid of 2^24 steps, and one time in ten takes `fc.double`'s own draw, which brings the edges
 * (the bounds, 0, -0, tiny values). `f32`: rounded to float32, the bounds first, so every value stays inside.
 */
export function realIn(min: number, max: number, { f32 = false } = {}): fc.Arbitrary<number> {
  const round = f32 ? Math.fround : (v: number) => v;
  const [lo, hi] = [round(min), round(max)];
  const edges = f32
    ? fc.float({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true })
    : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
  const spread = fc
    .integer({ min: 0, max: STEPS })
    .map((i) => Math.min(hi, Math.max(lo, round(lo + ((hi - lo) * i) / STEPS))));
  return fc.oneof({ weight: 9, arbitrary: spread }, { weight: 1, arbitrary: edges });
}
