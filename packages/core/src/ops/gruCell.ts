import type { View } from '../backends/backend.js';
import { WebrnnError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, floatOnly, record, sameDType } from './operands.js';
import { matmul } from './matmul.js';

export interface GruCellOptions {
  /**
   * Apply `uc` transposed, (r ⊙ hPrev) ucᵀ: nn.GRU's o2h stores the candidate weight as a Linear weight
   * [out, in]; SeqGRU's layout (the default) is applied as is.
   */
  readonly transU?: boolean;
}

/**
 * One step of Torch7's GRU (nn.GRU, nn.SeqGRU; Cho et al.: the reset gate applies before the recurrent product) as
 * one op on the tape. `gatesRU` [N, 2H] holds the pre-activations of the reset and update gates (x Wx + hPrev Wh
 * + b, r then u), `xc` [N, H] the candidate's input term x Wxc + bc, `uc` [H, H] the candidate's recurrent weight:
 *
 *   r = σ(a_r), u = σ(a_u);  hc = tanh(xc + (r ⊙ hPrev) uc);  h = (1 - u) ⊙ hc + u ⊙ hPrev
 *
 * Because r multiplies hPrev before the matmul the cell cannot be a single elementwise kernel: forward is a fused
 * kernel (r, u, r ⊙ hPrev), the backend's matmul, and a fused kernel (hc, h); backward two fused kernels and the
 * matmuls for the gradients through and of uc. Returns h [N, H]; checked against the composed ops in the tests.
 */
export function gruCell(
  gatesRU: Tensor,
  xc: Tensor,
  hPrev: Tensor,
  uc: Tensor,
  opts: GruCellOptions = {},
): Tensor {
  const op = 'gruCell';
  const backend = backendOf(op, gatesRU, xc, hPrev, uc);
  floatOnly(op, gatesRU, 'gatesRU');
  for (const t of [xc, hPrev, uc]) sameDType(op, gatesRU, t);
  const transU = opts.transU ?? false;
  const [N, H] = [hPrev.shape[0]!, hPrev.shape[1]!];
  const fits = (t: Tensor, rows: number, cols: number) =>
    t.rank === 2 && t.shape[0] === rows && t.shape[1] === cols;
  if (hPrev.rank !== 2 || !fits(gatesRU, N, 2 * H) || !fits(xc, N, H) || !fits(uc, H, H)) {
    throw new WebrnnError(
      op,
      `expected gatesRU [N, 2H], xc [N, H], hPrev [N, H] and uc [H, H]; got gatesRU ${fmtShape(gatesRU.shape)}, ` +
        `xc ${fmtShape(xc.shape)}, hPrev ${fmtShape(hPrev.shape)} and uc ${fmtShape(uc.shape)}`,
    );
  }
  const dtype = gatesRU.dtype;
  const act = alloc(backend, dtype, [N, 2 * H]);
  const rh = alloc(backend, dtype, [N, H]);
  const m = alloc(backend, dtype, [N, H]);
  const hc = alloc(backend, dtype, [N, H]);
  const h = alloc(backend, dtype, [N, H]);
  const hPrevView = hPrev.backendView(op);
  backend.cell('gruGates', {
    act: act.backendView(),
    rh: rh.backendView(),
    gates: gatesRU.backendView(op),
    hPrev: hPrevView,
  });
  backend.matmul({ a: rh.backendView(), b: weightView(uc, transU), out: m.backendView() });
  backend.cell('gruOut', {
    hc: hc.backendView(),
    h: h.backendView(),
    xc: xc.backendView(op),
    m: m.backendView(),
    act: act.backendView(),
    hPrev: hPrevView,
  });
  m.dispose();
  record(
    op,
    [gatesRU, xc, hPrev, uc],
    [h],
    ([gh], [sAct, sHc, sHPrev, sRh, sUc], needs) => {
      // Runs inside the tape's tidy: whatever is not returned is freed.
      const ghv = gh!.backendView(op);
      const gPre = alloc(backend, dtype, [N, H]);
      const gGates = alloc(backend, dtype, [N, 2 * H]);
      backend.cell('gruOutBackward', {
        gPre: gPre.backendView(),
        gGates: gGates.backendView(),
        act: sAct!.backendView(),
        hc: sHc!.backendView(),
        hPrev: sHPrev!.backendView(),
        gH: ghv,
      });
      let gHPrev: Tensor | null = null;
      if (needs[0] || needs[2]) {
        // m = rh U (or rh Uᵀ): the gradient of rh is gPre Uᵀ (or gPre U).
        const gRh = matmul(gPre, sUc!, { transB: !transU });
        gHPrev = alloc(backend, dtype, [N, H]);
        backend.cell('gruGatesBackward', {
          gGates: gGates.backendView(),
          gHPrev: gHPrev.backendView(),
          act: sAct!.backendView(),
          hPrev: sHPrev!.backendView(),
          gH: ghv,
          gRh: gRh.backendView(),
        });
      }
      let gUc: Tensor | null = null;
      // In uc's own layout, so that accumulating into a parameter's .grad reads memory in order.
      if (needs[3])
        gUc = transU ? matmul(gPre, sRh!, { transA: true }) : matmul(sRh!, gPre, { transA: true });
      return [needs[0] ? gGates : null, needs[1] ? gPre : null, needs[2] ? gHPrev : null, gUc];
    },
    [act, hc, hPrev, rh, uc],
  );
  act.dispose();
  rh.dispose();
  hc.dispose();
  return h;
}

/** uc as the matmul's right operand: itself, or its transpose as a view with swapped strides (no copy). */
function weightView(uc: Tensor, trans: boolean): View {
  const v = uc.backendView('gruCell');
  if (!trans) return v;
  return { ...v, shape: [v.shape[1]!, v.shape[0]!], strides: [v.strides[1]!, v.strides[0]!] };
}
