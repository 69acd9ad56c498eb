import { type Generator, WebrnnError, defaultGenerator } from '../module/deps.js';

/**
 * Walker's alias method (torchx's torch.AliasMultinomial, which dpnn's NCEModule samples its noise with): after
 * an O(n) set-up, each draw costs one uniform bucket and one biased coin, whatever the number of outcomes.
 * Bucket i keeps outcome i with probability `keep[i]` and hands the draw to `alias[i]` otherwise; the set-up
 * (Vose's) pairs each under-full bucket with an over-full outcome, so every outcome's total share is exactly its
 * probability. Draws come from a Generator (the core's seeded default one unless given), on the host: the
 * indices are uploaded to whichever device needs them, so every backend sees the same sample for one seed.
 */
export class AliasMultinomial {
  /** The normalised probabilities. */
  readonly probs: Float64Array;
  /** Per bucket, the probability of keeping its own outcome. */
  readonly keep: Float64Array;
  /** Per bucket, the outcome a draw goes to when the coin says no. */
  readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>, where = 'AliasMultinomial') {
    const n = weights.length;
    if (n === 0) throw new WebrnnError(where, 'needs at least one outcome, got an empty distribution');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0 && Number.isFinite(w))) {
        throw new WebrnnError(where, `weight ${i} is ${w}, expected a finite number >= 0`);
      }
      total += w;
    }
    if (!(total > 0)) throw new WebrnnError(where, `the weights sum to ${total}, expected a positive sum`);
    this.probs = Float64Array.from({ length: n }, (_, i) => weights[i]! / total);
    this.keep = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Float64Array.from(this.probs, (p) => p * n);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((q, i) => (q < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.keep[s] = scaled[s]!;
      this.alias[s] = l;
      // The over-full outcome fills the rest of bucket s.
      scaled[l] = scaled[l]! - (1 - scaled[s]!);
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // What is left is full up to rounding: keep itself.
    for (const i of [...small, ...large]) {
      this.keep[i] = 1;
      this.alias[i] = i;
    }
  }

  get size(): number {
    return this.probs.length;
  }

  /** One outcome, 0-based. */
  draw(generator: Generator = defaultGenerator): number {
    const n = this.probs.length;
    const bucket = Math.min(n - 1, Math.floor(generator.next() * n));
    return generator.next() < this.keep[bucket]! ? bucket : this.alias[bucket]!;
  }

  /** `count` independent outcomes (torchx's batchdraw). */
  batchDraw(count: number, generator: Generator = defaultGenerator): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.draw(generator);
    return out;
  }
}
