/**
 * FastLSTM against PyTorch golden values (fixtures/lstm.json, generated with torch.nn.LSTM / LSTMCell): PyTorch's
 * weights (gate blocks i, f, g, o; biases b_ih and b_hh) are mapped explicitly into FastLSTM's layout (blocks i,
 * z = g, f, o; one bias b_ih + b_hh on i2g, none on o2g), and the outputs and the gradients of
 * loss = Σ_t sum(output_t ⊙ R_t) are compared, through Torch-style backward in reverse order of the steps and
 * through tape-style loss.backward(). Skipped while the fixture file is absent.
 */
import { describe, expect, it } from 'vitest';
import { nn } from '@webrnn/rnn';
import {
  type FixtureTensor,
  type Mat,
  block,
  expectClose,
  loadFixture,
  loadPyTorchLSTM,
  mat,
  matOf,
  pick,
  rows,
  stepsOf,
  tapeStyle,
  tensorsOf,
  torchStyle,
} from './lstmHelpers.js';

const cases = loadFixture('lstm.json');
/** FastLSTM block k holds PyTorch block ORDER[k]. */
const ORDER = [0, 2, 1, 3];

describe('nn.FastLSTM against PyTorch golden values (fixtures/lstm.json)', () => {
  if (!cases) it.skip('needs fixtures/lstm.json (PyTorch golden values)', () => {});
  for (const c of cases ?? []) {
    const pool = tensorsOf(c.inputs, c.params);
    const layered = [...pool.keys()].some((k) => /_l[1-9]|reverse/.test(k));
    it.skipIf(layered)(c.name, () => {
      const need = (where: Map<string, FixtureTensor>, what: string, ...res: RegExp[]) => {
        const t = pick(where, ...res);
        if (!t) expect.fail(`${c.name}: no ${what} among [${[...where.keys()].join(', ')}]`);
        return t;
      };
      const x = need(pool, 'input', /^x$/, /^xs$/, /^input/);
      const R = need(pool, 'projection R', /^r$/, /^proj/, /grad_?out/);
      const Wih = need(pool, 'weight_ih', /weight_ih/, /^w_?ih/);
      const Whh = need(pool, 'weight_hh', /weight_hh/, /^w_?hh/);
      const H = Whh.shape[1]!;
      const I = Wih.shape[1]!;
      const zerosV = new Array(4 * H).fill(0);
      const bih = pick(pool, /bias_ih/, /^b_?ih/)?.data ?? zerosV;
      const bhh = pick(pool, /bias_hh/, /^b_?hh/)?.data ?? zerosV;
      const h0 = pick(pool, /^h0$/, /^h_0$/, /^hx$/);
      const c0 = pick(pool, /^c0$/, /^c_0$/, /^cx$/);
      const outs = tensorsOf(c.outputs);
      const y = need(outs, 'output', /^output$/, /^out$/, /^outputs?$/, /^y$/, /^h$/);
      const tol = /64/.test(x.dtype ?? '') ? 1e-9 : 2e-5;

      const m = new nn.FastLSTM(I, H).double();
      loadPyTorchLSTM(m, matOf(Wih), matOf(Whh), bih, bhh);
      if (h0) m.userPrevOutput = mat(stepsOf(h0).at(-1)!);
      if (c0) m.userPrevCell = mat(stepsOf(c0).at(-1)!);
      const xs = stepsOf(x).map(mat);
      const rs = stepsOf(R).map(mat);
      const a = torchStyle(m, xs, rs);
      const gradPrev = [m.gradPrevOutput, m.gradPrevCell].map((g) => (g ? rows(g) : null));
      const b = tapeStyle(m, xs, rs);
      expectClose(a.outs, stepsOf(y), tol, 'outputs');
      expectClose(b.outs, a.outs, 1e-12, 'tape outputs');
      expectClose(b.grads, a.grads, 1e-12, 'tape parameter gradients');
      expectClose(b.gradIns, a.gradIns, 1e-12, 'tape input gradients');

      const g = tensorsOf(c.grads);
      const gx = pick(g, /^x$/, /^xs$/, /^input/);
      if (gx) expectClose(a.gradIns, stepsOf(gx), tol, 'input gradients');
      // Parameter gradients, gathered from FastLSTM's layout back into PyTorch's blocks.
      const toTorch = (flatGrad: number[], width: number): Mat => {
        const r: Mat = [];
        for (let i = 0; i < flatGrad.length; i += width) r.push(flatGrad.slice(i, i + width));
        const blocks = [0, 1, 2, 3].map((k) => block(r, k, H));
        return [0, 1, 2, 3].flatMap((t) => blocks[ORDER.indexOf(t)]!);
      };
      const gWih = pick(g, /weight_ih/, /^w_?ih/);
      const gWhh = pick(g, /weight_hh/, /^w_?hh/);
      const gbih = pick(g, /bias_ih/, /^b_?ih/);
      const gbhh = pick(g, /bias_hh/, /^b_?hh/);
      if (gWih) expectClose(toTorch(a.grads[0]!, I), matOf(gWih), tol, 'weight_ih gradient');
      if (gWhh) expectClose(toTorch(a.grads[2]!, H), matOf(gWhh), tol, 'weight_hh gradient');
      // Both PyTorch biases receive the gradient of FastLSTM's one bias.
      const gb = toTorch(a.grads[1]!, 1).flat();
      if (gbih) expectClose(gb, gbih.data, tol, 'bias_ih gradient');
      if (gbhh) expectClose(gb, gbhh.data, tol, 'bias_hh gradient');
      const gh0 = pick(g, /^h0$/, /^h_0$/, /^hx$/);
      const gc0 = pick(g, /^c0$/, /^c_0$/, /^cx$/);
      if (gh0) expectClose(gradPrev[0], stepsOf(gh0).at(-1), tol, 'h0 gradient');
      if (gc0) expectClose(gradPrev[1], stepsOf(gc0).at(-1), tol, 'c0 gradient');
      m.userPrevOutput = null;
      m.userPrevCell = null;
    });
  }
});
