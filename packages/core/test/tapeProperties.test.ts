import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
import {
  type Tensor,
  add,
  clamp,
  customOp,
  exp,
  hardtanh,
  max,
  memory,
  mul,
  noGrad,
  sigmoid,
  stack,
  sum,
  tanh,
  tensor,
  tidy,
  unbind,
  vjp,
  vjpObserving,
} from '@webrnn/core';
import { runs } from './helpers/arb.js';

/**
 * The tape on random graphs: several roots that depend on one another, intermediate (non-leaf) inputs where the
 * backward must stop, graphs left intact below those inputs; clamp's and hardtanh's gradients at their bounds;
 * and the refusal of a backward through a tensor filled in place after it was saved.
 */

const f64 = { dtype: 'float64' as const };
const W = 3; // every node is a [W] vector
const arr = (t: Tensor) => Array.from(t.dataSync());

/** `unbind` adds two nodes, the two outputs of one tape node (unbind of stack([a, b])). */
type Step = { kind: 'add' | 'mul' | 'tanh' | 'scale' | 'unbind'; a: number; b: number; c: number };
/** Steps, roots and an intermediate node to ask gradients for (node indices mod the count), x, seeds. */
type Graph = { steps: Step[]; roots: number[]; input: number; x: number[]; seeds: number[][] };

/** A random DAG over a leaf x: node 0 is x, each later node an op of two earlier ones. */
const graphArb: fc.Arbitrary<Graph> = fc.integer({ min: 1, max: 7 }).chain((K) =>
  fc.record({
    steps: fc.array(
      fc.record({
        kind: fc.constantFrom<Step['kind']>('add', 'mul', 'tanh', 'scale', 'unbind'),
        a: fc.nat(),
        b: fc.nat(),
        c: realIn(-2, 2),
      }),
      { minLength: K, maxLength: K },
    ),
    // Roots in any order, repeats allowed (their seeds add up).
    roots: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    input: fc.nat(),
    x: fc.array(realIn(-1.5, 1.5), { minLength: W, maxLength: W }),
    seeds: fc.array(fc.array(realIn(-1, 1), { minLength: W, maxLength: W }), {
      minLength: 5,
      maxLength: 5,
    }),
  }),
);

/** The nodes of the graph; node `replace.at` (if given) is that tensor instead of its op's output. */
function build(g: Graph, x: Tensor, replace?: { at: number; by: Tensor }): Tensor[] {
  const nodes = [x];
  const push = (t: Tensor) => nodes.push(replace?.at === nodes.length ? replace.by : t);
  for (const s of g.steps) {
    const a = nodes[s.a % nodes.length]!;
    const b = nodes[s.b % nodes.length]!;
    if (s.kind === 'unbind') {
      const [p, q] = unbind(stack([a, b]));
      push(p!);
      push(q!);
    } else
      push(
        s.kind === 'add'
          ? add(a, b)
          : s.kind === 'mul'
            ? mul(a, b)
            : s.kind === 'tanh'
              ? tanh(a)
              : mul(a, s.c),
      );
  }
  return nodes;
}

/** Node counts do not depend on values: the roots' and the input's node indices (never x itself). */
function indices(g: Graph): { roots: number[]; input: number } {
  const n = 1 + g.steps.reduce((k, s) => k + (s.kind === 'unbind' ? 2 : 1), 0);
  return { roots: g.roots.map((r) => 1 + (r % (n - 1))), input: 1 + (g.input % (n - 1)) };
}

const leaf = (v: readonly number[]) => tensor(Float64Array.from(v), { ...f64, requiresGrad: true });
const seedsOf = (g: Graph) => g.roots.map((_, i) => tensor(Float64Array.from(g.seeds[i]!), f64));

/** sum_r sum(root_r * seed_r) at x, without the tape. */
function objective(g: Graph, x: readonly number[]): number {
  return noGrad(() =>
    tidy(() => {
      const nodes = build(g, tensor(Float64Array.from(x), f64));
      return indices(g).roots.reduce(
        (s, r, i) => s + sum(mul(nodes[r]!, tensor(Float64Array.from(g.seeds[i]!), f64))).itemSync(),
        0,
      );
    }),
  );
}

