/**
 * GRU and PyTorch golden values (fixtures/gru.json). PyTorch's GRU is not Torch7's: it applies the reset gate
 * after the hidden-to-hidden product and adds a hidden bias inside it, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
 * where Torch7 computes n = tanh(W_in x + b_in + W_hn (r ⊙ h)). So the fixture first checks the plain-number
 * PyTorch reference of lstmHelpers (which gru.test.ts uses to show where the two coincide), then nn.GRU with the
 * weights mapped into Torch7's layout: exactly equal where the definitions coincide (b_hn = 0 and a zero initial
 * state for the first step, or a diagonal W_hn), otherwise equal to the Torch7 formula on the same weights.
 * Skipped while the fixture file is absent.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, nn } from '@webrnn/rnn';
import {
  type FixtureTensor,
  type Mat,
  block,
  expectClose,
  loadFixture,
  mat,
  matOf,
  pick,
  refPyTorchGRU,
  refTorchGRU,
  rows,
  setParam,
  stepsOf,
  tensorsOf,
  zerosM,
} from './lstmHelpers.js';

const cases = loadFixture('gru.json');

describe('nn.GRU and PyTorch golden values (fixtures/gru.json)', () => {
  if (!cases) it.skip('needs fixtures/gru.json (PyTorch golden values)', () => {});
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
      const Wih = matOf(need(pool, 'weight_ih', /weight_ih/, /^w_?ih/));
      const Whh = matOf(need(pool, 'weight_hh', /weight_hh/, /^w_?hh/));
      const H = Whh[0]!.length;
      const zerosV = new Array(3 * H).fill(0);
      const bih = pick(pool, /bias_ih/, /^b_?ih/)?.data ?? zerosV;
      const bhh = pick(pool, /bias_hh/, /^b_?hh/)?.data ?? zerosV;
      const h0t = pick(pool, /^h0$/, /^h_0$/, /^hx$/);
      const xs = stepsOf(x);
      const N = xs[0]!.length;
      const h0: Mat = h0t ? stepsOf(h0t).at(-1)! : zerosM(N, H);
      const y = stepsOf(
        need(tensorsOf(c.outputs), 'output', /^output$/, /^out$/, /^outputs?$/, /^y$/, /^h$/),
      );
      const tol = /64/.test(x.dtype ?? '') ? 1e-9 : 2e-5;

      // 1. The plain-number PyTorch reference reproduces the fixture.
      let h = h0;
      const ref = xs.map((xt) => (h = refPyTorchGRU(xt, h, Wih, Whh, bih, bhh)));
      expectClose(ref, y, tol, 'PyTorch reference vs fixture');

      // 2. nn.GRU with the weights in Torch7's layout (r, z biases merged; b_hn has no place).
      const m = new nn.GRU(Wih[0]!.length, H).double();
      setParam(m.i2g.weight, Wih.slice(0, 2 * H));
      setParam(
        m.i2g.bias!,
        bih.slice(0, 2 * H).map((v, j) => v + bhh[j]!),
      );
      setParam(m.o2g.weight, Whh.slice(0, 2 * H));
      setParam(m.i2h.weight, block(Wih, 2, H));
      setParam(m.i2h.bias!, block(bih, 2, H));
      setParam(m.o2h.weight, block(Whh, 2, H));
      if (h0t) m.userPrevOutput = mat(h0);
      m.forget();
      const ours = xs.map((xt) => rows(m.forward(mat(xt)) as Tensor));
      const torch7 = {
        Wg: Wih.slice(0, 2 * H),
        bg: bih.slice(0, 2 * H).map((v, j) => v + bhh[j]!),
        Ug: Whh.slice(0, 2 * H),
        Wh: block(Wih, 2, H),
        bh: block(bih, 2, H),
        Uh: block(Whh, 2, H),
      };
      let ht = h0;
      expectClose(
        ours,
        xs.map((xt) => (ht = refTorchGRU(xt, ht, torch7))),
        1e-12,
        'nn.GRU vs the Torch7 formula',
      );
      const bhnZero = block(bhh, 2, H).every((v) => v === 0);
      const diagonal = block(Whh, 2, H).every((r, i) => r.every((v, j) => i === j || v === 0));
      const h0Zero = h0.every((r) => r.every((v) => v === 0));
      if (bhnZero && diagonal) expectClose(ours, y, tol, 'all steps (diagonal W_hn, b_hn = 0)');
      else if (bhnZero && h0Zero) expectClose(ours[0], y[0], tol, 'first step (h0 = 0, b_hn = 0)');
      m.userPrevOutput = null;
    });
  }
});
