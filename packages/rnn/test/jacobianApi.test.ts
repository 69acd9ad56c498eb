import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  WebrnnError,
  customOp,
  manualSeed,
  mul,
  nn,
  noGrad,
  randn,
} from '@webrnn/rnn';

/**
 * nn.Jacobian (Torch's testJacobian / testJacobianParameters): tiny for correct modules, large for a module whose
 * backward is wrong, and clear about what it cannot check.
 */
const f64 = { dtype: 'float64' as const };

/** x * 3 forward, with a backward that multiplies by 3.3: a wrong gradient for the checker to find. */
class WrongScale extends nn.Module {
  override updateOutput(input: Activity): Activity {
    const x = input as Tensor;
    const y = noGrad(() => mul(x, 3));
    return customOp('wrongScale', [x], [y], ([g]) => [mul(g!, 3.3)])[0];
  }
}

describe('nn.Jacobian', () => {
  it('finds no difference for correct modules, w.r.t. the input and the parameters', () => {
    manualSeed(3);
    const nets: nn.Module[] = [
      new nn.Linear(4, 3).double(),
      new nn.Sequential().add(new nn.Linear(3, 5)).add(new nn.Tanh()).add(new nn.Linear(5, 2)).double(),
      new nn.Sequencer(new nn.FastLSTM(3, 2)).double(),
    ];
    const inputs = [randn([2, 4], f64), randn([2, 3], f64), randn([3, 2, 3], f64)];
    nets.forEach((m, i) => {
      expect(nn.Jacobian.testJacobian(m, inputs[i]!), `${m} input`).toBeLessThan(1e-7);
      expect(nn.Jacobian.testJacobianParameters(m, inputs[i]!), `${m} parameters`).toBeLessThan(1e-7);
    });
  });

  it('finds a wrong backward, in a container too', () => {
    const x = randn([2, 3], f64);
    expect(nn.Jacobian.testJacobian(new WrongScale(), x)).toBeCloseTo(0.3, 6);
    const net = new nn.Sequential().add(new nn.Linear(3, 3).double()).add(new WrongScale());
    expect(nn.Jacobian.testJacobianParameters(net, x)).toBeGreaterThan(0.01);
  });

  it('refuses a table input', () => {
    expect(() => nn.Jacobian.testJacobian(new nn.Identity(), [randn([2])] as unknown as Tensor)).toThrow(
      WebrnnError,
    );
  });
});