describe('vjp on random graphs', () => {
  it('several roots, depending on one another, repeated: the gradient of sum_r <root_r, seed_r> (central differences)', () => {
    fc.assert(
      fc.property(graphArb, (g) =>
        tidy(() => {
          const x = leaf(g.x);
          const nodes = build(g, x);
          const [gx] = vjp(
            indices(g).roots.map((r) => nodes[r]!),
            seedsOf(g),
            [x],
          );
          const eps = 1e-6;
          const want = g.x.map((_, j) => {
            const up = [...g.x];
            const down = [...g.x];
            up[j]! += eps;
            down[j]! -= eps;
            return (objective(g, up) - objective(g, down)) / (2 * eps);
          });
          const got = arr(gx!);
          got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-6 * (1 + Math.abs(want[j]!))));
        }),
      ),
      runs(60),
    );
  });

  it('an intermediate input: gradients stop there, as if it were a leaf (returned and accumulated alike)', () => {
    fc.assert(
      fc.property(graphArb, (g) =>
        tidy(() => {
          const x = leaf(g.x);
          const nodes = build(g, x);
          const { roots: rs, input } = indices(g);
          const a = nodes[input]!;
          const roots = rs.map((r) => nodes[r]!);
          // Reference: the same graph with the intermediate replaced by a leaf of its value.
          const x2 = leaf(g.x);
          const cut = leaf(arr(a));
          const nodes2 = build(g, x2, { at: input, by: cut });
          const roots2 = rs.map((r) => nodes2[r]!);
          const retain = { retainGraph: true };
          const [ga, gx] = vjp(roots, seedsOf(g), [a, x], retain);
          const [wa, wx] = vjp(roots2, seedsOf(g), [cut, x2], retain);
          expect(ga === null).toBe(wa === null);
          expect(gx === null).toBe(wx === null);
          if (ga && wa) expect(arr(ga)).toEqual(arr(wa));
          if (gx && wx) expect(arr(gx)).toEqual(arr(wx));
          // Asking for `a` alone while accumulating into leaves: x gets only what reaches it around `a`.
          const [ga2] = vjp(roots, seedsOf(g), [a], { accumulateLeaves: true });
          vjp(roots2, seedsOf(g), [cut], { accumulateLeaves: true });
          expect(ga2 === null).toBe(wa === null);
          if (ga2 && wa) expect(arr(ga2)).toEqual(arr(wa));
          expect(x.grad === null).toBe(x2.grad === null);
          if (x.grad && x2.grad) expect(arr(x.grad)).toEqual(arr(x2.grad));
        }),
      ),
      runs(60),
    );
  });
});

describe('vjpObserving on random graphs', () => {
  it('an observed intermediate gets the gradient a stop there would give, and the backward goes on unchanged', () => {
    fc.assert(
      fc.property(graphArb, fc.nat(), (g, other) =>
        tidy(() => {
          const x = leaf(g.x);
          const nodes = build(g, x);
          const { roots: rs, input } = indices(g);
          const roots = rs.map((r) => nodes[r]!);
          const a = nodes[input]!;
          const b = nodes[1 + (other % (nodes.length - 1))]!;
          const retain = { retainGraph: true };
          // Observe a, b, a again and the input x itself; ask for x only.
          const got = vjpObserving(roots, seedsOf(g), [x], [a, b, a, x], retain);
          const [wx] = vjp(roots, seedsOf(g), [x], retain);
          const [wa] = vjp(roots, seedsOf(g), [a], retain);
          const [wb] = vjp(roots, seedsOf(g), [b], retain);
          const same = (t: Tensor | null, w: Tensor | null, what: string) => {
            expect(t === null, what).toBe(w === null);
            if (t && w) expect(arr(t), what).toEqual(arr(w));
          };
          same(got.inputs[0]!, wx!, 'x (the input)');
          same(got.observed[0]!, wa!, 'a');
          same(got.observed[1]!, wb!, 'b');
          same(got.observed[2]!, wa!, 'a, observed twice');
          same(got.observed[3]!, wx!, 'x, observed and an input');
          // Observing changes nothing accumulated into the leaves.
          const x2 = leaf(g.x);
          const nodes2 = build(g, x2);
          vjpObserving(
            rs.map((r) => nodes2[r]!),
            seedsOf(g),
            [],
            [nodes2[input]!],
            { accumulateLeaves: true },
          );
          const x3 = leaf(g.x);
          const nodes3 = build(g, x3);
          vjp(
            rs.map((r) => nodes3[r]!),
            seedsOf(g),
            [],
            { accumulateLeaves: true },
          );
          same(x2.grad, x3.grad, 'x.grad');
        }),
      ),
      runs(60),
    );
  });

  it('an input listed twice gets its gradient at both places; observed handles survive the graph', () => {
    tidy(() => {
      const x = leaf([0.5, -1, 2]);
      const h = tanh(x);
      const y = mul(h, h);
      const seed = tensor(Float64Array.from([1, 2, 3]), f64);
      const { inputs, observed } = vjpObserving([y], [seed], [x, x], [h]);
      expect(arr(inputs[0]!)).toEqual(arr(inputs[1]!));
      // d/dh sum(seed * h^2) = 2 seed h; freed graph (no retainGraph) leaves the observed gradient intact.
      const hv = arr(h);
      arr(observed[0]!).forEach((v, i) => expect(v).toBeCloseTo(2 * (i + 1) * hv[i]!, 12));
      const [again] = vjp([mul(tanh(x), 1)], [seed], [x]);
      expect(again).not.toBeNull();
    });
  });

  it('names itself when given something other than tensors to observe', () => {
    const x = leaf([1, 2, 3]);
    expect(() => vjpObserving([x], [x], [x], [3 as unknown as Tensor])).toThrow(/vjpObserving.*observe\[0\]/);
  });
});

