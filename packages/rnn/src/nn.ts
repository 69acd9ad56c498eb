/**
 * The `nn` namespace: Torch's class names, so that `new nn.Linear(7, 10)` reads as in Torch.
 */
export { Module } from './module/Module.js';
export { Container } from './module/Container.js';
export { Sequential } from './nn/Sequential.js';
export { Linear } from './nn/Linear.js';
export { Criterion } from './criterion/Criterion.js';
export { ClassNLLCriterion } from './criterion/ClassNLLCriterion.js';
export { MSECriterion } from './criterion/MSECriterion.js';
export { SequencerCriterion } from './criterion/SequencerCriterion.js';
export { AbstractRecurrent, type RememberMode } from './rnn/AbstractRecurrent.js';
export { Recursor } from './rnn/Recursor.js';
export { Sequencer } from './rnn/Sequencer.js';
export { FastLSTM } from './rnn/FastLSTM.js';
export type { FastLSTMOptions } from './rnn/cells/fastLSTMOptions.js';
export { LSTM, type LSTMGate } from './rnn/LSTM.js';
export { GRU } from './rnn/GRU.js';
export { MuFuRu } from './rnn/MuFuRu.js';
export type { MuFuRuOp } from './rnn/cells/mufuruOps.js';
export { Sigmoid } from './nn/Sigmoid.js';
export { Tanh } from './nn/Tanh.js';
export { ReLU } from './nn/ReLU.js';
export { HardTanh } from './nn/HardTanh.js';
export { SoftMax } from './nn/SoftMax.js';
export { LogSoftMax } from './nn/LogSoftMax.js';
export { Dropout } from './nn/Dropout.js';
export { Identity } from './nn/Identity.js';
export { Jacobian, type JacobianOptions } from './nn/Jacobian.js';
export { CAddTable } from './nn/CAddTable.js';
export { CMulTable } from './nn/CMulTable.js';
export { CSubTable } from './nn/CSubTable.js';
export { JoinTable } from './nn/JoinTable.js';
export { SplitTable } from './nn/SplitTable.js';
export { SelectTable } from './nn/SelectTable.js';
export { NarrowTable } from './nn/NarrowTable.js';
export { ParallelTable } from './nn/ParallelTable.js';
export { ConcatTable } from './nn/ConcatTable.js';
export { MapTable } from './nn/MapTable.js';
export { ZipTable } from './nn/ZipTable.js';
export { FlattenTable } from './nn/FlattenTable.js';
export { Reshape } from './nn/Reshape.js';
export { View } from './nn/View.js';
export { Transpose } from './nn/Transpose.js';
export { Select } from './nn/Select.js';
export { CMul } from './nn/CMul.js';
export { Add } from './nn/Add.js';
export { MulConstant } from './nn/MulConstant.js';
export { Copy } from './nn/Copy.js';
export { LookupTable } from './nn/LookupTable.js';
export { CrossEntropyCriterion } from './criterion/CrossEntropyCriterion.js';
export { BCECriterion } from './criterion/BCECriterion.js';
export { Recurrent } from './rnn/Recurrent.js';
export { Recurrence, type OutputSize } from './rnn/Recurrence.js';
export { NormStabilizer } from './rnn/NormStabilizer.js';
export { Repeater } from './rnn/Repeater.js';
export { RepeaterCriterion } from './criterion/RepeaterCriterion.js';
export { SeqLSTM } from './rnn/SeqLSTM.js';
export { SeqLSTMP } from './rnn/SeqLSTMP.js';
export { SeqGRU } from './rnn/SeqGRU.js';
export { MaskZero } from './nn/MaskZero.js';
export { LookupTableMaskZero } from './nn/LookupTableMaskZero.js';
export { MaskZeroCriterion } from './criterion/MaskZeroCriterion.js';
export { VariableLength } from './rnn/VariableLength.js';
export {
  type Buckets,
  type PadOptions,
  type PaddedBatch,
  bucketByLength,
  padSequences,
  restoreOrder,
  sortByLength,
} from './rnn/bucket.js';
export { RecurrentAttention } from './rnn/RecurrentAttention.js';
export { Reinforce, reinforce } from './reinforce/Reinforce.js';
export { ReinforceNormal } from './reinforce/ReinforceNormal.js';
export { ReinforceCategorical } from './reinforce/ReinforceCategorical.js';
export { ReinforceBernoulli } from './reinforce/ReinforceBernoulli.js';
export { VRClassReward } from './reinforce/VRClassReward.js';
export { SpatialGlimpse } from './reinforce/SpatialGlimpse.js';
export { SeqReverseSequence } from './rnn/SeqReverseSequence.js';
export { BiSequencer } from './rnn/BiSequencer.js';
export { BiSequencerLM } from './rnn/BiSequencerLM.js';
export { SeqBGRU, SeqBLSTM, SeqBRNN, type SeqLayerFactory } from './rnn/SeqBRNN.js';
export {
  AdditiveAttention,
  Attention,
  type AttentionOptions,
  DotAttention,
  type DotAttentionOptions,
  type LuongScore,
} from './attention/index.js';
export { LinearNoBias } from './nn/LinearNoBias.js';
export { SAdd } from './nn/SAdd.js';
export { ZeroGrad } from './nn/ZeroGrad.js';
export { CopyGrad } from './nn/CopyGrad.js';
export { Padding } from './nn/Padding.js';
export { TrimZero } from './nn/TrimZero.js';
export { NCEModule } from './nn/NCEModule.js';
export { NCECriterion } from './criterion/NCECriterion.js';
export { AliasMultinomial } from './nn/aliasMultinomial.js';
export { Constant } from './nn/Constant.js';
export { ParallelCriterion } from './criterion/ParallelCriterion.js';
export { ModuleCriterion } from './criterion/ModuleCriterion.js';
