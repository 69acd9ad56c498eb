import { WebrnnError } from './errors.js';

/**
 * The seedable generator behind rand/randn/uniform and parameter initialisation: xoshiro128** (fast, 2^128 period,
 * good statistical quality), seeded through splitmix32. Values are generated on the host and uploaded, so every
 * backend sees the same numbers for the same seed.
 */
/** A Generator's state (getState/setState): xoshiro128**'s four words and the Box-Muller value kept for next. */
export interface GeneratorState {
  readonly xoshiro128: readonly number[];
  readonly spare: number | null;
}

export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0x9e3779b9) {
    this.seed(seed);
  }

  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spare = null;
  }

  /**
   * The generator's state, as plain JSON-able data (PyTorch's get_rng_state): `setState` of it makes the generator
   * draw exactly what it would have drawn next, so a checkpoint can resume a run bit for bit.
   */
  getState(): GeneratorState {
    return { xoshiro128: [...this.s], spare: this.spare };
  }

  setState(state: GeneratorState): void {
    const s = (state as Partial<GeneratorState> | null)?.xoshiro128;
    const spare = (state as Partial<GeneratorState> | null)?.spare;
    const word = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
    if (!Array.isArray(s) || s.length !== 4 || !s.every(word) || s.every((v) => v === 0)) {
      throw new WebrnnError(
        'Generator.setState',
        `expected { xoshiro128: four 32-bit unsigned integers, not all 0; spare }, got xoshiro128 ${JSON.stringify(s)}`,
      );
    }
    if (spare !== null && !(typeof spare === 'number' && Number.isFinite(spare))) {
      throw new WebrnnError(
        'Generator.setState',
        `spare must be null or a finite number, got ${String(spare)}`,
      );
    }
    this.s.set(s);
    this.spare = spare;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The process-wide default generator. */
export const defaultGenerator = new Generator();

/** Reseed the default generator so runs are reproducible (like torch.manualSeed). */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