describe('clamp and hardtanh at their bounds', () => {
  const bound = fc.integer({ min: -4, max: 4 }).map((v) => v / 2);
  it('clamp passes the gradient where min <= x <= max (PyTorch), hardtanh where min < x < max (Torch)', () => {
    fc.assert(
      fc.property(
        bound,
        bound,
        fc.array(
          fc.integer({ min: -6, max: 6 }).map((v) => v / 2),
          { minLength: 1, maxLength: 12 },
        ),
        (p, q, xs) =>
          tidy(() => {
            const [lo, hi] = p <= q ? [p, q] : [q, p];
            // Every element sits on a bound, strictly between or outside: halves hit the bounds exactly.
            const values = [lo, hi, ...xs];
            for (const [op, inside] of [
              [clamp, (v: number) => lo <= v && v <= hi],
              [hardtanh, (v: number) => lo < v && v < hi],
            ] as const) {
              const x = tensor(Float64Array.from(values), { ...f64, requiresGrad: true });
              const g = tensor(Float64Array.from(values.map((_, i) => i + 1)), f64);
              const [gx] = vjp([op(x, lo, hi)], [g], [x]);
              expect(arr(gx!), `${op.name}(${lo}, ${hi}) at ${values}`).toEqual(
                values.map((v, i) => (inside(v) ? i + 1 : 0)),
              );
            }
          }),
      ),
      runs(80),
    );
  });
});

