import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, WebrnnError, keep, memory, noGrad, tensor, tidy, zeros } from '@webrnn/core';

/**
 * Ownership of memory: dispose, tidy and keep, views sharing a storage, graphs holding what backward needs, and
 * memory() staying flat over long training-like loops that use every op family.
 */

const f64 = { dtype: 'float64' as const };
const i32 = (data: core.NestedArray) => tensor(data, { dtype: 'int32' });

/** The counters a leak would move. */
const snapshot = () => {
  const m = memory();
  return {
    tensors: m.tensors,
    storages: m.storages,
    bytes: m.bytes,
    buffers: m.cpu.liveBuffers,
    cpuBytes: m.cpu.liveBytes,
  };
};

describe('dispose', () => {
  it('releases the storage once, is idempotent, and is what `using` calls', () => {
    const m0 = snapshot();
    const t = zeros([3, 4], f64);
    expect(snapshot()).toEqual({
      tensors: m0.tensors + 1,
      storages: m0.storages + 1,
      bytes: m0.bytes + 96,
      buffers: m0.buffers + 1,
      cpuBytes: m0.cpuBytes + 96,
    });
    t.dispose();
    expect(t.isDisposed).toBe(true);
    t.dispose();
    expect(snapshot()).toEqual(m0);
    {
      using u = zeros([2]);
      expect(u.size).toBe(2);
    }
    expect(snapshot()).toEqual(m0);
  });

  it('a view keeps its storage alive until the last view is disposed', () => {
    const m0 = snapshot();
    const flat = core.arange(12, undefined, undefined, f64);
    const base = core.reshape(flat, [3, 4]);
    const a = base.t(); // views over one storage
    const b = core.narrow(a, 0, 1, 2);
    const c = core.select(b, 1, 2);
    const u = core.unsqueeze(c, 0);
    const d = core.expand(u, [5, 2]);
    expect(memory().storages).toBe(m0.storages + 1);
    expect(memory().tensors).toBe(m0.tensors + 7);
    for (const t of [flat, base, a, b, u]) t.dispose();
    expect(memory().storages).toBe(m0.storages + 1); // c and d still hold it
    expect(Array.from(d.dataSync())).toEqual([9, 10, 9, 10, 9, 10, 9, 10, 9, 10]);
    c.dispose();
    expect(d.toArraySync()).toEqual(Array.from({ length: 5 }, () => [9, 10]));
    d.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('split pieces, unbind slices and detached handles are views too', () => {
    const m0 = snapshot();
    const x = core.rand([4, 3]);
    const pieces = core.split(x, 1);
    const slices = core.unbind(x, 1);
    const det = x.detach();
    x.dispose();
    expect(memory().storages).toBe(m0.storages + 1);
    for (const t of [...pieces, ...slices]) t.dispose();
    expect(memory().storages).toBe(m0.storages + 1);
    det.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('disposing a leaf disposes its gradient; zeroGrad frees it', () => {
    const m0 = snapshot();
    const w = tensor([1, 2], { ...f64, requiresGrad: true });
    tidy(() => core.sum(core.mul(w, w)).backward());
    expect(w.grad).not.toBeNull();
    expect(memory().tensors).toBe(m0.tensors + 2);
    w.zeroGrad();
    expect(w.grad).toBeNull();
    expect(memory().tensors).toBe(m0.tensors + 1);
    tidy(() => core.sum(core.mul(w, w)).backward());
    w.dispose();
    expect(w.grad).toBeNull();
    expect(snapshot()).toEqual(m0);
  });
});

describe('tidy', () => {
  it('disposes what fn created except what it returns', () => {
    const m0 = snapshot();
    const y = tidy(() => {
      const a = zeros([2]);
      const b = core.add(a, 1);
      return core.mul(b, 2);
    });
    expect(memory().tensors).toBe(m0.tensors + 1);
    expect(Array.from(y.dataSync())).toEqual([2, 2]);
    y.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('finds returned tensors in arrays, plain objects and Maps, at any depth', () => {
    const m0 = snapshot();
    const r = tidy(() => {
      zeros([1]); // garbage
      const map = new Map<string, Tensor>([['m', zeros([2])]]);
      return {
        a: zeros([3]),
        list: [zeros([4]), [zeros([5])]],
        nested: { deep: { t: zeros([6]) } },
        map,
        n: 3,
      };
    });
    expect(memory().tensors).toBe(m0.tensors + 5);
    const all = [r.a, r.list[0] as Tensor, (r.list[1] as Tensor[])[0]!, r.nested.deep.t, r.map.get('m')!];
    expect(all.map((t) => t.size)).toEqual([3, 4, 5, 6, 2]);
    expect(all.every((t) => !t.isDisposed)).toBe(true);
    expect(r.n).toBe(3);
    for (const t of all) t.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('returns non-tensor values and leaves tensors it did not create alone', () => {
    const m0 = snapshot();
    const outer = zeros([2]);
    const n = tidy(() => {
      core.add(outer, 1);
      return core.sum(outer).itemSync();
    });
    expect(n).toBe(0);
    expect(outer.isDisposed).toBe(false);
    const same = tidy(() => outer);
    expect(same).toBe(outer);
    expect(tidy('named', () => 'ok')).toBe('ok');
    outer.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('nested: an inner result moves to the outer scope, which disposes it unless it is returned too', () => {
    const m0 = snapshot();
    let inner: Tensor | null = null;
    const kept = tidy(() => {
      inner = tidy(() => core.add(zeros([2]), 1));
      expect(inner.isDisposed).toBe(false);
      const result = tidy(() => core.mul(inner!, 3));
      return result;
    });
    expect(inner!.isDisposed).toBe(true); // the outer scope owned it and did not return it
    expect(Array.from(kept.dataSync())).toEqual([3, 3]);
    kept.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('keep() exempts a tensor from every enclosing scope; its owner disposes it', () => {
    const m0 = snapshot();
    let k: Tensor | null = null;
    tidy(() => {
      tidy(() => {
        k = keep(zeros([3]));
        zeros([1]);
      });
      expect(k!.isDisposed).toBe(false);
    });
    expect(k!.isDisposed).toBe(false);
    expect(memory().tensors).toBe(m0.tensors + 1);
    k!.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('an exception inside tidy disposes what was created (not what was kept) and propagates', () => {
    const m0 = snapshot();
    let k: Tensor | null = null;
    let made: Tensor | null = null;
    expect(() =>
      tidy(() => {
        made = zeros([2]);
        k = keep(zeros([2]));
        tidy(() => {
          zeros([3]);
          throw new Error('boom');
        });
      }),
    ).toThrow('boom');
    expect(made!.isDisposed).toBe(true);
    expect(k!.isDisposed).toBe(false);
    k!.dispose();
    expect(snapshot()).toEqual(m0);
    // An op failing half-way inside tidy leaves nothing either.
    expect(() => tidy(() => core.matmul(core.exp(zeros([2, 3])), zeros([2, 3])))).toThrow(
      /matmul: inner dimensions/,
    );
    expect(snapshot()).toEqual(m0);
  });

  it('refuses a function returning a Promise, without leaking what it made', () => {
    const m0 = snapshot();
    expect(() =>
      tidy(async () => {
        zeros([4]);
        return 1;
      }),
    ).toThrow(
      new WebrnnError('tidy', 'the function returned a Promise; tidy cannot track async work, use dispose()'),
    );
    expect(snapshot()).toEqual(m0);
  });
});

describe('graphs own what backward needs', () => {
  it('a loss returned from tidy keeps its graph; backward frees the saved tensors; dispose frees the rest', () => {
    const w = tensor([1, 2, 3], { ...f64, requiresGrad: true });
    const m0 = snapshot();
    const loss = tidy(() => core.sum(core.mul(core.tanh(core.mul(w, w)), 2)));
    expect(memory().tensors).toBeGreaterThan(m0.tensors + 1); // the saved tensors
    loss.backward();
    expect(memory().tensors).toBe(m0.tensors + 2); // loss and w.grad
    loss.dispose();
    w.zeroGrad();
    expect(snapshot()).toEqual(m0);
  });

  it('intermediates disposed before backward do not break it', () => {
    const w = tensor([0.5, -1], { ...f64, requiresGrad: true });
    const m0 = snapshot();
    const h = core.exp(w);
    const y = core.mul(h, h);
    const loss = core.sum(y);
    h.dispose();
    y.dispose();
    loss.backward();
    const g = w.grad!.dataSync();
    [0.5, -1].forEach((v, i) => expect(g[i]).toBeCloseTo(2 * Math.exp(2 * v), 14));
    loss.dispose();
    w.zeroGrad();
    expect(snapshot()).toEqual(m0);
  });

  it('a graph never backpropagated is freed when its last output is disposed', () => {
    const w = tensor([[0.5, -1]], { ...f64, requiresGrad: true });
    const m0 = snapshot();
    const out = tidy(() => core.softmax(core.matmul(w, core.exp(core.transpose(w)))));
    expect(memory().tensors).toBeGreaterThan(m0.tensors + 1);
    out.dispose();
    expect(snapshot()).toEqual(m0);
  });

  it('retainGraph keeps the saved tensors until a last backward or disposal', () => {
    const w = tensor([1, 2], { ...f64, requiresGrad: true });
    const m0 = snapshot();
    const loss = tidy(() => core.sum(core.square(core.sigmoid(w))));
    loss.backward(undefined, { retainGraph: true });
    const afterFirst = memory().tensors;
    loss.backward(undefined, { retainGraph: true });
    expect(memory().tensors).toBe(afterFirst);
    loss.dispose();
    w.zeroGrad();
    expect(snapshot()).toEqual(m0);
  });

  it('vjp results are the caller’s; the graph is freed after it', () => {
    const x = tensor([1, 2], { ...f64, requiresGrad: true });
    const m0 = snapshot();
    tidy(() => {
      const y = core.mul(core.exp(x), 2);
      const [g] = core.vjp([y], [core.onesLike(y)], [x]);
      expect(g!.shape).toEqual([2]);
    });
    expect(snapshot()).toEqual(m0);
  });
});

// ---- long loops ---------------------------------------------------------------------------------------------

/** Parameters of a small model that touches every op family; they live outside the step scopes. */
function makeParams() {
  core.manualSeed(11);
  const p = (shape: number[]) => core.randn(shape, { ...f64, std: 0.3, requiresGrad: true });
  return { w1: p([4, 6]), w2: p([2, 6, 3]), e: p([5, 4]), g: p([3, 8]), c: p([3, 2]), b: p([3]) };
}
type Params = ReturnType<typeof makeParams>;

/** A forward pass using every op family, reduced to one loss. */
function forward(P: Params, x: Tensor, target: Tensor): Tensor {
  const emb = core.indexSelect(P.e, 0, i32([0, 3, 3, 1, 4]).narrow(0, 0, 3)); // [3, 4]
  const h = core.tanh(core.matmul(emb, P.w1)); // [3, 6]
  const hb = core.matmul(core.unsqueeze(h, 0).expand([2, 3, 6]), P.w2); // batched [2, 3, 3]
  const z = core.add(core.mean(hb, 0), P.b); // [3, 3]
  const zt = core.matmul(z, z, { transB: true }); // [3, 3]
  const act = core.cat(
    [
      core.sigmoid(z),
      core.relu(zt),
      core.hardtanh(z, -0.5, 0.5),
      core.clamp(zt, 0),
      core.abs(core.sub(z, 0.1)),
      core.sqrt(core.add(core.square(z), 1)),
      core.log(core.add(core.exp(z), 1)),
      core.pow(core.add(core.square(zt), 1), 0.5),
      core.div(z, core.add(core.abs(zt), 1)),
      core.maximum(z, zt),
      core.minimum(z, 0),
      core.where(core.gt(z, 0), z, core.neg(z)),
    ],
    1,
  ); // [3, 36]
  const parts = core.split(act, 12, 1);
  const stacked = core.stack(parts, 0); // [3, 3, 12]
  const chunks = core.chunk(stacked, 3, 2);
  const viewed = core.view(core.contiguous(core.permute(chunks[0]!, [1, 0, 2])), [3, -1]); // [3, 12]
  const flat = core.flatten(
    core
      .squeeze(core.unsqueeze(core.transpose(viewed, 0, 1), 1))
      .t()
      .clone(),
  );
  const picked = core.gather(
    core.reshape(flat, [3, 12]),
    1,
    i32([
      [0, 5],
      [11, 2],
      [7, 7],
    ]),
  ); // [3, 2]
  const scattered = core.scatterAdd(
    P.c,
    1,
    i32([
      [1, 1],
      [0, 1],
      [0, 0],
    ]),
    picked,
  );
  const sel = core.select(core.slice(core.narrow(scattered, 0, 0, 3), 1, -2), 1, 0); // [3]
  const [gh, gc] = core.lstmCell(P.g, P.c.narrow(1, 0, 2), 'ifog'); // [3, 2] each
  const cells = core.unbind(core.add(gh, gc), 1);
  const logits = core.add(
    core.stack([...cells, sel], 1),
    core.cast(core.cast(sel, 'float32'), 'float64').unsqueeze(1),
  );
  const losses = [
    core.crossEntropy(logits, target),
    core.nll(core.logSoftmax(logits, 1), target, 'sum'),
    core.mse(core.softmax(logits, 0), core.zerosLike(logits)),
    core.bce(core.sigmoid(logits), core.onesLike(logits).mul(0.5)),
    core.max(logits),
    core.min(logits, 1).sum(),
    core.sum(core.gather(logits, 1, core.argmax(logits, 1, { keepdim: true }))),
  ];
  return losses.reduce((a, b) => core.add(a, b));
}

describe('memory stays flat over long loops', () => {
  it('500 training steps (forward with every op family, backward, update) leave counts and bytes flat', () => {
    const P = makeParams();
    const x = zeros([1], f64); // unused input kept alive by the caller
    const target = i32([0, 2, 1]);
    const step = () => {
      tidy(() => {
        const loss = forward(P, x, target);
        loss.backward();
      });
      noGrad(() =>
        tidy(() => {
          for (const p of Object.values(P)) p.sub_(core.mul(p.grad!, 0.01));
        }),
      );
      for (const p of Object.values(P)) p.zeroGrad();
    };
    step();
    const m1 = snapshot();
    let first = Number.NaN;
    for (let i = 0; i < 500; i++) {
      step();
      if (i === 0) first = tidy(() => forward(P, x, target).itemSync());
    }
    expect(snapshot()).toEqual(m1);
    // The loop trained: the same loss as computed at the start is lower now.
    const last = tidy(() => forward(P, x, target).itemSync());
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    for (const p of Object.values(P)) p.dispose();
    x.dispose();
    target.dispose();
  });

  it('forward-only and no-grad loops are flat too', () => {
    const P = makeParams();
    const x = zeros([1], f64);
    const target = i32([0, 2, 1]);
    const run = () => {
      tidy(() => {
        forward(P, x, target); // a graph built and dropped
      });
      noGrad(() =>
        tidy(() => {
          forward(P, x, target);
        }),
      );
    };
    run();
    const m1 = snapshot();
    for (let i = 0; i < 100; i++) run();
    expect(snapshot()).toEqual(m1);
    for (const p of [...Object.values(P), x, target]) p.dispose();
  });

  it('explicit dispose instead of tidy: disposing the loss frees its whole graph after backward', () => {
    const w = tensor(
      [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      { ...f64, requiresGrad: true },
    );
    const m0 = snapshot();
    for (let i = 0; i < 200; i++) {
      const made: Tensor[] = [];
      const t = <T extends Tensor>(v: T) => {
        made.push(v);
        return v;
      };
      const y = t(core.softmax(t(core.matmul(w, t(core.exp(w))))));
      const loss = t(core.sum(t(core.mul(y, y))));
      loss.backward();
      for (const v of made) v.dispose();
      w.zeroGrad();
    }
    expect(snapshot()).toEqual(m0);
  });
});

// ---- per op, without tidy -----------------------------------------------------------------------------------

describe('no op leaves temporaries behind (outputs disposed by hand, no tidy)', () => {
  /** Each call makes its inputs through `mk`, so the test can dispose them. */
  type Mk = (t: Tensor) => Tensor;
  const OPS: [string, (mk: Mk, grad: boolean) => Tensor | Tensor[]][] = [];
  const x = (mk: Mk, grad: boolean, shape = [2, 3]) =>
    mk(core.rand(shape, { dtype: 'float64', requiresGrad: grad }));
  const idx = (mk: Mk, data: core.NestedArray) => mk(i32(data));
  const add = (name: string, f: (mk: Mk, grad: boolean) => Tensor | Tensor[]) => OPS.push([name, f]);
  for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const) {
    add(op, (mk, g) => core[op](x(mk, g), x(mk, g, [3])));
    add(`${op} scalar`, (mk, g) => core[op](x(mk, g), 2));
  }
  add('div int32 by a scalar', (mk) => core.div(idx(mk, [7, -7]), 2));
  add('comparisons', (mk) => [core.gt(x(mk, false), 0.5), core.eq(x(mk, false), 0.5)]);
  for (const op of [
    'neg',
    'exp',
    'log',
    'sqrt',
    'abs',
    'tanh',
    'sigmoid',
    'relu',
    'square',
    'reciprocal',
    'cos',
    'sin',
  ] as const) {
    add(op, (mk, g) => core[op](x(mk, g)));
  }
  add('clamp/hardtanh', (mk, g) => [core.clamp(x(mk, g), 0.2, 0.8), core.hardtanh(x(mk, g))]);
  add('where', (mk, g) => core.where(x(mk, false), x(mk, g), 0));
  add('matmul variants', (mk, g) => [
    core.matmul(x(mk, g), x(mk, g, [3, 2])),
    core.matmul(x(mk, g, [2, 2, 3]), x(mk, g, [2, 3]), { transB: true }),
    core.matmul(x(mk, g, [3]), x(mk, g, [3])),
    core.matmul(x(mk, g, [3]), x(mk, g, [2, 3, 2])),
  ]);
  add('reductions', (mk, g) => {
    const a = x(mk, g, [2, 3, 2]);
    return [
      core.sum(a, [0, 2]),
      core.mean(a, 1, { keepdim: true }),
      core.max(a),
      core.min(a, -1),
      core.argmax(a),
      core.argmin(a, 1),
    ];
  });
  add('cumsum', (mk, g) => [core.cumsum(x(mk, g, [3, 5]), 1), core.cumsum(x(mk, g), 0)]);
  add('sort and topk', (mk, g) => {
    const s = core.sort(x(mk, g, [3, 5]), 0, { descending: true });
    const t = core.topk(x(mk, g, [3, 5]), 2);
    return [s.values, s.indices, t.values, t.indices];
  });
  add('softmax', (mk, g) => [
    core.softmax(x(mk, g), 0),
    core.logSoftmax(x(mk, g)),
    core.softmax(mk(tensor(1))),
  ]);
  add('shape views', (mk, g) => {
    const a = x(mk, g, [2, 3, 1]);
    return [
      core.reshape(a, [3, 2]),
      core.reshape(mk(a.t()), [-1]),
      core.view(a, [6]),
      core.flatten(a, 1),
      core.squeeze(a),
      core.unsqueeze(a, 0),
      core.permute(a, [2, 0, 1]),
      core.transpose(a, 0, 1),
      core.expand(a, [4, 2, 3, 5]),
      core.narrow(a, 1, 1, 2),
      core.slice(a, 0, -1),
      core.select(a, 1, 0),
      core.contiguous(mk(a.t())),
      core.clone(a),
      core.cast(a, 'float32'),
    ];
  });
  add('join', (mk, g) => [
    core.cat([x(mk, g), x(mk, g, [1, 3])]),
    core.stack([x(mk, g), x(mk, g)], 1),
    ...core.split(x(mk, g), [1, 2], 1),
    ...core.chunk(x(mk, g), 2),
    ...core.unbind(x(mk, g), 1),
  ]);
  add('indexing', (mk, g) => [
    core.indexSelect(x(mk, g), 1, idx(mk, [2, 2, 0])),
    core.gather(x(mk, g), 1, idx(mk, [[0], [2]])),
    core.scatterAdd(x(mk, g), 1, idx(mk, [[0, 0]]), x(mk, g, [1, 2])),
  ]);
  add('losses', (mk, g) => [
    core.nll(x(mk, g), idx(mk, [0, 2])),
    core.nll(x(mk, g, [3]), mk(tensor(1, { dtype: 'int32' }))),
    core.crossEntropy(x(mk, g), idx(mk, [1, 1]), 'none'),
    core.mse(x(mk, g), x(mk, false), 'sum'),
    core.bce(x(mk, g), x(mk, false), 'mean', x(mk, false, [3])),
  ]);
  add('lstmCell and withLoss', (mk, g) => [
    ...core.lstmCell(x(mk, g, [2, 8]), x(mk, g, [2, 2])),
    core.withLoss(x(mk, g), mk(core.sum(x(mk, g)))),
  ]);

  for (const grad of [false, true]) {
    it.each(OPS.map(([n, f]) => [n, f] as const))(`%s (${grad ? 'with backward' : 'forward'})`, (_n, f) => {
      const m0 = snapshot();
      const made: Tensor[] = [];
      const mk: Mk = (t) => {
        made.push(t);
        return t;
      };
      const out = f(mk, grad);
      const outs = Array.isArray(out) ? out : [out];
      if (grad) {
        const floats = outs.filter((o) => o.requiresGrad);
        const seeds = floats.map((o) => core.onesLike(o));
        core
          .vjp(
            floats,
            seeds,
            made.filter((t) => t.requiresGrad),
          )
          .forEach((g) => g?.dispose());
        for (const s of seeds) s.dispose();
      }
      for (const t of [...outs, ...made]) t.dispose();
      expect(snapshot()).toEqual(m0);
    });
  }
});
