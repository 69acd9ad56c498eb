import type { Activity } from './activity.js';
import { floatTensor } from './checks.js';
import { tanh } from './deps.js';
import { Module } from './Module.js';

/** y = tanh(x) elementwise (torch's nn.Tanh). */
export class Tanh extends Module {
  override updateOutput(input: Activity): Activity {
    return tanh(floatTensor(input));
  }
}
