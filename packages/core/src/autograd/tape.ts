import { WebrnnError, fmtShape } from '../errors.js';
import { tidy } from '../scopes.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { withGradMode } from './gradMode.js';

/**
 * The tape: each recorded op leaves a Node holding edges to where its inputs came from, the tensors its backward
 * needs, and the backward itself (written with ops, so it runs on every backend). Backward is one iterative
 * topological sort (unrolled BPTT graphs are too deep for recursion) and `+` accumulation.
 */
export type Edge = { readonly node: Node; readonly index: number } | { readonly leaf: Tensor } | null;

/** Gradients of the outputs in, gradients of the inputs out (null where an input needs none). */
export type BackwardFn = (
  grads: Tensor[],
  saved: readonly Tensor[],
  /** Which inputs need a gradient: skip the work for the others. */
  needs: readonly boolean[],
) => readonly (Tensor | null | undefined)[];

interface OutputMeta {
  readonly shape: readonly number[];
}

export class Node {
  /** Output tensors and downstream edges that still reference this node. */
  private refs = 0;
  private consumed = false;
  private readonly savedVersions: number[];

  constructor(
    readonly name: string,
    readonly edges: readonly Edge[],
    readonly inputShapes: readonly (readonly number[])[],
    private saved: Tensor[],
    readonly backwardFn: BackwardFn,
    readonly outputs: readonly OutputMeta[],
  ) {
    this.savedVersions = saved.map((t) => t.storage.version);
    for (const e of edges) if (e && 'node' in e) e.node.retain();
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const e of this.edges) if (e && 'node' in e) e.node.release();
  }

  /** The saved tensors, checked: the graph must not be freed, nor a saved tensor modified in place since. */
  takeSaved(): readonly Tensor[] {
    if (this.consumed) {
      throw new WebrnnError(
        'backward',
        `the graph through '${this.name}' was already freed by an earlier backward; ` +
          'pass { retainGraph: true } to the first backward to go through it twice',
      );
    }
    this.saved.forEach((t, i) => {
      if (t.storage.version !== this.savedVersions[i]) {
        throw new WebrnnError(
          'backward',
          `a tensor of shape ${fmtShape(t.shape)} saved by '${this.name}' was modified in place after it was used; ` +
            'clone it before modifying it',
        );
      }
    });
    return this.saved;
  }

  /** Free what backward needed (after a backward without retainGraph). */
  consume(): void {
    this.consumed = true;
    this.freeSaved();
  }

  private freeSaved(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }
}

export function edgeOf(t: Tensor): Edge {
  if (t.gradFn) return { node: t.gradFn, index: t.outputIndex };
  return t.requiresGrad ? { leaf: t } : null;
}

export interface BackwardOptions {
  /** Keep the graph so that it can be backpropagated through again. */
  readonly retainGraph?: boolean;
}

/**
 * The tensor arithmetic the engine needs to sum gradients. The tape sits below the ops (every op records on it),
 * so it cannot import them; the callers above (`backward`, `vjp`) pass the one implementation,
 * autograd/accumulate.ts, which is written with ops. This keeps the layering one-way: tape <- tensor <- ops.
 */
export interface GradArithmetic {
  /** a + b, a new tensor (grad mode is off). */
  add(a: Tensor, b: Tensor): Tensor;
  /** Zeros of `shape` with the dtype and device of `like`. */
  zerosOfShape(like: Tensor, shape: readonly number[]): Tensor;
  /** Accumulate `g` (taken over) into `leaf.grad`. */
  accumulateGrad(leaf: Tensor, g: Tensor): void;
}

export interface VjpOptions extends BackwardOptions {
  /** Also accumulate into `.grad` of the leaves (parameters) reached. Default false. */
  readonly accumulateLeaves?: boolean;
}

/** What runBackward found: the inputs' gradients, and the observed tensors' (null where none arrived). */
export interface BackwardResult {
  readonly inputs: (Tensor | null)[];
  readonly observed: (Tensor | null)[];
}

