import { type Tensor, add, lstmCell, mul, reshape, sigmoid, tanh, tidy } from '../../module/deps.js';

/**
 * One LSTM cell update from the gates' pre-activations, written with ops (so it records on the tape and runs on
 * every backend). `gates` is [N, 4H] in Torch's FastLSTM order: input gate, candidate ("hidden"), forget gate,
 * output gate; `cPrev` is [N, H].
 *
 *   i = σ(g[0]), z = tanh(g[1]), f = σ(g[2]), o = σ(g[3]);  c = f ⊙ cPrev + i ⊙ z;  h = o ⊙ tanh(c)
 *
 * It runs as the fused cell op of the core (one kernel forward, one backward).
 */
export function lstmStep(gates: Tensor, cPrev: Tensor): { h: Tensor; c: Tensor } {
  if (gates.rank === 2) {
    const [h, c] = lstmCell(gates, cPrev, 'izfo');
    return { h, c };
  }
  // A single sample ([4H], [H]): the fused op works on batches.
  return tidy(() => {
    const H = cPrev.shape[0]!;
    const [h, c] = lstmCell(reshape(gates, [1, 4 * H]), reshape(cPrev, [1, H]), 'izfo');
    return { h: reshape(h, [H]), c: reshape(c, [H]) };
  });
}

/**
 * The peephole cell of Element-research's nn.LSTM (cell2gate = true): the input and forget gates see the previous
 * cell and the output gate sees the new one, each through a diagonal weight (Torch's CMul).
 *
 *   i = σ(ai + wi ⊙ cPrev), f = σ(af + wf ⊙ cPrev), z = tanh(az);  c = f ⊙ cPrev + i ⊙ z;
 *   o = σ(ao + wo ⊙ c);  h = o ⊙ tanh(c)
 *
 * `pre` holds the affine parts (input and previous-output terms) of each gate, [N, H] each.
 */
export function peepholeLstmStep(
  pre: { readonly i: Tensor; readonly z: Tensor; readonly f: Tensor; readonly o: Tensor },
  peep: { readonly i: Tensor; readonly f: Tensor; readonly o: Tensor },
  cPrev: Tensor,
): { h: Tensor; c: Tensor } {
  return tidy(() => {
    const i = sigmoid(add(pre.i, mul(cPrev, peep.i)));
    const f = sigmoid(add(pre.f, mul(cPrev, peep.f)));
    const z = tanh(pre.z);
    const c = add(mul(f, cPrev), mul(i, z));
    const o = sigmoid(add(pre.o, mul(c, peep.o)));
    const h = mul(o, tanh(c));
    return { h, c };
  });
}
