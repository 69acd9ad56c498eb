import type { Activity } from '../module/activity.js';
import { tensorTable } from '../module/checks.js';
import { type Tensor, WebrnnError, add, div, fmtShape, log, mul, neg, sum, tidy } from '../module/deps.js';
import { Criterion, type Target } from './Criterion.js';

/** dpnn's guard against a zero denominator. */
const EPS = 1e-7;

/**
 * dpnn's nn.NCECriterion, the loss of noise-contrastive estimation (Mnih & Teh 2012, eq. 5-6) over the table
 * nn.NCEModule outputs, {P_model(target) [N], P_model(noise) [N, k], P_noise(target) [N], P_noise(noise) [N, k]}:
 *
 *   loss = -sum_i [ log(Pmt / (Pmt + k Pnt + eps)) + sum_j log(k Pns / (Pms + k Pns + eps)) ]
 *
 * divided by N with `sizeAverage` (default). The target is not used (the module put it into its output). The
 * noise probabilities get a zero gradient, as in dpnn; the model probabilities get autodiff's exact gradient of
 * this loss (dpnn's hand-written one differs from it by terms of the order of eps).
 */
export class NCECriterion extends Criterion {
  constructor(public sizeAverage = true) {
    super();
  }

  override updateOutput(input: Activity, _target: Target): Tensor {
    const ps = tensorTable(input, 4);
    if (ps.length !== 4) {
      throw new WebrnnError(
        'input',
        `expected nn.NCEModule's table {Pmt [N], Pms [N, k], Pnt [N], Pns [N, k]}, got ${ps.length} entries`,
      );
    }
    const [pmt, pms, pnt, pns] = ps as [Tensor, Tensor, Tensor, Tensor];
    const n = pmt.shape[0] ?? 0;
    const k = pms.shape[1] ?? 0;
    const expected: [Tensor, readonly number[], string][] = [
      [pmt, [n], 'Pmt'],
      [pms, [n, k], 'Pms'],
      [pnt, [n], 'Pnt'],
      [pns, [n, k], 'Pns'],
    ];
    expected.forEach(([t, shape, name], i) => {
      if (t.dtype === 'int32' || t.rank !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
        throw new WebrnnError(
          `input[${i}]`,
          `(${name}) is ${fmtShape(t.shape)} ${t.dtype}, expected float ${fmtShape(shape)} ` +
            `(Pmt [N], Pms [N, k], Pnt [N], Pns [N, k]: got Pmt ${fmtShape(pmt.shape)}, Pms ${fmtShape(pms.shape)})`,
        );
      }
    });
    return tidy(() => {
      // The noise probabilities are constants of the loss: dpnn gives them a zero gradient.
      const nt = pnt.detach();
      const ns = pns.detach();
      const fromModel = div(pmt, add(add(pmt, mul(nt, k)), EPS));
      const kns = mul(ns, k);
      const fromNoise = div(kns, add(add(pms, kns), EPS));
      const loss = neg(add(sum(log(fromModel)), sum(log(fromNoise))));
      return this.sizeAverage ? div(loss, n) : loss;
    });
  }

  override describe(): string {
    return this.typeName;
  }
}
