import type { Activity } from './activity.js';
import { floatTensor } from './checks.js';
import { logSoftmax } from './deps.js';
import { Module } from './Module.js';
import { softmaxDim } from './SoftMax.js';

/** log(SoftMax(x)) over the same dimension as nn.SoftMax, computed by log-sum-exp (torch's nn.LogSoftMax). */
export class LogSoftMax extends Module {
  override updateOutput(input: Activity): Activity {
    const x = floatTensor(input);
    return logSoftmax(x, softmaxDim(x));
  }
}
