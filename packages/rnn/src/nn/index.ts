/**
 * The `nn` namespace: Torch's class names, so that `new nn.Linear(7, 10)` reads as in Torch.
 */
export { Module } from './Module.js';
export { Container } from './Container.js';
export { Sequential } from './Sequential.js';
export { Linear } from './Linear.js';
export { Criterion } from '../criterion/Criterion.js';
export { ClassNLLCriterion } from '../criterion/ClassNLLCriterion.js';
export { MSECriterion } from '../criterion/MSECriterion.js';
export { SequencerCriterion } from '../criterion/SequencerCriterion.js';
export { AbstractRecurrent, type RememberMode } from '../rnn/AbstractRecurrent.js';
export { Recursor } from '../rnn/Recursor.js';
export { Sequencer } from '../rnn/Sequencer.js';
export { FastLSTM } from '../rnn/FastLSTM.js';
export type { FastLSTMOptions } from '../rnn/cells/fastLSTMOptions.js';
export { LSTM, type LSTMGate } from '../rnn/LSTM.js';
export { GRU } from '../rnn/GRU.js';
export { MuFuRu } from '../rnn/MuFuRu.js';
export type { MuFuRuOp } from '../rnn/cells/mufuruOps.js';
export { Sigmoid } from './Sigmoid.js';
export { Tanh } from './Tanh.js';
export { ReLU } from './ReLU.js';
export { HardTanh } from './HardTanh.js';
export { SoftMax } from './SoftMax.js';
export { LogSoftMax } from './LogSoftMax.js';
export { Dropout } from './Dropout.js';
export { Identity } from './Identity.js';
export { Jacobian, type JacobianOptions } from './Jacobian.js';
export { CAddTable } from './CAddTable.js';
export { CMulTable } from './CMulTable.js';
export { CSubTable } from './CSubTable.js';
export { JoinTable } from './JoinTable.js';
export { SplitTable } from './SplitTable.js';
export { SelectTable } from './SelectTable.js';
export { NarrowTable } from './NarrowTable.js';
export { ParallelTable } from './ParallelTable.js';
export { ConcatTable } from './ConcatTable.js';
export { MapTable } from './MapTable.js';
export { ZipTable } from './ZipTable.js';
export { FlattenTable } from './FlattenTable.js';
export { Reshape } from './Reshape.js';
export { View } from './View.js';
export { Transpose } from './Transpose.js';
export { Select } from './Select.js';
export { CMul } from './CMul.js';
export { Add } from './Add.js';
export { MulConstant } from './MulConstant.js';
export { Copy } from './Copy.js';
export { LookupTable } from './LookupTable.js';
export { CrossEntropyCriterion } from '../criterion/CrossEntropyCriterion.js';
export { BCECriterion } from '../criterion/BCECriterion.js';
export { Recurrent } from '../rnn/Recurrent.js';
export { Recurrence, type OutputSize } from '../rnn/Recurrence.js';
export { NormStabilizer } from '../rnn/NormStabilizer.js';
export { Repeater } from '../rnn/Repeater.js';
export { RepeaterCriterion } from '../criterion/RepeaterCriterion.js';
export { SeqLSTM } from '../rnn/SeqLSTM.js';
export { SeqLSTMP } from '../rnn/SeqLSTMP.js';
export { SeqGRU } from '../rnn/SeqGRU.js';
export { MaskZero } from './MaskZero.js';
export { LookupTableMaskZero } from './LookupTableMaskZero.js';
export { MaskZeroCriterion } from '../criterion/MaskZeroCriterion.js';
export { VariableLength } from '../rnn/VariableLength.js';
export {
  type Buckets,
  type PadOptions,
  type PaddedBatch,
  bucketByLength,
  padSequences,
  restoreOrder,
  sortByLength,
} from '../rnn/bucket.js';
export { RecurrentAttention } from '../rnn/RecurrentAttention.js';
export { Reinforce, reinforce } from '../reinforce/Reinforce.js';
export { ReinforceNormal } from '../reinforce/ReinforceNormal.js';
export { ReinforceCategorical } from '../reinforce/ReinforceCategorical.js';
export { ReinforceBernoulli } from '../reinforce/ReinforceBernoulli.js';
export { VRClassReward } from '../reinforce/VRClassReward.js';
export { SpatialGlimpse } from '../reinforce/SpatialGlimpse.js';
export { SeqReverseSequence } from '../rnn/SeqReverseSequence.js';
export { BiSequencer } from '../rnn/BiSequencer.js';
export { BiSequencerLM } from '../rnn/BiSequencerLM.js';
export { SeqBGRU, SeqBLSTM, SeqBRNN, type SeqLayerFactory } from '../rnn/SeqBRNN.js';
export {
  AdditiveAttention,
  Attention,
  type AttentionOptions,
  DotAttention,
  type DotAttentionOptions,
  type LuongScore,
} from '../attention/index.js';
export { LinearNoBias } from './LinearNoBias.js';
export { SAdd } from './SAdd.js';
export { ZeroGrad } from './ZeroGrad.js';
export { CopyGrad } from './CopyGrad.js';
export { Padding } from './Padding.js';
export { TrimZero } from './TrimZero.js';
export { NCEModule } from './NCEModule.js';
export { NCECriterion } from '../criterion/NCECriterion.js';
export { AliasMultinomial } from './aliasMultinomial.js';
