import { noGrad } from '../autograd/gradMode.js';
import type { LstmGateOrder } from '../backends/backend.js';
import { WebrnnError, fmtShape } from '../errors.js';
import { tidy } from '../scopes.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, checkTensor, floatOnly, record, sameDType } from './operands.js';
import { addmm } from './addmm.js';
import { add, binaryInPlace, copyInPlace } from './elementwise.js';
import { cat } from './join.js';
import { matmul } from './matmul.js';
import { clone, contiguous, narrow, reshape, select, unsqueeze } from './shape.js';

export interface LstmSequenceOptions {
  /** Where the four gates sit in each 4H row (SeqLSTM: 'ifog'; FastLSTM: 'izfo'). */
  readonly order?: LstmGateOrder;
  /**
   * [T, N, 1] of 1 (keep) and 0 (masked): a masked step outputs zero h and c, so the next step starts from a
   * zero state (Torch's maskzero). Not differentiated.
   */
  readonly keep?: Tensor | null;
  /** The LSTMP projection Wo [H, R]: the output (and the recurrent input) is r = h Wo. */
  readonly projection?: Tensor | null;
}

/**
 * A whole LSTM layer over time as one op on the tape. `gx` [T, N, 4H] holds every step's input projection
 * (x Wx + b, one matmul done by the caller); `wh` [R, 4H] is the recurrent weight; `h0` [N, R] and `c0` [N, H]
 * the initial state. Returns the outputs [T, N, R] and the cells [T, N, H] of every step.
 *
 * Forward is, per step, one recurrent matmul, one add and one fused cell kernel writing straight into the output
 * (or, where the backend offers it, one launch for every step: WebGPU's persistent kernel for small batches);
 * backward walks the steps in reverse with the fused cell backward and one matmul per step, and then forms the
 * recurrent weight's gradient over all steps with a single matmul (and the projection's with another), as cuDNN
 * does. Nothing is read back to the host.
 */
