import {
  type Tensor,
  add,
  affine,
  gruCell,
  matmul,
  mul,
  narrow,
  sigmoid,
  tanh,
  tidy,
} from '../../module/deps.js';

/**
 * One step of Element-research's nn.GRU. `gates` is [N, 2H], the pre-activations of the reset and update gates
 * (r, z in that order); `xn` is the candidate's input term W x + b, [N, H]; `u` is the candidate's hidden-to-hidden
 * weight [H, H] (Torch layout, applied as (r ⊙ hPrev) Uᵀ); `mask` an optional dropout mask on r ⊙ hPrev.
 *
 *   r = σ(g[0]), z = σ(g[1]);  n = tanh(W x + b + U (r ⊙ hPrev));  h = (1 - z) ⊙ n + z ⊙ hPrev
 *
 * Torch7 applies the reset gate before the hidden-to-hidden product (Cho et al. 2014); PyTorch and cuDNN apply it
 * after (n = tanh(W x + b_in + r ⊙ (U hPrev + b_hn))), so the two agree only in special cases (hPrev = 0 and
 * b_hn = 0, or a diagonal U with b_hn = 0).
 *
 * Without a mask, a batch runs as core's fused gruCell (one tape node); the dropout mask sits between r ⊙ hPrev
 * and the product, inside the fused op, so the masked step keeps the composed ops.
 */
export function gruStep(
  gates: Tensor,
  xn: Tensor,
  hPrev: Tensor,
  u: Tensor,
  mask: Tensor | null = null,
): Tensor {
  if (!mask && hPrev.rank === 2) return gruCell(gates, xn, hPrev, u, { transU: true });
  return tidy(() => {
    const H = hPrev.shape[hPrev.rank - 1]!;
    const r = sigmoid(narrow(gates, -1, 0, H));
    const z = sigmoid(narrow(gates, -1, H, H));
    const rh = mul(r, hPrev);
    const n = tanh(add(xn, matmul(mask ? mul(rh, mask) : rh, u, { transB: true })));
    return add(mul(n, affine(z, -1, 1)), mul(z, hPrev));
  });
}
