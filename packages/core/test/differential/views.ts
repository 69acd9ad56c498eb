import fc from 'fast-check';
import { type Tensor, expand, narrow, permute, reshape, select, unsqueeze } from '@webrnn/core';

/**
 * Random chains of views: how a program reaches the tensor an op is given. A chain starts from a dense base tensor
 * and applies view ops (permute, narrow with an offset, select, expand of size-1 dims, unsqueeze, reshape) until the
 * shape the op wants. Chains are drawn backwards from that target shape, so every chain is legal by construction.
 * Gradients land on the base, so the view ops' own backward passes are exercised too.
 */
export type ViewStep =
  | { readonly kind: 'permute'; readonly order: readonly number[] }
  | { readonly kind: 'narrow'; readonly axis: number; readonly start: number; readonly length: number }
  | { readonly kind: 'select'; readonly axis: number; readonly index: number }
  | { readonly kind: 'expand'; readonly shape: readonly number[] }
  | { readonly kind: 'unsqueeze'; readonly axis: number }
  | { readonly kind: 'reshape'; readonly shape: readonly number[] };

export interface Chain {
  /** The dense base's shape. */
  readonly base: readonly number[];
  /** Applied to the base in order; the last yields the target shape. */
  readonly steps: readonly ViewStep[];
}

const MAX_RANK = 5;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** One step that ends in `shape`, with the shape it starts from; null where no step of that kind applies. */
function stepsInto(shape: readonly number[]): fc.Arbitrary<{ src: number[]; step: ViewStep }>[] {
  const r = shape.length;
  const out: fc.Arbitrary<{ src: number[]; step: ViewStep }>[] = [];
  if (r >= 2) {
    out.push(
      fc.shuffledSubarray(range(r), { minLength: r, maxLength: r }).map((order) => {
        // permute(src, order)[i] = src[order[i]]: so src[order[i]] = shape[i].
        const src = new Array<number>(r);
        order.forEach((o, i) => {
          src[o] = shape[i]!;
        });
        return { src, step: { kind: 'permute', order } };
      }),
    );
  }
  if (r >= 1) {
    out.push(
      fc
        .record({ axis: fc.integer({ min: 0, max: r - 1 }), extra: fc.integer({ min: 1, max: 3 }) })
        .chain(({ axis, extra }) =>
          fc.integer({ min: 0, max: extra }).map((start) => ({
            src: shape.map((d, i) => (i === axis ? d + extra : d)),
            step: { kind: 'narrow' as const, axis, start, length: shape[axis]! },
          })),
        ),
    );
    out.push(
      fc
        .record({
          lead: fc.integer({ min: 0, max: Math.min(2, r) }),
          ones: fc.array(fc.boolean(), { minLength: r, maxLength: r }),
        })
        .map(({ lead, ones }) => ({
          src: shape.slice(lead).map((d, i) => (ones[i + lead] ? 1 : d)),
          step: { kind: 'expand' as const, shape: [...shape] },
        })),
    );
    out.push(
      fc.integer({ min: 0, max: r - 1 }).chain((i): fc.Arbitrary<{ src: number[]; step: ViewStep }> => {
        const d = shape[i]!;
        const factors = range(d + 1).filter((a) => a >= 1 && d % a === 0);
        const merge: fc.Arbitrary<number[]>[] =
          i + 1 < r ? [fc.constant([...shape.slice(0, i), d * shape[i + 1]!, ...shape.slice(i + 2)])] : [];
        const split =
          factors.length > 0 && r < MAX_RANK
            ? [
                fc
                  .constantFrom(...factors)
                  .map((a) => [...shape.slice(0, i), a, d / a, ...shape.slice(i + 1)]),
              ]
            : [];
        const options = [...merge, ...split];
        return options.length === 0
          ? fc.constant({ src: [...shape], step: { kind: 'reshape' as const, shape: [...shape] } })
          : fc
              .oneof(...options)
              .map((src) => ({ src, step: { kind: 'reshape' as const, shape: [...shape] } }));
      }),
    );
  }
  if (r < MAX_RANK) {
    out.push(
      fc
        .record({ axis: fc.integer({ min: 0, max: r }), k: fc.integer({ min: 1, max: 3 }) })
        .chain(({ axis, k }) =>
          fc.integer({ min: 0, max: k - 1 }).map((index) => ({
            src: [...shape.slice(0, axis), k, ...shape.slice(axis)],
            step: { kind: 'select' as const, axis, index },
          })),
        ),
    );
  }
  const unit = range(r).filter((i) => shape[i] === 1);
  if (unit.length > 0) {
    out.push(
      fc.constantFrom(...unit).map((axis) => ({
        src: shape.filter((_, i) => i !== axis),
        step: { kind: 'unsqueeze' as const, axis },
      })),
    );
  }
  return out;
}

/** A chain of up to `depth` views ending in `target` (often none: dense inputs stay common). */
export function chainArb(target: readonly number[], depth = 3): fc.Arbitrary<Chain> {
  const done = fc.constant<Chain>({ base: [...target], steps: [] });
  const options = stepsInto(target);
  if (depth === 0 || options.length === 0) return done;
  return fc.oneof(
    { weight: 2, arbitrary: done },
    {
      weight: 3,
      arbitrary: fc
        .oneof(...options)
        .chain(({ src, step }) =>
          chainArb(src, depth - 1).map((c) => ({ base: c.base, steps: [...c.steps, step] })),
        ),
    },
  );
}

/** Apply a chain's steps to its base. */
export function applyChain(base: Tensor, chain: Chain): Tensor {
  let v = base;
  for (const s of chain.steps) {
    switch (s.kind) {
      case 'permute':
        v = permute(v, s.order);
        break;
      case 'narrow':
        v = narrow(v, s.axis, s.start, s.length);
        break;
      case 'select':
        v = select(v, s.axis, s.index);
        break;
      case 'expand':
        v = expand(v, s.shape);
        break;
      case 'unsqueeze':
        v = unsqueeze(v, s.axis);
        break;
      case 'reshape':
        v = reshape(v, s.shape);
        break;
    }
  }
  return v;
}

/** The chain as code a reader can paste: `base[3, 4].narrow(1, 1, 2).permute([1, 0])`. */
export function describeChain(chain: Chain): string {
  const args = (s: ViewStep): string => {
    switch (s.kind) {
      case 'permute':
        return `[${s.order.join(', ')}]`;
      case 'narrow':
        return `${s.axis}, ${s.start}, ${s.length}`;
      case 'select':
        return `${s.axis}, ${s.index}`;
      case 'expand':
      case 'reshape':
        return `[${s.shape.join(', ')}]`;
      case 'unsqueeze':
        return `${s.axis}`;
    }
  };
  return `base[${chain.base.join(', ')}]${chain.steps.map((s) => `.${s.kind}(${args(s)})`).join('')}`;
}
