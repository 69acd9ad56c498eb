import { type DeviceName, type Tensor, manualSeed, nn, randint, randn } from '@webrnn/rnn';

/**
 * A subset of the op and module tests, small enough to run in a page: each check builds the same inputs (seeded,
 * made on the CPU and moved), runs forward and backward on a device and returns every output and gradient. The
 * page runs each on 'cpu' and on 'webgpu' and compares them within the written tolerance.
 */
type Check = (device: DeviceName) => Promise<Tensor[]>;

const on = (device: DeviceName, t: Tensor) => t.to(device).requiresGrad_(true);

export const PAGE_CHECKS: Record<string, Check> = {
  async 'matmul, transposed, with gradients'(device) {
    manualSeed(2);
    const a = on(device, randn([7, 5]));
    const b = on(device, randn([7, 3]));
    const r = randn([5, 3]).to(device);
    const out = a.t().matmul(b);
    out.mul(r).sum().backward();
    return [out, a.grad!, b.grad!];
  },
  async 'elementwise chain on a transposed view'(device) {
    manualSeed(3);
    const x = on(device, randn([4, 6]));
    const y = x.t().sigmoid().mul(x.t().tanh()).add(x.t().exp().clamp(0, 2)).sub(x.t().abs().sqrt());
    y.sum().backward();
    return [y, x.grad!];
  },
  async 'logSoftmax, max and mean reductions'(device) {
    manualSeed(4);
    const x = on(device, randn([6, 10]));
    const l = x.logSoftmax(-1);
    const m = x.max(1);
    l.mean().add(m.sum()).backward();
    return [l, m, x.grad!];
  },
  async 'LookupTable, Linear, Tanh, LogSoftMax with ClassNLLCriterion'(device) {
    manualSeed(5);
    const net = new nn.Sequential()
      .add(new nn.LookupTable(9, 4))
      .add(new nn.Linear(4, 6))
      .add(new nn.Tanh())
      .add(new nn.Linear(6, 5))
      .add(new nn.LogSoftMax())
      .to(device);
    const input = randint(0, 9, [8], { dtype: 'int32' }).to(device);
    const target = randint(0, 5, [8], { dtype: 'int32' }).to(device);
    const crit = new nn.ClassNLLCriterion();
    const out = net.forward(input) as Tensor;
    const loss = crit.forward(out, target);
    net.zeroGradParameters();
    net.backward(input, crit.backward(out, target));
    return [out, loss, ...net.parameters()[1]];
  },
  async 'SeqLSTM forward and backward'(device) {
    manualSeed(6);
    const lstm = new nn.SeqLSTM(3, 4).to(device);
    const input = randn([5, 2, 3]).to(device);
    const out = lstm.forward(input) as Tensor;
    lstm.zeroGradParameters();
    const gradInput = lstm.backward(input, randn([5, 2, 4]).to(device)) as Tensor;
    return [out, gradInput, ...lstm.parameters()[1]];
  },
};

export interface CheckResult {
  readonly name: string;
  readonly worst: number;
  readonly ok: boolean;
}

/** |gpu - cpu| <= TOL * (1 + |cpu|): float32 on both sides, sums in another order on the GPU. */
export const CHECK_TOLERANCE = 1e-4;

export async function runPageChecks(): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [name, check] of Object.entries(PAGE_CHECKS)) {
    const cpu = await Promise.all((await check('cpu')).map((t) => t.data()));
    const gpu = await Promise.all((await check('webgpu')).map((t) => t.data()));
    let worst = cpu.length === gpu.length ? 0 : Number.POSITIVE_INFINITY;
    cpu.forEach((c, k) => {
      const g = gpu[k]!;
      if (g.length !== c.length) worst = Number.POSITIVE_INFINITY;
      c.forEach((v, i) => {
        const d = Math.abs(g[i]! - v) / (1 + Math.abs(v));
        worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
      });
    });
    results.push({ name, worst, ok: worst <= CHECK_TOLERANCE });
  }
  return results;
}
