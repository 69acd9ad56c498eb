/** dpnn's REINFORCE modules and criteria, and the glimpse sensor of the recurrent visual attention model. */
export { Reinforce, reinforce, recordCustom } from './Reinforce.js';
export { ReinforceNormal } from './ReinforceNormal.js';
export { ReinforceCategorical } from './ReinforceCategorical.js';
export { ReinforceBernoulli } from './ReinforceBernoulli.js';
export { VRClassReward } from './VRClassReward.js';
export { SpatialGlimpse } from './SpatialGlimpse.js';
