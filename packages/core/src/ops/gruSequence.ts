import { noGrad } from '../autograd/gradMode.js';
import { WebrnnError, fmtShape } from '../errors.js';
import { tidy } from '../scopes.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, floatOnly, record, sameDType } from './operands.js';
import { addmm } from './addmm.js';
import { add, binaryInPlace, mul } from './elementwise.js';
import { cat } from './join.js';
import { matmul } from './matmul.js';
import { narrow, reshape, select, unsqueeze } from './shape.js';

export interface GruSequenceOptions {
  /** [T, N, 1] of 1 (keep) and 0 (masked): a masked step outputs a zero h (state reset). Not differentiated. */
  readonly keep?: Tensor | null;
}

/**
 * A whole GRU layer over time as one op on the tape, Torch7's GRU (Cho et al.: the reset gate applies before
 * the recurrent product). `gx` [T, N, 3H] holds every step's input projection x Wx + b (gates r, u, then the
 * candidate); `wh` [H, 3H] the recurrent weight; `h0` [N, H]. Per step:
 *
 *   [r, u] = σ(gx_ru + h_prev Wh_ru);  hc = tanh(gx_c + (r ⊙ h_prev) Wh_c);  h = (1 - u) ⊙ hc + u ⊙ h_prev
 *
 * Returns the outputs [T, N, H]. Each step is a matmul, the fused gate kernel, a matmul and the fused output
 * kernel (the cell's kernels of core's gruCell); backward walks the steps in reverse with the fused backward
 * kernels and forms the recurrent weight's gradient over all steps with one matmul per gate block at the end.
 */
export function gruSequence(gx: Tensor, wh: Tensor, h0: Tensor, opts: GruSequenceOptions = {}): Tensor {
  const op = 'gruSequence';
  const keep = opts?.keep ?? null; // null options mean the defaults, as undefined does
  const operands = [gx, wh, h0, ...(keep ? [keep] : [])];
  const backend = backendOf(op, ...operands);
  floatOnly(op, gx);
  for (const t of operands) sameDType(op, gx, t);
  const [T, N, G] = gx.shape as [number, number, number];
  const H = h0.shape[1]!;
  const bad =
    gx.rank !== 3 ||
    T < 1 ||
    G !== 3 * H ||
    h0.rank !== 2 ||
    h0.shape[0] !== N ||
    wh.rank !== 2 ||
    wh.shape[0] !== H ||
    wh.shape[1] !== G ||
    (keep !== null && keep.shape.join() !== [T, N, 1].join());
  if (bad) {
    const got = [`gx ${fmtShape(gx.shape)}`, `wh ${fmtShape(wh.shape)}`, `h0 ${fmtShape(h0.shape)}`];
    if (keep) got.push(`keep ${fmtShape(keep.shape)}`);
    throw new WebrnnError(
      op,
      `expected gx [T, N, 3H] (T >= 1), wh [H, 3H], h0 [N, H]${keep ? ', keep [T, N, 1]' : ''}; got ${got.join(', ')}`,
    );
  }
  const dtype = gx.dtype;
  const out = alloc(backend, dtype, [T, N, H]);
  // Per step, for backward: r and u, the candidate hc, and r ⊙ h_prev (the recurrent weight's gradient needs it).
  const acts = alloc(backend, dtype, [T, N, 2 * H]);
  const hcs = alloc(backend, dtype, [T, N, H]);
  const rhs = alloc(backend, dtype, [T, N, H]);
  noGrad(() => {
    const whRU = narrow(wh, 1, 0, 2 * H);
    const whC = narrow(wh, 1, 2 * H, H);
    let hPrev = h0;
    for (let t = 0; t < T; t++) {
      tidy(() => {
        const g = select(gx, 0, t);
        const gates = addmm(narrow(g, 1, 0, 2 * H), hPrev, whRU);
        const [act, rh, hc, h] = [
          select(acts, 0, t),
          select(rhs, 0, t),
          select(hcs, 0, t),
          select(out, 0, t),
        ];
        backend.cell('gruGates', {
          act: act.backendView(),
          rh: rh.backendView(),
          gates: gates.backendView(op),
          hPrev: hPrev.backendView(op),
        });
        const m = matmul(rh, whC);
        backend.cell('gruOut', {
          hc: hc.backendView(),
          h: h.backendView(),
          xc: narrow(g, 1, 2 * H, H).backendView(op),
          m: m.backendView(op),
          act: act.backendView(),
          hPrev: hPrev.backendView(op),
        });
        if (keep) binaryInPlace('mul', h, select(keep, 0, t));
      });
      hPrev = select(out, 0, t);
    }
  });

  record(
    op,
    [gx, wh, h0],
    [out],
    ([gOut], saved, needs) => {
      const [sOut, sActs, sHcs, sRhs, sH0, sWh] = saved as Tensor[];
      const sKeep = keep ? saved[6]! : null;
      const whRU = narrow(sWh!, 1, 0, 2 * H);
      const whC = narrow(sWh!, 1, 2 * H, H);
      const gGx = alloc(backend, dtype, [T, N, 3 * H]);
      let gHNext: Tensor | null = null;
      for (let t = T - 1; t >= 0; t--) {
        const next = tidy(() => {
          let gh = select(gOut!, 0, t);
          if (gHNext) gh = add(gh, gHNext);
          if (sKeep) gh = mul(gh, select(sKeep, 0, t));
          const act = select(sActs!, 0, t);
          const hPrev = t > 0 ? select(sOut!, 0, t - 1) : sH0!;
          const gg = select(gGx, 0, t);
          const gRU = narrow(gg, 1, 0, 2 * H);
          const gPre = narrow(gg, 1, 2 * H, H);
          const ghv = gh.backendView(op);
          backend.cell('gruOutBackward', {
            gPre: gPre.backendView(),
            gGates: gRU.backendView(),
            act: act.backendView(op),
            hc: select(sHcs!, 0, t).backendView(op),
            hPrev: hPrev.backendView(op),
            gH: ghv,
          });
          const gRh = matmul(gPre, whC, { transB: true });
          const gHPrev = alloc(backend, dtype, [N, H]);
          backend.cell('gruGatesBackward', {
            gGates: gRU.backendView(),
            gHPrev: gHPrev.backendView(),
            act: act.backendView(op),
            hPrev: hPrev.backendView(op),
            gH: ghv,
            gRh: gRh.backendView(op),
          });
          return add(gHPrev, matmul(gRU, whRU, { transB: true }));
        });
        gHNext?.dispose();
        gHNext = next;
      }
      let gWh: Tensor | null = null;
      if (needs[1]) {
        gWh = tidy(() => {
          // Every step's previous output, [T*N, H]: h0, then the outputs of steps 0..T-2.
          const first = unsqueeze(sH0!, 0);
          const prev = reshape(T > 1 ? cat([first, narrow(sOut!, 0, 0, T - 1)], 0) : first, [T * N, H]);
          const gA = reshape(gGx, [T * N, 3 * H]);
          return cat(
            [
              matmul(prev, narrow(gA, 1, 0, 2 * H), { transA: true }),
              matmul(reshape(sRhs!, [T * N, H]), narrow(gA, 1, 2 * H, H), { transA: true }),
            ],
            1,
          );
        });
      }
      return [needs[0] ? gGx : null, gWh, needs[2] ? gHNext : null];
    },
    [out, acts, hcs, rhs, h0, wh, ...(keep ? [keep] : [])],
  );
  acts.dispose();
  hcs.dispose();
  rhs.dispose();
  return out;
}
