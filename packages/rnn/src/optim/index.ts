/**
 * The `optim` namespace: Torch's optimisers, as classes over parameter lists or getParameters() vectors
 * (`new optim.SGD(params, config)`, `step()`, `zeroGrad()`) and in Torch's functional form
 * (`optim.sgd(feval, x, config, state)`).
 */
export { Optimizer, disposeState, type Feval, type ParamsArg } from './Optimizer.js';
export { SGD, sgd, sgdUpdate, type SGDConfig, type SGDState } from './SGD.js';
export { Adam, adam, adamUpdate, type AdamConfig, type AdamState } from './Adam.js';
export { RMSprop, rmsprop, rmspropUpdate, type RMSpropConfig, type RMSpropState } from './RMSprop.js';
export { clipGradNorm, clipGradNormAsync } from './clipGradNorm.js';