describe('in-place writes to a tensor saved for backward', () => {
  // Ops whose backward reads a saved input or output: filling it in place must make backward refuse.
  const cases: [string, (h: Tensor) => { out: Tensor; saved: Tensor }][] = [
    ['mul (saves its inputs)', (h) => ({ out: mul(h, h), saved: h })],
    ['tanh (saves its output)', (h) => ((o) => ({ out: o, saved: o }))(tanh(h))],
    ['sigmoid (saves its output)', (h) => ((o) => ({ out: o, saved: o }))(sigmoid(h))],
    ['exp (saves its output)', (h) => ((o) => ({ out: o, saved: o }))(exp(h))],
    ['clamp (saves its input)', (h) => ({ out: clamp(h, -0.5, 0.5), saved: h })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: fill_, zero_, copy_ or add_ after the forward makes backward fail, naming the op`, () => {
      const writes: [string, (t: Tensor) => void][] = [
        ['fill_', (t) => t.fill_(3)],
        ['zero_', (t) => t.zero_()],
        ['copy_', (t) => t.copy_(tensor([1, 2], f64))],
        ['add_', (t) => t.add_(1)],
      ];
      for (const [what, write] of writes) {
        tidy(() => {
          const x = tensor([0.25, -0.75], { ...f64, requiresGrad: true });
          const h = mul(x, 1);
          const { out, saved } = make(h);
          noGrad(() => write(saved));
          expect(() => sum(out).backward(), what).toThrow(
            /backward: a tensor of shape \[2\] saved by '\w+' was modified in place after it was used; clone it before modifying it/,
          );
        });
      }
      // Without the write, the same backward runs.
      tidy(() => {
        const x = tensor([0.25, -0.75], { ...f64, requiresGrad: true });
        sum(make(mul(x, 1)).out).backward();
        expect(x.grad).not.toBeNull();
      });
    });
  }
});

describe('vjp: what it returns and what it leaves alone', () => {
  it('two outputs of one node (unbind) as inputs each get their own gradient', () => {
    const x = leaf([1, 2, 3, 4, 5, 6]);
    const [p, q] = unbind(mul(x, 1).reshape([2, 3]));
    const y = add(mul(p!, q!), mul(q!, 2));
    const [gp, gq, gx] = vjp([y], [tensor([1, 1, 1], f64)], [p!, q!, x]);
    expect(arr(gp!)).toEqual([4, 5, 6]); // q
    expect(arr(gq!)).toEqual([3, 4, 5]); // p + 2
    expect(gx).toBeNull(); // every path to x goes through p or q
  });

  it('leaves that are not inputs get no .grad unless accumulateLeaves, and gradients carry no graph', () => {
    const x = leaf([0.5, -1]);
    const w = leaf([2, 3]);
    const y = tanh(mul(x, w));
    const [gx] = vjp([y], [tensor([1, 1], f64)], [x], { retainGraph: true });
    expect(w.grad).toBeNull();
    // The backward ran without recording, though the saved tensors require grad.
    expect(gx!.requiresGrad).toBe(false);
    expect(gx!.gradFn).toBeNull();
    // Also when a custom op's backward uses a tensor that requires grad.
    const [z] = customOp('scaled', [x], [noGrad(() => mul(x, w))], ([g]) => [mul(g!, w)]);
    const [gz] = vjp([z!], [tensor([1, 1], f64)], [x]);
    expect([gz!.requiresGrad, gz!.gradFn]).toEqual([false, null]);
    vjp([y], [tensor([1, 1], f64)], [x], { accumulateLeaves: true });
    const want = arr(x).map((v, i) => v * (1 - Math.tanh(v * arr(w)[i]!) ** 2));
    arr(w.grad!).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
  });

  it("a custom op's gradients for inputs that need none are dropped, without leaking", () => {
    const x = leaf([1, 2]);
    const c = tensor([3, 4], f64); // needs no gradient
    const before = memory().tensors;
    tidy(() => {
      const [y] = customOp(
        'both',
        [x, c],
        [noGrad(() => mul(x, c))],
        // Ignores `needs`: returns a gradient for c too.
        ([g]) => [mul(g!, c), mul(g!, x)],
      );
      const [gx] = vjp([y!], [tensor([1, 1], f64)], [x]);
      expect(arr(gx!)).toEqual([3, 4]);
    });
    expect(memory().tensors).toBe(before);
  });

  it('a custom op whose backward returns a gradient of the wrong shape is refused, naming it', () => {
    const x = leaf([1, 2]);
    const [y] = customOp('badShape', [x], [noGrad(() => mul(x, 2))], ([g]) => [sum(g!)]);
    expect(() => vjp([y!], [tensor([1, 1], f64)], [x])).toThrow(
      "backward: internal error: 'badShape' produced a gradient of shape [] for an input of shape [2]",
    );
  });
});

describe('errors name the op whose graph was freed', () => {
  it('a second vjp through sum, max and tanh names each', () => {
    for (const [name, f] of [
      ['sum', (x: Tensor) => sum(x, 0, { keepdim: true })],
      ['max', (x: Tensor) => max(x, 0, { keepdim: true })],
      ['tanh', (x: Tensor) => tanh(x)],
    ] as const) {
      const x = leaf([1, 2]);
      const y = f(x);
      const g = noGrad(() => y.mul(0).add(1));
      vjp([y], [g], [x]);
      expect(() => vjp([y], [g], [x]), name).toThrow(
        `backward: the graph through '${name}' was already freed`,
      );
    }
  });
});
