import type { Activity } from './activity.js';
import { floatTensor } from './checks.js';
import { sigmoid } from './deps.js';
import { Module } from './Module.js';

/** y = 1 / (1 + exp(-x)) elementwise (torch's nn.Sigmoid); the kernel is the numerically stable form. */
export class Sigmoid extends Module {
  override updateOutput(input: Activity): Activity {
    return sigmoid(floatTensor(input));
  }
}
