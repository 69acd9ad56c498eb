import type { LstmGateOrder } from '../backends/backend.js';
import { WebrnnError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, floatOnly, record, sameDType } from './operands.js';
import { contiguous } from './shape.js';

export type { LstmGateOrder };

/**
 * The fused LSTM cell, one op on the tape: from the pre-activation gates [N, 4H] (x W + h U + b, in `order`) and
 * the previous cell [N, H], the new hidden state h = o * tanh(c) and cell c = f * cPrev + i * z. One kernel
 * forward and one backward, where the composed ops would take a dozen; checked against them in the tests.
 */
export function lstmCell(gates: Tensor, cPrev: Tensor, order: LstmGateOrder = 'ifog'): [Tensor, Tensor] {
  const backend = backendOf('lstmCell', gates, cPrev);
  floatOnly('lstmCell', gates);
  sameDType('lstmCell', gates, cPrev);
  if (!['izfo', 'ifog', 'ifgo'].includes(order)) {
    throw new WebrnnError('lstmCell', `gate order must be 'izfo', 'ifog' or 'ifgo', got '${order}'`);
  }
  const [N, G] = gates.shape;
  if (gates.rank !== 2 || cPrev.rank !== 2 || G !== 4 * cPrev.shape[1]! || N !== cPrev.shape[0]) {
    throw new WebrnnError(
      'lstmCell',
      `expected gates [N, 4H] and cPrev [N, H], got gates ${fmtShape(gates.shape)} and cPrev ${fmtShape(cPrev.shape)}`,
    );
  }
  const H = cPrev.shape[1]!;
  const h = alloc(backend, gates.dtype, [N!, H]);
  const c = alloc(backend, gates.dtype, [N!, H]);
  const act = alloc(backend, gates.dtype, [N!, 4 * H]);
  backend.cell(
    'lstmCell',
    {
      h: h.backendView(),
      c: c.backendView(),
      act: act.backendView(),
      gates: gates.backendView('lstmCell'),
      cPrev: cPrev.backendView('lstmCell'),
    },
    order,
  );
  record(
    'lstmCell',
    [gates, cPrev],
    [h, c],
    ([gh, gc], [a, cs, cp]) => {
      const gGates = alloc(backend, gates.dtype, [N!, 4 * H]);
      const gCPrev = alloc(backend, gates.dtype, [N!, H]);
      const ghd = contiguous(gh!);
      const gcd = contiguous(gc!);
      backend.cell(
        'lstmCellBackward',
        {
          gGates: gGates.backendView(),
          gCPrev: gCPrev.backendView(),
          act: a!.backendView(),
          c: cs!.backendView(),
          cPrev: cp!.backendView(),
          gH: ghd.backendView(),
          gC: gcd.backendView(),
        },
        order,
      );
      return [gGates, gCPrev];
    },
    [act, c, cPrev],
  );
  act.dispose();
  return [h, c];
}
