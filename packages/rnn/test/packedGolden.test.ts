/**
 * A 2-layer bidirectional LSTM over a padded batch against PyTorch (fixtures/bilstm_packed.json: torch.nn.LSTM
 * through pack_padded_sequence / pad_packed_sequence, lengths [5, 3, 2]). Ours is two SeqBRNN layers of masked
 * SeqLSTMs (maskZero: the padding rows are zero) joined by concatenation: the forward direction masks the padding
 * after each sequence, and the backward direction meets that padding first, masked, so it starts at each
 * sequence's own last step from a zero state, which is what packing does. PyTorch's weights are mapped
 * explicitly (gate blocks i, f, g, o with two biases -> SeqLSTM's (D + H) x 4H in blocks i, f, o, g with one).
 *
 * PyTorch's GRU (fixtures/bigru_packed.json) applies the reset gate after the recurrent product, Torch7's
 * (SeqGRU) before it; the two agree only in special cases, so that fixture has no counterpart here.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, cat, nn, noGrad, tensor } from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { type FixtureTensor, loadFixture } from './lstmHelpers.js';

/** SeqLSTM gate block k holds PyTorch gate block FROM[k] (SeqLSTM: i f o g; PyTorch: i f g o). */
const FROM = [0, 1, 3, 2];

const t64 = (f: FixtureTensor) => tensor(f.data, { shape: f.shape, dtype: 'float64' });

/** [rows, 4H] with column block k taken from block FROM[k] of m's columns ([*, 4H] -> [*, 4H]). */
function permuteBlocks(m: Tensor, H: number): Tensor {
  return noGrad(() =>
    cat(
      FROM.map((g) => m.narrow(-1, g * H, H)),
      -1,
    ),
  );
}

describe('bidirectional 2-layer SeqLSTM over a padded batch equals PyTorch with packed sequences', () => {
  const c = loadFixture('bilstm_packed.json')?.[0];
  for (const how of ['maskZero', 'setZeroMask'] as const)
    it(`outputs, final states, and the gradients of the input and of every weight (${how})`, () => {
      if (!c) expect.fail('fixtures/bilstm_packed.json is missing: run scripts/golden/make_fixtures.py');
      const inp = c.inputs as unknown as Record<string, FixtureTensor>;
      const out = c.outputs as unknown as Record<string, FixtureTensor>;
      const grads = c.grads as unknown as Record<string, FixtureTensor>;
      const H = 4;
      const layers = [3, 2 * H].map((d) => {
        const b = new nn.SeqBRNN(d, H, false, new nn.JoinTable(-1)).double();
        if (how === 'maskZero')
          for (const m of [b.forwardModule, b.backwardModule]) (m as nn.SeqLSTM).maskZero();
        return b;
      });
      const model = new nn.Sequential().add(layers[0]!).add(layers[1]!);
      const lstmOf = (l: number, reverse: boolean) =>
        (reverse ? layers[l]!.backwardModule : layers[l]!.forwardModule) as nn.SeqLSTM;
      const names = (l: number, reverse: boolean) => {
        const s = `_l${l}${reverse ? '_reverse' : ''}`;
        return { wih: `weight_ih${s}`, whh: `weight_hh${s}`, bih: `bias_ih${s}`, bhh: `bias_hh${s}` };
      };
      // PyTorch -> SeqLSTM: weight = [W_ih^T; W_hh^T] and bias = b_ih + b_hh, gate blocks reordered.
      noGrad(() => {
        for (const l of [0, 1]) {
          for (const reverse of [false, true]) {
            const n = names(l, reverse);
            const m = lstmOf(l, reverse);
            const w = cat([t64(inp[n.wih]!).t(), t64(inp[n.whh]!).t()], 0);
            m.weight.copy_(permuteBlocks(w, H));
            m.bias.copy_(permuteBlocks(t64(inp[n.bih]!).add(t64(inp[n.bhh]!)), H));
          }
        }
      });
      const x = t64(inp.x!);
      const lengths = inp.lengths!.data;
      if (how === 'setZeroMask') {
        // [T, N]: 1 past each sequence's length. Containers hand it down; SeqBRNN reverses it for its backward layer.
        const [T, N] = [x.shape[0]!, x.shape[1]!];
        const pad = Array.from({ length: T * N }, (_, i) => (Math.floor(i / N) >= lengths[i % N]! ? 1 : 0));
        model.setZeroMask(tensor(pad, { shape: [T, N], dtype: 'float64' }));
      }
      const y = model.forward(x) as Tensor;
      close(y, t64(out.output!), 'output', 1e-12);
      // The last layer's final states: forward at each sequence's last step, backward at step 0.
      const hn = t64(out.h_n!);
      const cn = t64(out.c_n!);
      const fwd = lstmOf(1, false);
      const bwd = lstmOf(1, true);
      lengths.forEach((len, b) => {
        close(
          y
            .select(0, len - 1)
            .select(0, b)
            .narrow(0, 0, H),
          hn.select(0, 2).select(0, b),
          `h_n fwd ${b}`,
          1e-12,
        );
        close(
          y.select(0, 0).select(0, b).narrow(0, H, H),
          hn.select(0, 3).select(0, b),
          `h_n bwd ${b}`,
          1e-12,
        );
        close(fwd.cell!.select(0, len - 1).select(0, b), cn.select(0, 2).select(0, b), `c_n fwd ${b}`, 1e-12);
        // The backward layer saw the sequence reversed: PyTorch's step 0 is its step T-1.
        close(
          bwd.cell!.select(0, x.shape[0]! - 1).select(0, b),
          cn.select(0, 3).select(0, b),
          `c_n bwd ${b}`,
          1e-12,
        );
      });
      // Gradients of sum(output * R).
      model.zeroGradParameters();
      const gx = model.backward(x, t64(inp.R!)) as Tensor;
      close(gx, t64(grads.x!), 'grad x', 1e-12);
      for (const l of [0, 1]) {
        for (const reverse of [false, true]) {
          const n = names(l, reverse);
          const m = lstmOf(l, reverse);
          const D = m.inputSize;
          // Back from SeqLSTM's layout: the inverse permutation of the blocks, then transposed.
          const back = (g: Tensor) => {
            const inv = FROM.map((_, k) => FROM.indexOf(k));
            return noGrad(() =>
              cat(
                inv.map((k) => g.narrow(-1, k * H, H)),
                -1,
              ),
            );
          };
          const gw = back(m.weight.grad!);
          close(gw.narrow(0, 0, D).t(), t64(grads[n.wih]!), `grad ${n.wih}`, 1e-12);
          close(gw.narrow(0, D, H).t(), t64(grads[n.whh]!), `grad ${n.whh}`, 1e-12);
          // Both PyTorch biases have the gradient of their sum.
          close(back(m.bias.grad!), t64(grads[n.bih]!), `grad ${n.bih}`, 1e-12);
          close(back(m.bias.grad!), t64(grads[n.bhh]!), `grad ${n.bhh}`, 1e-12);
        }
      }
    });
});
