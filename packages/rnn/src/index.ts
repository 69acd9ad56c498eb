/**
 * @webrnn/rnn: Torch7's nn and rnn packages in TypeScript. Everything a user needs, core included:
 * `import { nn, tensor, tidy } from '@webrnn/rnn'`.
 */
export * from '@webrnn/core';
export * as nn from './nn.js';
export type { Activity } from './module/activity.js';
export { ModuleError } from './module/errors.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