export function lstmSequence(
  gx: Tensor,
  wh: Tensor,
  h0: Tensor,
  c0: Tensor,
  opts: LstmSequenceOptions = {},
): [Tensor, Tensor] {
  const op = 'lstmSequence';
  const order = opts?.order ?? 'ifog';
  const keep = opts?.keep ?? null;
  const wo = opts?.projection ?? null;
  const named = { gx, wh, h0, c0, ...(keep ? { keep } : {}), ...(wo ? { projection: wo } : {}) };
  for (const [name, t] of Object.entries(named)) checkTensor(op, t, name);
  const operands = Object.values(named);
  const backend = backendOf(op, ...operands);
  floatOnly(op, gx);
  for (const t of operands) sameDType(op, gx, t);
  const [T, N, G] = gx.shape as [number, number, number];
  const H = c0.shape[1]!;
  const R = wo ? wo.shape[1]! : H;
  const bad =
    gx.rank !== 3 ||
    T < 1 ||
    G !== 4 * H ||
    c0.rank !== 2 ||
    c0.shape[0] !== N ||
    h0.rank !== 2 ||
    h0.shape[0] !== N ||
    h0.shape[1] !== R ||
    wh.rank !== 2 ||
    wh.shape[0] !== R ||
    wh.shape[1] !== G ||
    (wo !== null && (wo.rank !== 2 || wo.shape[0] !== H)) ||
    (keep !== null && keep.shape.join() !== [T, N, 1].join());
  if (bad) {
    const got = [`gx ${fmtShape(gx.shape)}`, `wh ${fmtShape(wh.shape)}`, `h0 ${fmtShape(h0.shape)}`];
    got.push(`c0 ${fmtShape(c0.shape)}`);
    if (wo) got.push(`projection ${fmtShape(wo.shape)}`);
    if (keep) got.push(`keep ${fmtShape(keep.shape)}`);
    throw new WebrnnError(
      op,
      `expected gx [T, N, 4H] (T >= 1), wh [R, 4H], h0 [N, R], c0 [N, H]${wo ? ', projection [H, R]' : ''}` +
        `${keep ? ', keep [T, N, 1]' : ''}; got ${got.join(', ')}`,
    );
  }
  if (!['izfo', 'ifog', 'ifgo'].includes(order)) {
    throw new WebrnnError(op, `gate order must be 'izfo', 'ifog' or 'ifgo', got '${order}'`);
  }

  const out = alloc(backend, gx.dtype, [T, N, R]);
  const cs = alloc(backend, gx.dtype, [T, N, H]);
  const acts = alloc(backend, gx.dtype, [T, N, 4 * H]);
  // With a projection the cell's own h (before Wo) is kept for the projection's gradient.
  const hs = wo ? alloc(backend, gx.dtype, [T, N, H]) : out;
  // A backend may run the whole forward in one launch (WebGPU's persistent kernel for small batches).
  const fused = backend.lstmSequence?.(
    {
      gx: gx.backendView(op),
      wh: wh.backendView(op),
      h0: h0.backendView(op),
      c0: c0.backendView(op),
      keep: keep?.backendView(op) ?? null,
      projection: wo?.backendView(op) ?? null,
      out: out.backendView(),
      cs: cs.backendView(),
      acts: acts.backendView(),
      hs: wo ? hs.backendView() : null,
    },
    order,
  );
  noGrad(() => {
    if (fused) return;
    for (let t = 0; t < T; t++) {
      // A scope per step: its temporaries go back to the backend at once (the CPU reuses their memory next step).
      tidy(() => {
        const hPrev = t > 0 ? select(out, 0, t - 1) : h0;
        const cPrev = t > 0 ? select(cs, 0, t - 1) : c0;
        const gates = addmm(select(gx, 0, t), hPrev, wh);
        const [h, c, a] = [select(hs, 0, t), select(cs, 0, t), select(acts, 0, t)];
        backend.cell(
          'lstmCell',
          {
            h: h.backendView(),
            c: c.backendView(),
            act: a.backendView(),
            gates: gates.backendView(op),
            cPrev: cPrev.backendView(op),
          },
          order,
        );
        if (keep) {
          const k = select(keep, 0, t);
          binaryInPlace('mul', h, k);
          binaryInPlace('mul', c, k);
        }
        if (wo) copyInPlace(select(out, 0, t), matmul(h, wo));
      });
    }
  });
  record(
    op,
    [gx, wh, h0, c0, ...(wo ? [wo] : [])],
    [out, cs],
    ([gOut, gCs], saved, needs) => {
      // Runs inside the tape's own tidy (what is not returned is freed); each step has a scope of its own so
      // that temporaries do not pile up over a long sequence.
      const [sOut, sCs, sActs, sHs, sH0, sC0, sWh] = saved as Tensor[];
      const sKeep = keep ? saved[7]! : null;
      const sWo = wo ? saved[keep ? 8 : 7]! : null;
      const gGx = alloc(backend, gx.dtype, [T, N, 4 * H]);
      // The gradient reaching each step's output r (after masking), for the projection's gradient.
      const gRs = sWo ? alloc(backend, gx.dtype, [T, N, R]) : null;
      let gHNext: Tensor | null = null;
      let gCNext: Tensor | null = null;
      for (let t = T - 1; t >= 0; t--) {
        const [gh, gc] = tidy(() => {
          let gr = select(gOut!, 0, t);
          if (gHNext) gr = add(gr, gHNext);
          let gcT = select(gCs!, 0, t);
          if (gCNext) gcT = add(gcT, gCNext);
          if (sKeep) {
            const k = select(sKeep, 0, t);
            gr = mulBy(gr, k);
            gcT = mulBy(gcT, k);
          }
          if (gRs) copyInPlace(select(gRs, 0, t), gr);
          // Through the projection: dL/dh = dL/dr Wo^T.
          const ghCell = contiguous(sWo ? matmul(gr, sWo, { transB: true }) : gr);
          const gcd = contiguous(gcT);
          const cPrev = t > 0 ? select(sCs, 0, t - 1) : sC0!;
          const gGates = select(gGx, 0, t);
          const gCPrev = alloc(backend, gx.dtype, [N, H]);
          backend.cell(
            'lstmCellBackward',
            {
              gGates: gGates.backendView(),
              gCPrev: gCPrev.backendView(),
              act: select(sActs, 0, t).backendView(op),
              c: select(sCs, 0, t).backendView(op),
              cPrev: cPrev.backendView(op),
              gH: ghCell.backendView(op),
              gC: gcd.backendView(op),
            },
            order,
          );
          return [matmul(gGates, sWh!, { transB: true }), gCPrev];
        });
        gHNext?.dispose();
        gCNext?.dispose();
        gHNext = gh!;
        gCNext = gc!;
      }
      let gWh: Tensor | null = null;
      let gWo: Tensor | null = null;
      if (needs[1]) {
        gWh = tidy(() => {
          // Every step's previous output, [T*N, R]: h0, then the outputs of steps 0..T-2.
          const first = unsqueeze(sH0!, 0);
          const prev = T > 1 ? cat([first, narrow(sOut!, 0, 0, T - 1)], 0) : first;
          return matmul(reshape(prev, [T * N, R]), reshape(gGx, [T * N, 4 * H]), { transA: true });
        });
      }
      if (gRs && needs[4]) {
        gWo = tidy(() => matmul(reshape(sHs!, [T * N, H]), reshape(gRs, [T * N, R]), { transA: true }));
      }
      return [needs[0] ? gGx : null, gWh, needs[2] ? gHNext : null, needs[3] ? gCNext : null, gWo];
    },
    [out, cs, acts, hs, h0, c0, wh, ...(keep ? [keep] : []), ...(wo ? [wo] : [])],
  );
  acts.dispose();
  if (hs !== out) hs.dispose();
  return [out, cs];
}

/** a * b as a fresh dense tensor (b broadcast), without recording. */
function mulBy(a: Tensor, b: Tensor): Tensor {
  const y = clone(a);
  binaryInPlace('mul', y, b);
  return y;
}
