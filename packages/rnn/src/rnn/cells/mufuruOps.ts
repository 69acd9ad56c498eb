import {
  type Tensor,
  abs,
  customOp,
  div,
  eq,
  maximum,
  minimum,
  mul,
  neg,
  noGrad,
  sign,
  sqrt,
  sub,
  tidy,
  where,
} from '../../module/deps.js';

/**
 * The operations of Element-research's MuFuRu (Weissenborn & Rocktäschel 2016), each a function of the old state
 * `h` and the feature vector `v` (Torch's table {oldState, newState}) giving a candidate new state:
 *
 *   keep h · replace v · mul h ⊙ v · diff h - v · forget 0 (h * 0, so NaN stays NaN) · sqrt_diff ¼ √|h - v| ·
 *   max max(h, v) · min min(h, v)
 *
 * max and min send the gradient to h at ties (Torch's nn.Max/nn.Min over the stacked pair pick the first).
 */
export const MUFURU_OPS = {
  keep: (h: Tensor) => h,
  replace: (_h: Tensor, v: Tensor) => v,
  mul: (h: Tensor, v: Tensor) => mul(h, v),
  diff: (h: Tensor, v: Tensor) => sub(h, v),
  forget: (h: Tensor) => mul(h, 0),
  sqrt_diff: (h: Tensor, v: Tensor) => sqrtDiff(h, v),
  max: (h: Tensor, v: Tensor) => maximum(h, v),
  min: (h: Tensor, v: Tensor) => minimum(h, v),
} as const;

export type MuFuRuOp = keyof typeof MUFURU_OPS;

/** Element-research's default: every operation, in this order. */
export const ALL_MUFURU_OPS: readonly MuFuRuOp[] = [
  'keep',
  'replace',
  'mul',
  'diff',
  'forget',
  'sqrt_diff',
  'max',
  'min',
];

/**
 * ¼ √|h - v| with Torch's gradient: nn.Sqrt's backward is 0 where its output is 0 (not the infinite derivative),
 * so the gradient is ⅛ sign(h - v) / √|h - v| away from h = v and 0 at it.
 */
function sqrtDiff(h: Tensor, v: Tensor): Tensor {
  const [d, s] = noGrad(() => {
    const dd = sub(h, v);
    return [dd, sqrt(abs(dd))] as const;
  });
  const out = noGrad(() => mul(s, 0.25));
  customOp(
    'MuFuRu.sqrt_diff',
    [h, v],
    [out],
    ([g], [ds, ss], needs) =>
      tidy(() => {
        // where() picks 0 at s = 0, so the division's Infinity there is never used.
        const gd = where(eq(ss!, 0), 0, div(mul(mul(g!, sign(ds!)), 0.125), ss!));
        return [needs[0] ? gd : null, needs[1] ? neg(gd) : null];
      }),
    [d, s],
  );
  d.dispose();
  s.dispose();
  return out;
}
