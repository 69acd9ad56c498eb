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
