import { floatTensor } from '../module/checks.js';
import { type Tensor, logSoftmax } from '../module/deps.js';
import { Module } from '../module/Module.js';
import { softmaxDim } from './SoftMax.js';

/** log(SoftMax(x)) over the same dimension as nn.SoftMax, computed by log-sum-exp (torch's nn.LogSoftMax). */
export class LogSoftMax extends Module<Tensor, Tensor> {
  override updateOutput(input: Tensor): Tensor {
    const x = floatTensor(input);
    return logSoftmax(x, softmaxDim(x));
  }
}
