import fc from 'fast-check';
import { type Tensor, nn } from '@webrnn/rnn';
import { F, I, type InputSpec, type OpEntry, smallDim } from '../../../../core/test/differential/cases.js';
import { type ModuleSpec, type Seeds, backwardEntry, chained, forwardEntry } from '../moduleEntry.js';

/** Attention modules, dpnn's REINFORCE modules (sampling from the seeded generator) and SpatialGlimpse. */

type AttnP = Seeds & { n: number; t: number; hq: number; hk: number; masked: boolean; multi: boolean };

/** query [N, Hq] (or [T', N, Hq]), keys [T, N, Hk], and sometimes a mask [T, N] (int32, 0 = padding). */
const attentionGen = (sameSizes: boolean) =>
  fc
    .record({
      n: smallDim,
      t: fc.integer({ min: 1, max: 5 }),
      hq: fc.integer({ min: 1, max: 5 }),
      hk: fc.integer({ min: 1, max: 5 }),
      masked: fc.boolean(),
      multi: fc.boolean(),
    })
    .map((p) => {
      const hq = sameSizes ? p.hk : p.hq;
      const inputs: InputSpec[] = [
        F(p.multi ? [2, p.n, hq] : [p.n, hq]),
        F([p.t, p.n, p.hk]),
        ...(p.masked ? [I([p.t, p.n], { index: 2 })] : []),
      ];
      return { inputs, params: { ...p, hq } };
    });

/**
 * Scores sum over H, the softmax over T, the context over T again; parameters' gradients over N (and T'). The
 * softmax's gradients cancel (sum(out) has a gradient of about 0 with respect to the query): through an expanded
 * input, a base element then sums the rounding of every element it feeds, up to the input's size.
 */
const attentionTol = (p: AttnP) =>
  chained(Math.max(p.hq, p.hk, p.t, 2 * p.n, (p.multi ? 2 : 1) * p.n * p.hq, p.t * p.n * p.hk), 3);

function attention(name: string, label: string, make: (p: AttnP) => nn.Module, sameSizes = false): OpEntry[] {
  const spec: ModuleSpec<AttnP> = {
    name,
    label,
    gen: attentionGen(sameSizes),
    make,
    input: (xs) => [...xs],
    tol: attentionTol,
  };
  return [forwardEntry(spec), backwardEntry(spec)];
}

type ReinforceP = Seeds & { n: number; d: number };
/** A REINFORCE module on [N, D] in training mode (it samples), rewarded with the second input before backward. */
function reinforced(name: string, make: () => nn.Module, domain: 'any' | 'prob'): OpEntry {
  return forwardEntry({
    name,
    label: 'sampling from the seeded generator, rewarded',
    gen: fc
      .record({ n: smallDim, d: fc.integer({ min: 1, max: 5 }) })
      .map((p) => ({ inputs: [F([p.n, p.d], domain), F([p.n], 'any', false)], params: p })),
    make,
    prepare: (m, [, reward]) => nn.reinforce(m, reward!),
    tol: (p: ReinforceP) => chained(p.d, 2),
    // Samples compare the input with uniform draws: a NaN there would be sampled by kernel order.
    specials: false,
  });
}

type GlimpseP = Seeds & { n: number; c: number; h: number; w: number; gh: number; gw: number; depth: number };

export const ATTENTION: OpEntry[] = [
  ...attention('AdditiveAttention', 'Bahdanau', (p) => new nn.AdditiveAttention(p.hq, p.hk, 3)),
  ...attention('DotAttention', "Luong 'dot'", (p) => new nn.DotAttention(p.hq, p.hk, 'dot'), true),
  ...attention('DotAttention', "Luong 'general'", (p) => new nn.DotAttention(p.hq, p.hk, 'general')),
  ...attention(
    'DotAttention',
    "Luong 'concat'",
    (p) => new nn.DotAttention(p.hq, p.hk, 'concat', { hiddenSize: 3 }),
  ),
  reinforced('ReinforceNormal', () => new nn.ReinforceNormal(0.5), 'any'),
  reinforced('ReinforceBernoulli', () => new nn.ReinforceBernoulli(), 'prob'),
  reinforced('ReinforceCategorical', () => new nn.ReinforceCategorical(), 'prob'),
  forwardEntry({
    name: 'SpatialGlimpse',
    gen: fc
      .record({
        n: smallDim,
        c: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 8 }),
        w: fc.integer({ min: 1, max: 8 }),
        gh: fc.integer({ min: 1, max: 3 }),
        gw: fc.integer({ min: 1, max: 3 }),
        depth: fc.integer({ min: 1, max: 3 }),
      })
      .map((p) => ({
        // Locations on a grid of halves: the crop offset (a floor) is then exact in float32 and float64 alike.
        inputs: [F([p.n, p.c, p.h, p.w]), F([p.n, 2], 'grid', false)],
        params: p,
      })),
    make: (p: GlimpseP) => new nn.SpatialGlimpse([p.gh, p.gw], p.depth),
    input: (xs: readonly Tensor[]) => [xs[0]!, xs[1]!],
    // Average pooling over up to 4^(depth-1) pixels.
    tol: (p: GlimpseP) => chained(4 ** (p.depth - 1)),
  }),
];
