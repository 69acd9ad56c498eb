import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, LstmGateOrder, View } from '@webrnn/core';
import { CELLS, type CellDef, type CellKind, cellOperandNames, cellWidth, cellWrites } from '@webrnn/kernels';
import { type Pair, cpu, dense, free, gpu, out, pair, params, same, values } from './helpers/backendPairs.js';

/**
 * The fused cells' WGSL (generated from kernels' cells.ts) against the CPU's loops (generated from the same table)
 * at the backend level: every kernel of the table, every LSTM gate order, every subset of absent optional
 * operands, operands as transposed, padded and offset views, written operands sharing a buffer with read ones
 * (what the sequence ops do: step t beside step t-1), and NaN / +-Inf / overflowing inputs.
 *
 * Tolerances: activations carry exp/tanh's few-ulp error (rel 2e-6); outputs are sums of a few O(1) products of
 * them, so their error is absolute too (1e-6), however small the result.
 */
const KINDS = Object.keys(CELLS) as CellKind[];
const SPECIAL = [Number.NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30];

type Views = Record<string, View | null>;
/**
 * Input magnitudes: up to 4 for the forward kernels (into the activations' curved parts); 1 for the backward ones,
 * whose saved activations and cells are that small in use (1 - tanh(c)² cancels for large c, and turns tanh's
 * few-ulp error into a large relative one: no fixed tolerance would hold).
 */
const scale = (kind: CellKind) => (kind.endsWith('Backward') ? 1 : 4);
const run = (backend: Backend, kind: CellKind, v: Views, order: LstmGateOrder) =>
  (backend.cell as (k: CellKind, v: Views, o: LstmGateOrder) => void).call(backend, kind, v, order);

/** Both backends' operands of `kind`: read ones filled by `fill`, written ones zero; optional ones per `present`. */
function operands(
  kind: CellKind,
  N: number,
  H: number,
  layout: (k: number) => { transposed: boolean; offset: number; present: boolean },
  fill: (n: number) => Float32Array,
) {
  const pairs: Record<string, Pair | null> = {};
  const optional: readonly string[] = (CELLS[kind] as CellDef).optional ?? [];
  cellOperandNames(kind).forEach((name, k) => {
    const l = layout(k);
    const shape = [N, cellWidth(kind, name) * H];
    if (optional.includes(name) && !l.present) pairs[name] = null;
    else if (k < cellWrites(kind)) pairs[name] = out('float32', shape, l.offset);
    else
      pairs[name] = pair(
        'float32',
        shape,
        { ...dense(2), perm: l.transposed ? [1, 0] : [0, 1], offset: l.offset, pad: [0, 1] },
        fill,
      );
  });
  const side = (s: 'cpu' | 'gpu'): Views =>
    Object.fromEntries(Object.entries(pairs).map(([n, p]) => [n, p ? p[s] : null]));
  return { pairs, cpu: side('cpu'), gpu: side('gpu') };
}

/** NaN where the CPU has NaN, the same infinities, finite values within the tolerance. */
async function sameSpecials(what: string, p: Pair): Promise<void> {
  const want = cpu.readSync(p.cpu);
  const got = await gpu!.read(p.gpu);
  for (let i = 0; i < want.length; i++) {
    const [w, g] = [want[i]!, got[i]!];
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : Number.isFinite(w)
        ? Math.abs(g - w) <= 1e-6 + 2e-6 * Math.abs(w)
        : g === w;
    if (!ok) throw new Error(`${what}: element ${i} is ${g} on webgpu, ${w} on cpu`);
  }
}

describe.skipIf(!gpu)('the fused cells on WebGPU against the CPU', () => {
  it('every kernel, gate order and absent operand, on strided views', async () => {
    const layoutArb = fc.record({ transposed: fc.boolean(), offset: fc.nat(3), present: fc.boolean() });
    const arb = fc.tuple(
      fc.constantFrom(...KINDS),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 7 }),
      fc.constantFrom<LstmGateOrder>('izfo', 'ifog', 'ifgo'),
      fc.array(layoutArb, { minLength: 7, maxLength: 7 }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([kind, N, H, order, layouts]) => {
        const o = operands(
          kind,
          N,
          H,
          (k) => layouts[k]!,
          (n) => values('float32', n, scale(kind)) as Float32Array,
        );
        run(cpu, kind, o.cpu, order);
        run(gpu!, kind, o.gpu, order);
        for (const name of cellOperandNames(kind).slice(0, cellWrites(kind))) {
          await same(`${kind} ${order} ${name}`, o.pairs[name]!, 2e-6, 1e-6);
        }
        free(...Object.values(o.pairs).filter((p): p is Pair => p !== null));
      }),
      { ...params, numRuns: 24 },
    );
  });

  it('NaN, +-Inf and overflowing inputs give the CPU answer', async () => {
    let s = 7;
    const special = (n: number) =>
      Float32Array.from({ length: n }, (_, i) => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return i % 3 === 0 ? SPECIAL[s % SPECIAL.length]! : (s / 2147483648) * 8 - 4;
      });
    for (const kind of KINDS) {
      const o = operands(kind, 3, 5, () => ({ transposed: false, offset: 1, present: true }), special);
      run(cpu, kind, o.cpu, 'izfo');
      run(gpu!, kind, o.gpu, 'izfo');
      for (const name of cellOperandNames(kind).slice(0, cellWrites(kind))) {
        await sameSpecials(`${kind} ${name}`, o.pairs[name]!);
      }
      free(...Object.values(o.pairs).filter((p): p is Pair => p !== null));
    }
  });

  it('reads and writes operands that share a buffer (c beside cPrev, as lstmSequence does)', async () => {
    const [N, H] = [3, 4];
    const cs = pair('float32', [2 * N, H]);
    const rows = (v: View, first: number): View => ({ ...v, shape: [N, H], offset: v.offset + first * H });
    const gates = pair('float32', [N, 4 * H]);
    const [h, act] = [out('float32', [N, H]), out('float32', [N, 4 * H])];
    for (const [b, side] of [
      [cpu, 'cpu'],
      [gpu!, 'gpu'],
    ] as const) {
      const c = rows(cs[side], N);
      b.cell(
        'lstmCell',
        { h: h[side], c, act: act[side], gates: gates[side], cPrev: rows(cs[side], 0) },
        'ifog',
      );
    }
    await same('c and cPrev in one buffer', cs, 2e-6, 1e-6);
    await same('h', h, 2e-6, 1e-6);
    expect(gpu!.compiledKernels).toBeGreaterThan(0);
    free(cs, gates, h, act);
  });
});
