import { type DeviceName, type Tensor, nn, zerosLike } from '@webrnn/rnn';
import {
  type CoupledLayer,
  type Coupling,
  asSequenceModule,
  backwardConnect,
  forwardConnect,
  lstmLayer,
} from '../shared/coupling.js';

/**
 * The script's two networks: the encoder LookupTableMaskZero -> LSTM layers -> Select(1, -1) (its last step) and
 * the decoder LookupTableMaskZero -> LSTM layers -> Sequencer(MaskZero(Linear)) -> Sequencer(MaskZero(LogSoftMax)),
 * scored by SequencerCriterion(MaskZeroCriterion(ClassNLLCriterion)). Tokens are 1..vocab (0 is padding).
 */
export interface EncoderDecoder {
  readonly coupling: Coupling;
  readonly enc: nn.Sequential;
  readonly dec: nn.Sequential;
  readonly encLayers: readonly CoupledLayer[];
  readonly decLayers: readonly CoupledLayer[];
}

export function buildEncoderDecoder(
  coupling: Coupling,
  vocabSize: number,
  hiddenSize: number,
  numLayers: number,
): EncoderDecoder {
  const enc = new nn.Sequential().add(new nn.LookupTableMaskZero(vocabSize, hiddenSize));
  const dec = new nn.Sequential().add(new nn.LookupTableMaskZero(vocabSize, hiddenSize));
  const encLayers: CoupledLayer[] = [];
  const decLayers: CoupledLayer[] = [];
  for (let i = 0; i < numLayers; i++) {
    encLayers.push(lstmLayer(coupling, hiddenSize, 'encoder'));
    enc.add(asSequenceModule(encLayers[i]!));
    decLayers.push(lstmLayer(coupling, hiddenSize, 'decoder'));
    dec.add(asSequenceModule(decLayers[i]!));
  }
  enc.add(new nn.Select(0, -1)); // Lua Select(1, -1): the last step
  dec.add(new nn.Sequencer(new nn.MaskZero(new nn.Linear(hiddenSize, vocabSize), 1)));
  dec.add(new nn.Sequencer(new nn.MaskZero(new nn.LogSoftMax(), 1)));
  return { coupling, enc, dec, encLayers, decLayers };
}

export function moveTo(m: EncoderDecoder, device: DeviceName): EncoderDecoder {
  m.enc.to(device);
  m.dec.to(device);
  return m;
}

/** Forward through the coupled networks: the decoder's log-probabilities [T, N, vocab]. */
export function coupledForward(m: EncoderDecoder, encIn: Tensor, decIn: Tensor): Tensor {
  m.enc.forward(encIn);
  forwardConnect(m.coupling, m.encLayers, m.decLayers);
  return m.dec.forward(decIn) as Tensor;
}

/**
 * One forward and backward pass, as the script's loop: the decoder's backward, the backward coupling, then the
 * encoder's backward from a zero gradient of its output (it learns only through the coupling). Accumulates the
 * gradients of both networks; returns the loss.
 */
export function coupledStep(
  m: EncoderDecoder,
  criterion: nn.Criterion,
  encIn: Tensor,
  decIn: Tensor,
  decOut: Tensor,
): Tensor {
  const encOut = m.enc.forward(encIn) as Tensor;
  forwardConnect(m.coupling, m.encLayers, m.decLayers);
  const decOutput = m.dec.forward(decIn) as Tensor;
  const err = criterion.forward(decOutput, decOut);
  m.dec.backward(decIn, criterion.backward(decOutput, decOut));
  backwardConnect(m.coupling, m.encLayers, m.decLayers);
  m.enc.backward(encIn, zerosLike(encOut));
  return err;
}
