/**
 * 2-layer bidirectional LSTM and GRU over a padded batch against PyTorch (fixtures/bi{lstm,gru}_packed.json:
 * torch.nn.LSTM / GRU through pack_padded_sequence / pad_packed_sequence, lengths [5, 3, 2]). Ours is two SeqBRNN
 * layers of masked SeqLSTMs (SeqGRUs in PyTorch's resetAfter form) joined by concatenation: the forward direction
 * masks the padding after each sequence, and the backward direction meets that padding first, masked, so it
 * starts at each sequence's own last step from a zero state, which is what packing does. Masked by zero rows
 * (maskZero) and by an explicit mask handed down the containers (setZeroMask). PyTorch's weights are mapped
 * explicitly:
 * - LSTM: gate blocks i, f, g, o with biases b_ih + b_hh -> SeqLSTM's (D + H) x 4H in blocks i, f, o, g, one bias;
 * - GRU: blocks r, z, n (SeqGRU's r, u, candidate: the same order); bias = [b_ir + b_hr, b_iz + b_hz, b_in] and
 *   biasHN = b_hn.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, cat, nn, noGrad, tensor } from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { type FixtureTensor, loadFixture } from './lstmHelpers.js';

const H = 4;
const t64 = (f: FixtureTensor) => tensor(f.data, { shape: f.shape, dtype: 'float64' });
type Layer = nn.SeqLSTM | nn.SeqGRU;

/** The columns of m ([*, G*H]) in blocks: block k of the result is block order[k] of m. */
const blocks = (m: Tensor, order: readonly number[]) =>
  noGrad(() =>
    cat(
      order.map((g) => m.narrow(-1, g * H, H)),
      -1,
    ),
  );
const inverse = (order: readonly number[]) => order.map((_, k) => order.indexOf(k));

/** How one kind maps PyTorch's parameters to ours and our gradients back to PyTorch's. */
interface Kind {
  readonly file: string;
  readonly layer: (d: number) => Layer;
  /** Our gate block k holds PyTorch's block ORDER[k]. */
  readonly order: readonly number[];
  readonly states: readonly string[];
  /** Set the biases from PyTorch's, already in our block order. */
  load(m: Layer, p: Record<string, Tensor>): void;
  /** The gradients of PyTorch's b_ih and b_hh from ours (in our block order). */
  biasGrads(m: Layer): [Tensor, Tensor];
}

const LSTM: Kind = {
  file: 'bilstm_packed.json',
  layer: (d) => new nn.SeqLSTM(d, H),
  order: [0, 1, 3, 2],
  states: ['h_n', 'c_n'],
  load(m, p) {
    m.bias.copy_(p.bih!.add(p.bhh!));
  },
  biasGrads: (m) => [m.bias.grad!, m.bias.grad!],
};

const GRU: Kind = {
  file: 'bigru_packed.json',
  layer: (d) => new nn.SeqGRU(d, H, { resetAfter: true }),
  order: [0, 1, 2],
  states: ['h_n'],
  load(m, p) {
    const [bih, bhh] = [p.bih!, p.bhh!];
    m.bias.copy_(cat([bih.narrow(0, 0, 2 * H).add(bhh.narrow(0, 0, 2 * H)), bih.narrow(0, 2 * H, H)], 0));
    (m as nn.SeqGRU).biasHN!.copy_(bhh.narrow(0, 2 * H, H));
  },
  biasGrads(m) {
    const g = m.bias.grad!;
    const ru = g.narrow(0, 0, 2 * H);
    const gHN = (m as nn.SeqGRU).biasHN!.grad!;
    return [g, cat([ru, gHN], 0)];
  },
};

