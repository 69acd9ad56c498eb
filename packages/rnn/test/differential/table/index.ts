import type { OpEntry } from '../../../../core/test/differential/cases.js';
import { ATTENTION } from './attention.js';
import { CRITERIONS, REWARD } from './criterions.js';
import { LAYERS } from './layers.js';
import { NCE } from './nce.js';
import { RECURRENT } from './recurrent.js';
import { RECURRENT_PARITY } from './recurrentParity.js';
import { TABLES } from './tables.js';

/** Every module and criterion of `nn`, as the differential harness knows them. */
export const MODULE_TABLE: readonly OpEntry[] = [
  ...LAYERS,
  ...TABLES,
  ...CRITERIONS,
  ...REWARD,
  ...RECURRENT,
  ...RECURRENT_PARITY,
  ...ATTENTION,
  ...NCE,
];

/**
 * Exports of `nn` that are not run by the harness, each with its reason. A new export must go into
 * MODULE_TABLE or here: differential.test.ts checks that nothing is in neither.
 */
export const NOT_MODULES: Readonly<Record<string, string>> = {
  Module: 'abstract base class: every entry runs its forward, backward, type() and to()',
  Jacobian: "Torch's Jacobian checker, a test tool rather than a module (jacobianApi.test.ts)",
  Container: 'abstract base class of Sequential, ConcatTable, ParallelTable, MapTable, MaskZero... (all run)',
  Criterion: 'abstract base class of the criterions (all run)',
  AbstractRecurrent:
    'abstract base class of Recursor, FastLSTM, LSTM, GRU, Recurrent, Recurrence... (all run)',
  Reinforce: 'abstract base class of ReinforceNormal, ReinforceBernoulli and ReinforceCategorical (all run)',
  Attention: 'abstract base class of AdditiveAttention and DotAttention (both run)',
  reinforce:
    'hands a reward to the REINFORCE modules of a tree: the Reinforce*, RecurrentAttention and VRClassReward entries call it',
  sortByLength: 'host-side ordering of a list of lengths: no tensors (variableLength.test.ts)',
  bucketByLength: 'host-side grouping of a list of lengths: no tensors (variableLength.test.ts)',
  restoreOrder: 'host-side permutation of a list of outputs: no numerics of its own (variableLength.test.ts)',
  AliasMultinomial:
    "NCEModule's host-side noise sampler: no tensors (its distribution is tested in nce.test.ts; NCEModule's entries draw from it)",
};
