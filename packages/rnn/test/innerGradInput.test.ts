/**
 * After a container's backward, every module inside holds its gradInput, as Torch's containers leave it (issue
 * 12): checked against Torch's own algorithm run by hand, each module's backward called in reverse order on the
 * gradient the next one gave.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, memory, nn, noGrad, randn, tidy } from '@webrnn/rnn';
import { expectClose, f64, values } from './recurrentHelpers.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

const gpu = await webgpuForFile('inner gradInput');
const TOL = 1e-12;

type Layer = 'Linear' | 'Tanh' | 'Sigmoid' | 'ReLU' | 'MulConstant' | 'CMul' | 'Shared';

/** A square layer of width W (Shared: the first Linear again, called twice in one forward). */
function layer(kind: Layer, W: number, first: nn.Module | null): nn.Module {
  switch (kind) {
    case 'Linear':
      return new nn.Linear(W, W);
    case 'Tanh':
      return new nn.Tanh();
    case 'Sigmoid':
      return new nn.Sigmoid();
    case 'ReLU':
      return new nn.ReLU();
    case 'MulConstant':
      return new nn.MulConstant(-1.5);
    case 'CMul':
      return new nn.CMul([W]);
    case 'Shared':
      return first ?? new nn.Linear(W, W);
  }
}

/** Torch's Sequential:backward by hand: each module's own forward and backward, last to first. */
function byHand(modules: readonly nn.Module[], x: Activity, gradOutput: Activity): Activity[] {
  const inputs = [x];
  for (const m of modules.slice(0, -1)) inputs.push(m.forward(inputs.at(-1)!));
  const grads: Activity[] = new Array(modules.length);
  let g = gradOutput;
  for (let k = modules.length - 1; k >= 0; k--) {
    modules[k]!.forward(inputs[k]!);
    g = modules[k]!.backward(inputs[k]!, g);
    grads[k] = g;
  }
  return grads;
}

const layers = fc.array(
  fc.constantFrom<Layer>('Linear', 'Tanh', 'Sigmoid', 'ReLU', 'MulConstant', 'CMul', 'Shared'),
  { minLength: 1, maxLength: 5 },
);

