import { type Tensor, nn, select } from '@webrnn/rnn';

/**
 * Element-research's encoder-decoder coupling (examples/encoder-decoder-coupling.lua): the decoder's LSTM layers
 * start from the encoder's last output and cell, and after the decoder's backward the gradients with respect to
 * those initial states go back into the encoder's last step. Two ways to write it, as the script's `useSeqLSTM`:
 *
 * - `userPrev` (useSeqLSTM = true): SeqLSTM layers and their coupling fields,
 *     dec.userPrevOutput = enc.output[S-1]; dec.userPrevCell = enc.cell[S-1]
 *     enc.gradPrevOutput = dec.userGradPrevOutput; enc.userNextGradCell = dec.userGradPrevCell
 * - `state` (useSeqLSTM = false): LSTM step modules in Sequencers, and the hidden-state API,
 *     dec:setHiddenState(enc:getHiddenState())  (the script copies enc.outputs/cells[S] into userPrev*)
 *     enc:setGradHiddenState(S, dec:getGradHiddenState(0))
 *   A Sequencer forgets its module's state before each sequence (Torch's does too, which is why the script goes
 *   through userPrevOutput there): the decoder's LSTMs remember their state instead (`remember('both')`), so the
 *   state set before its forward is where the sequence starts; it is set again before every forward.
 */
export const COUPLINGS = ['userPrev', 'state'] as const;
export type Coupling = (typeof COUPLINGS)[number];

/** The recurrent layers that are coupled, layer i of the encoder to layer i of the decoder. */
export type CoupledLayer = nn.SeqLSTM | nn.LSTM;

/** A new LSTM layer for the coupling style, masking zero (padding) inputs as the script's layers do. */
export function lstmLayer(coupling: Coupling, size: number, role: 'encoder' | 'decoder'): CoupledLayer {
  if (coupling === 'userPrev') return new nn.SeqLSTM(size, size).maskZero();
  const lstm = new nn.LSTM(size, size).maskZero(1);
  if (role === 'decoder') lstm.remember('both');
  return lstm;
}

/** The module to add to a Sequential for a layer: a SeqLSTM as it is, an LSTM in a Sequencer. */
export const asSequenceModule = (layer: CoupledLayer): nn.Module =>
  layer instanceof nn.SeqLSTM ? layer : new nn.Sequencer(layer);

/** Forward coupling: copy the encoder's last output and cell to the decoder's LSTMs, layer by layer. */
export function forwardConnect(
  coupling: Coupling,
  enc: readonly CoupledLayer[],
  dec: readonly CoupledLayer[],
): void {
  enc.forEach((e, i) => {
    const d = dec[i]!;
    if (coupling === 'userPrev') {
      const [encLayer, decLayer] = [e as nn.SeqLSTM, d as nn.SeqLSTM];
      const output = encLayer.output as Tensor;
      const S = output.shape[0]!;
      decLayer.userPrevOutput = select(output, 0, S - 1);
      decLayer.userPrevCell = select(encLayer.cell!, 0, S - 1);
    } else {
      d.setHiddenState(e.getHiddenState()); // [h, c] after the encoder's last step
    }
  });
}

/** Backward coupling: the decoder's gradients with respect to its initial states into the encoder's last step. */
export function backwardConnect(
  coupling: Coupling,
  enc: readonly CoupledLayer[],
  dec: readonly CoupledLayer[],
): void {
  enc.forEach((e, i) => {
    const d = dec[i]!;
    if (coupling === 'userPrev') {
      const [encLayer, decLayer] = [e as nn.SeqLSTM, d as nn.SeqLSTM];
      encLayer.gradPrevOutput = decLayer.userGradPrevOutput;
      encLayer.userNextGradCell = decLayer.userGradPrevCell;
    } else {
      e.setGradHiddenState(d.getGradHiddenState());
    }
  });
}