/** Positions in a list of tensors, by where each sits in the graph (node and output index, or leaf). */
class GraphPlaces {
  private readonly nodes = new Map<Node, Map<number, number[]>>();
  private readonly leaves = new Map<Tensor, number[]>();

  constructor(tensors: readonly Tensor[]) {
    tensors.forEach((t, pos) => {
      const list = t.gradFn ? this.atNode(t.gradFn, t.outputIndex, true)! : this.atLeaf(t, true)!;
      list.push(pos);
    });
  }

  atNode(node: Node, index: number, create = false): number[] | undefined {
    let m = this.nodes.get(node);
    if (!m && create) this.nodes.set(node, (m = new Map()));
    let l = m?.get(index);
    if (!l && create) m!.set(index, (l = []));
    return l;
  }

  // Stryker disable next-line BooleanLiteral: creating an empty list for a leaf looked up changes no answer (it holds no place).
  atLeaf(t: Tensor, create = false): number[] | undefined {
    let l = this.leaves.get(t);
    if (!l && create) this.leaves.set(t, (l = []));
    return l;
  }

  /** Output indices of `node` that are places here. */
  indicesAt(node: Node): ReadonlyMap<number, number[]> | undefined {
    return this.nodes.get(node);
  }
}

/** Nodes reachable from `roots`, in an order where every node comes before the nodes it depends on. */
function topoOrder(roots: readonly Node[], stopAt: (n: Node) => boolean): Node[] {
  // Stryker disable next-line ArrayDeclaration: a stray entry would find no pending gradient and be skipped.
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      // Stryker disable next-line EqualityOperator: with <=, one more turn reads edges[length] (undefined) and skips it (>= fails the tape tests; checked by hand).
      if (i < node.edges.length && !stopAt(node)) {
        top[1]++;
        const e = node.edges[i];
        if (e && 'node' in e && !seen.has(e.node)) {
          seen.add(e.node);
          stack.push([e.node, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order.reverse();
}

/**
 * The engine behind `tensor.backward()` and `vjp`: propagate `seeds` from `roots` back through the graph.
 * Gradients reaching a tensor of `inputs` are returned (and stop there); gradients reaching other leaves go into
 * their `.grad` when `accumulateLeaves`. The total gradient reaching each tensor of `observe` (made by an op, or
 * an input) is returned too, but the backward goes on through it (a container's backward reports every inner
 * module's gradInput this way).
 */
export function runBackward(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  inputs: readonly Tensor[],
  opts: VjpOptions & { accumulateLeaves: boolean },
  arithmetic: GradArithmetic,
  // Stryker disable next-line ArrayDeclaration: a stray entry is a place no node or input matches; callers without observe ignore `observed`.
  observe: readonly Tensor[] = [],
): BackwardResult {
  const results: (Tensor | null)[] = inputs.map(() => null);
  const observed: (Tensor | null)[] = observe.map(() => null);
  const inputPlaces = new GraphPlaces(inputs);
  const observedPlaces = new GraphPlaces(observe);
  // Gradients of observed tensors are handles of the gradient there, taken once it is complete.
  const note = (positions: readonly number[] | undefined, g: Tensor | null | undefined) => {
    if (g) for (const p of positions ?? []) observed[p] = g.detach();
  };

  const pending = new Map<Node, (Tensor | null)[]>();
  const addTo = (slots: (Tensor | null)[], i: number, g: Tensor) => {
    const old = slots[i];
    if (!old) slots[i] = g;
    else {
      // Stryker disable next-line BooleanLiteral: gradients never require grad here (computed without recording), so nothing would be recorded anyway.
      slots[i] = withGradMode(false, () => arithmetic.add(old, g));
      old.dispose();
      g.dispose();
    }
  };
  const deliver = (edge: Edge, g: Tensor) => {
    if (!edge) return g.dispose();
    if ('leaf' in edge) {
      const pos = inputPlaces.atLeaf(edge.leaf)?.[0];
      if (pos !== undefined) return addTo(results, pos, g);
      if (opts.accumulateLeaves) return arithmetic.accumulateGrad(edge.leaf, g);
      return g.dispose();
    }
    const pos = inputPlaces.atNode(edge.node, edge.index)?.[0];
    if (pos !== undefined) return addTo(results, pos, g);
    let slots = pending.get(edge.node);
    // Stryker disable next-line ArrowFunction: undefined and null both mean "no gradient yet".
    if (!slots) pending.set(edge.node, (slots = edge.node.outputs.map(() => null)));
    addTo(slots, edge.index, g);
  };

  roots.forEach((r, i) => deliver(edgeOf(r), seeds[i]!.detach()));
  // The sort stops below a node all of whose outputs are inputs (it never gets a pending gradient: those went to
  // `results`), so a step-wise BPTT backward does not walk the whole history. A node with other outputs still
  // runs for the gradients those bring (its input outputs count as zero there).
  const order = topoOrder(
    roots.flatMap((r) => (r.gradFn ? [r.gradFn] : [])),
    // Stryker disable next-line ArrowFunction,ConditionalExpression: not stopping only costs time, what lies below gets no gradient (always stopping fails the tape tests; checked by hand).
    (n) => inputPlaces.indicesAt(n)?.size === n.outputs.length,
  );
  for (const node of order) {
    const slots = pending.get(node);
    if (!slots) continue;
    pending.delete(node);
    // Every gradient reaching this node has arrived (the order puts it after all that depend on it).
    // Stryker disable next-line ArrayDeclaration: a stray entry reads no slot (undefined), and note skips a missing gradient.
    for (const [index, positions] of observedPlaces.indicesAt(node) ?? []) note(positions, slots[index]);
    const saved = node.takeSaved();
    const grads = withGradMode(false, () =>
      tidy(() => {
        const full = slots.map(
          (g, i) => g ?? arithmetic.zerosOfShape(slots.find((s) => s)!, node.outputs[i]!.shape),
        );
        // Stryker disable next-line MethodExpression: the copy only makes the readonly result mutable.
        return node
          .backwardFn(
            full,
            saved,
            // Stryker disable next-line ConditionalExpression: asking for every gradient only costs time, unneeded ones are dropped (asking for none fails the tape tests; checked by hand).
            node.edges.map((e) => e !== null),
          )
          .slice();
      }),
    );
    // Each input gets its own tensor object (aliases made before any delivery disposes one), so that
    // disposing one gradient never frees another.
    const handed = new Set<Tensor>();
    const out: [Edge, Tensor][] = [];
    node.edges.forEach((edge, i) => {
      const g = grads[i];
      if (!g) return;
      if (!shapesEqual(g.shape, node.inputShapes[i]!)) {
        throw new WebrnnError(
          'backward',
          `internal error: '${node.name}' produced a gradient of shape ${fmtShape(g.shape)} ` +
            `for an input of shape ${fmtShape(node.inputShapes[i]!)}`,
        );
      }
      out.push([edge, handed.has(g) ? g.detach() : g]);
      handed.add(g);
    });
    for (const g of slots) if (g && !handed.has(g)) g.dispose();
    for (const [edge, g] of out) deliver(edge, g);
    if (!opts.retainGraph) node.consume();
  }
  // Unreachable today (every node given a gradient is in the order, which runs it); kept so a future early exit frees them.
  // Stryker disable next-line OptionalChaining: unreachable, as said above.
  for (const slots of pending.values()) for (const g of slots) g?.dispose();
  inputs.forEach((t, pos) => {
    const first = (t.gradFn ? inputPlaces.atNode(t.gradFn, t.outputIndex) : inputPlaces.atLeaf(t))![0]!;
    // An input listed twice gets its gradient at both places.
    if (first !== pos) results[pos] = results[first]?.detach() ?? null;
    // An observed tensor that is also an input stops the backward: its gradient is the input's.
    else
      note(
        t.gradFn ? observedPlaces.atNode(t.gradFn, t.outputIndex) : observedPlaces.atLeaf(t),
        results[pos],
      );
  });
  return { inputs: results, observed };
}