describe("inner modules' gradInput after a container's backward", () => {
  it('Sequential of random layers: each equals Torch’s reverse-order backward (a shared module: its first call)', () => {
    fc.assert(
      fc.property(
        layers,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(),
        (kinds, N, W, seed) =>
          tidy(() => {
            manualSeed(seed);
            let first: nn.Module | null = null;
            const modules = kinds.map((k) => {
              const m = layer(k, W, first);
              if (k === 'Linear' || (k === 'Shared' && first === null)) first ??= m;
              return m;
            });
            const net = new nn.Sequential();
            for (const m of modules) net.add(m);
            net.double();
            const x = randn([N, W], f64);
            const go = randn([N, W], f64);
            net.forward(x);
            const gx = net.backward(x, go);
            const got = modules.map((m) => values(m.gradInput!));
            const want = byHand(modules, x, go).map(values);
            // A module listed twice holds the gradient of its first call (Torch's last backward).
            modules.forEach((m, k) => {
              const firstCall = modules.indexOf(m);
              expectClose(got[k]!, want[firstCall]!, TOL, `module ${k} (${kinds[k]})`);
            });
            expectClose(values(gx), want[0]!, TOL, 'the container');
          }),
      ),
      { numRuns: 40 },
    );
  });

  it('nested tables: ConcatTable branches and the modules inside them', () => {
    manualSeed(3);
    const a = new nn.Linear(3, 4);
    const tanh = new nn.Tanh();
    const b = new nn.Linear(3, 4);
    const branch = new nn.Sequential().add(tanh).add(b);
    const concat = new nn.ConcatTable().add(a).add(branch);
    const add = new nn.CAddTable();
    const net = new nn.Sequential().add(concat).add(add).double();
    tidy(() => {
      const x = randn([2, 3], f64);
      const go = randn([2, 4], f64);
      net.forward(x);
      net.backward(x, go);
      const got = [add, concat, a, branch, tanh, b].map((m) => values(m.gradInput!));
      // By hand: CAddTable passes go to both branches; each branch's backward from it.
      const goAdd = add.backward(concat.forward(x) as Tensor[], go) as Tensor[];
      const gA = a.backward(x, goAdd[0]!);
      const h = tanh.forward(x);
      b.forward(h);
      const gB = b.backward(h, goAdd[1]!);
      const gTanh = tanh.backward(x, gB as Tensor);
      expectClose(got[0]!, values(goAdd), TOL, 'CAddTable');
      expectClose(got[2]!, values(gA), TOL, 'the first branch');
      expectClose(got[5]!, values(gB), TOL, 'the Linear inside the second branch');
      expectClose(got[4]!, values(gTanh), TOL, 'the Tanh inside the second branch');
      expectClose(got[3]!, values(gTanh), TOL, 'the second branch');
      expectClose(
        got[1]!,
        values(gA).map((v, i) => v.map((e, j) => e + values(gTanh)[i]![j]!)),
        TOL,
        'ConcatTable (the sum of its branches)',
      );
    });
  });

  it("a recurrent module in a Sequencer holds its first step's gradInput (Torch's last step-wise backward)", () => {
    for (const rho of [99, 2]) {
      manualSeed(7);
      const lstm = new nn.LSTM(3, 4, rho).double();
      const lin = new nn.Linear(3, 3).double();
      const net = new nn.Sequential().add(new nn.Sequencer(lin)).add(new nn.Sequencer(lstm));
      tidy(() => {
        const xs = Array.from({ length: 4 }, () => randn([2, 3], f64));
        const gos = Array.from({ length: 4 }, () => randn([2, 4], f64));
        net.forward(xs);
        net.backward(xs, gos);
        const got = values(lstm.gradInput!);
        // By hand, step-wise: forget, forward each step, backward each step in reverse.
        const hs = xs.map((x) => lin.forward(x) as Tensor);
        lstm.forget();
        for (const h of hs) lstm.forward(h);
        let last: Activity = [];
        for (let t = 3; t >= 0; t--) last = lstm.backward(hs[t]!, gos[t]!);
        // (A Sequencer keeps every step of its sequence, whatever rho.)
        expectClose(got, values(last), TOL, `LSTM (rho ${rho})`);
        expect(got.flat().some((v) => v !== 0)).toBe(true);
      });
    }
  });

  it('updateGradInput sets them too; accGradParameters changes none; nothing leaks', () => {
    manualSeed(5);
    const l1 = new nn.Linear(3, 3);
    const l2 = new nn.Linear(3, 2);
    const net = new nn.Sequential().add(l1).add(new nn.Tanh()).add(l2).double();
    const before = memory().tensors;
    tidy(() => {
      const x = randn([2, 3], f64);
      const go = randn([2, 2], f64);
      net.forward(x);
      net.updateGradInput(x, go);
      const g1 = values(l1.gradInput!);
      const g2 = values(l2.gradInput!);
      net.accGradParameters(x, randn([2, 2], f64));
      expect(values(l1.gradInput!)).toEqual(g1);
      expect(values(l2.gradInput!)).toEqual(g2);
      expect(g1.flat().some((v) => v !== 0)).toBe(true);
    });
    net.clearState();
    expect(memory().tensors).toBe(before);
  });

  it.skipIf(!gpu)('on WebGPU, equal to the CPU', async () => {
    manualSeed(11);
    const make = () => {
      const l1 = new nn.Linear(5, 6);
      const l2 = new nn.Linear(6, 3);
      return { l1, l2, net: new nn.Sequential().add(l1).add(new nn.Sigmoid()).add(l2) };
    };
    const cpu = make();
    const wg = make();
    noGrad(() => cpu.net.parameters()[0].forEach((p, i) => wg.net.parameters()[0][i]!.copy_(p)));
    wg.net.to('webgpu');
    const x = randn([4, 5]);
    const go = randn([4, 3]);
    cpu.net.forward(x);
    cpu.net.backward(x, go);
    const xg = x.to('webgpu');
    const gog = go.to('webgpu');
    wg.net.forward(xg);
    wg.net.backward(xg, gog);
    await expectCloseToCpu('first Linear', cpu.l1.gradInput as Tensor, wg.l1.gradInput as Tensor);
    await expectCloseToCpu('second Linear', cpu.l2.gradInput as Tensor, wg.l2.gradInput as Tensor);
    for (const t of [x, go, xg, gog]) t.dispose();
    for (const m of [cpu.net, wg.net]) m.dispose();
  });
});
