/**
 * Where each gate sits in the 4H pre-activation row of a fused LSTM cell: 'izfo' is Element-research FastLSTM's
 * order (input, candidate, forget, output), 'ifog' SeqLSTM's (input, forget, output, candidate), 'ifgo' PyTorch's.
 */
export type LstmGateOrder = 'izfo' | 'ifog' | 'ifgo';

/** Offsets (in units of H) of the input, candidate, forget and output gates within a 4H row. */
export function gateOffsets(order: LstmGateOrder): { i: number; z: number; f: number; o: number } {
  switch (order) {
    case 'izfo':
      return { i: 0, z: 1, f: 2, o: 3 };
    case 'ifog':
      return { i: 0, f: 1, o: 2, z: 3 };
    case 'ifgo':
      return { i: 0, f: 1, z: 2, o: 3 };
  }
}