for (const kind of [LSTM, GRU]) {
  describe(`bidirectional 2-layer ${kind.file} over a padded batch equals PyTorch with packed sequences`, () => {
    const c = loadFixture(kind.file)?.[0];
    for (const how of ['maskZero', 'setZeroMask'] as const) {
      it(`outputs, final states, and the gradients of the input and of every weight (${how})`, () => {
        if (!c) expect.fail(`fixtures/${kind.file} is missing: run scripts/golden/make_fixtures.py`);
        const inp = c.inputs as unknown as Record<string, FixtureTensor>;
        const out = c.outputs as unknown as Record<string, FixtureTensor>;
        const grads = c.grads as unknown as Record<string, FixtureTensor>;
        const layers = [3, 2 * H].map((d) => {
          const b = new nn.SeqBRNN(d, H, false, new nn.JoinTable(-1), kind.layer).double();
          if (how === 'maskZero')
            for (const m of [b.forwardModule, b.backwardModule]) (m as Layer).maskZero();
          return b;
        });
        const model = new nn.Sequential().add(layers[0]!).add(layers[1]!);
        const layerOf = (l: number, reverse: boolean) =>
          (reverse ? layers[l]!.backwardModule : layers[l]!.forwardModule) as Layer;
        const names = (l: number, reverse: boolean) => {
          const s = `_l${l}${reverse ? '_reverse' : ''}`;
          return { wih: `weight_ih${s}`, whh: `weight_hh${s}`, bih: `bias_ih${s}`, bhh: `bias_hh${s}` };
        };
        const each = (fn: (m: Layer, n: ReturnType<typeof names>) => void) => {
          for (const l of [0, 1])
            for (const reverse of [false, true]) fn(layerOf(l, reverse), names(l, reverse));
        };
        // PyTorch -> ours: weight = [W_ih^T; W_hh^T] with the gate blocks reordered, then the biases.
        noGrad(() =>
          each((m, n) => {
            m.weight.copy_(blocks(cat([t64(inp[n.wih]!).t(), t64(inp[n.whh]!).t()], 0), kind.order));
            const p = {
              bih: blocks(t64(inp[n.bih]!), kind.order),
              bhh: blocks(t64(inp[n.bhh]!), kind.order),
            };
            kind.load(m, p);
          }),
        );
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
        lengths.forEach((len, b) => {
          const at = (t: number, from: number) => y.select(0, t).select(0, b).narrow(0, from, H);
          close(at(len - 1, 0), hn.select(0, 2).select(0, b), `h_n forward ${b}`, 1e-12);
          close(at(0, H), hn.select(0, 3).select(0, b), `h_n backward ${b}`, 1e-12);
          if (kind === LSTM) {
            const cn = t64(out.c_n!);
            const cellOf = (reverse: boolean) => (layerOf(1, reverse) as nn.SeqLSTM).cell!;
            close(
              cellOf(false)
                .select(0, len - 1)
                .select(0, b),
              cn.select(0, 2).select(0, b),
              `c_n fwd ${b}`,
              1e-12,
            );
            // The backward layer saw the sequence reversed: PyTorch's step 0 is its step T-1.
            const last = x.shape[0]! - 1;
            close(
              cellOf(true).select(0, last).select(0, b),
              cn.select(0, 3).select(0, b),
              `c_n bwd ${b}`,
              1e-12,
            );
          }
        });
        // Gradients of sum(output * R), mapped back to PyTorch's parameters.
        model.zeroGradParameters();
        close(model.backward(x, t64(inp.R!)) as Tensor, t64(grads.x!), 'grad x', 1e-12);
        const back = (g: Tensor) => blocks(g, inverse(kind.order));
        each((m, n) => {
          const D = m.inputSize;
          const gw = back(m.weight.grad!);
          close(gw.narrow(0, 0, D).t(), t64(grads[n.wih]!), `grad ${n.wih}`, 1e-12);
          close(gw.narrow(0, D, H).t(), t64(grads[n.whh]!), `grad ${n.whh}`, 1e-12);
          const [gih, ghh] = kind.biasGrads(m);
          close(back(gih), t64(grads[n.bih]!), `grad ${n.bih}`, 1e-12);
          close(back(ghh), t64(grads[n.bhh]!), `grad ${n.bhh}`, 1e-12);
        });
      });
    }
  });
}
